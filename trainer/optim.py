"""The optimizer named by the `optimizer` hyperparameter."""

from __future__ import annotations

from collections.abc import Iterable

import torch

from trainer.hyperparameters import Hyperparameters

__all__ = ["build_optimizer"]


def build_optimizer(
    parameters: Iterable[torch.nn.Parameter], hp: Hyperparameters
) -> torch.optim.Optimizer:
    """Return an SGD (with `momentum`), Adam or AdamW optimizer over `parameters`.

    `weight_decay` is an L2 term in the gradient for sgd and adam, and decoupled from
    the gradient for adamw; `momentum` only applies to sgd.

    Raises:
        ValueError: `hp.optimizer` is unknown (parse_hyperparameters refuses it first).
    """
    if hp.optimizer == "sgd":
        return torch.optim.SGD(
            parameters, lr=hp.lr, momentum=hp.momentum, weight_decay=hp.weight_decay
        )
    if hp.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=hp.lr, weight_decay=hp.weight_decay)
    if hp.optimizer == "adamw":
        return torch.optim.AdamW(parameters, lr=hp.lr, weight_decay=hp.weight_decay)
    raise ValueError(f"unknown optimizer {hp.optimizer!r}")
