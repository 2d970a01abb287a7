"""Learning-rate schedules, stepped once per epoch.

`ReduceLROnPlateau` needs the epoch's value of a metric while the other schedulers
need nothing; both kinds answer `Schedule.step(epoch_metrics)`, so the training loop
does not tell them apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LRScheduler, ReduceLROnPlateau, StepLR

from trainer.hyperparameters import Hyperparameters
from trainer.objective import Objective, resolve_objective

__all__ = ["EpochSchedule", "PlateauSchedule", "Schedule", "build_schedule", "current_lr"]


class Schedule(Protocol):
    def step(self, epoch_metrics: Mapping[str, float]) -> None:
        """Advance one epoch, after the epoch's metrics are known.

        Args:
            epoch_metrics: the epoch's printed values by name (train_loss, val_loss,
                val_accuracy...).
        """
        ...


@dataclass(frozen=True)
class EpochSchedule:
    """A scheduler that follows the epoch count alone; None keeps the learning rate."""

    scheduler: LRScheduler | None

    def step(self, epoch_metrics: Mapping[str, float]) -> None:
        if self.scheduler is not None:
            self.scheduler.step()


@dataclass(frozen=True)
class PlateauSchedule:
    """ReduceLROnPlateau, stepped with the epoch's value of the watched objective."""

    scheduler: ReduceLROnPlateau
    objective: Objective

    def step(self, epoch_metrics: Mapping[str, float]) -> None:
        """Raises KeyError if the watched metric is not among `epoch_metrics`."""
        self.scheduler.step(epoch_metrics[self.objective.metric])


def current_lr(optimizer: torch.optim.Optimizer) -> float:
    """Return the learning rate of the optimizer's first parameter group."""
    return float(optimizer.param_groups[0]["lr"])


def build_schedule(optimizer: torch.optim.Optimizer, hp: Hyperparameters) -> Schedule:
    """Return the schedule named by `hp.scheduler` over `optimizer`.

    `plateau` watches `_tuning_objective_metric`, minimized or maximized as its name
    says (val_loss: min, val_accuracy: max), or val_loss when no objective was given,
    so the learning rate drops when the number the tuner judges by stops improving.

    Raises:
        ValueError: `hp.scheduler` is unknown (parse_hyperparameters refuses it first).
        ConfigError: the objective's name does not tell its direction.
    """
    if hp.scheduler == "none":
        return EpochSchedule(None)
    if hp.scheduler == "step":
        return EpochSchedule(StepLR(optimizer, step_size=hp.step_size, gamma=hp.gamma))
    if hp.scheduler == "cosine":
        return EpochSchedule(CosineAnnealingLR(optimizer, T_max=hp.t_max, eta_min=hp.eta_min))
    if hp.scheduler == "plateau":
        objective = resolve_objective(hp.objective_metric)
        plateau = ReduceLROnPlateau(
            optimizer, mode=objective.mode, factor=hp.factor, patience=hp.patience
        )
        return PlateauSchedule(plateau, objective)
    raise ValueError(f"unknown scheduler {hp.scheduler!r}")
