"""Training losses, including the two that torch does not ship: focal and listwise softmax.

The validation loss is the training loss on the validation split, so train_loss and
val_loss can be compared. Runs trained with different losses therefore print val_loss
on different scales: a tuning job that searches over `loss` should optimize a metric
such as val_accuracy instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from trainer.hyperparameters import Hyperparameters

__all__ = ["FocalLoss", "ListwiseSoftmaxLoss", "build_loss"]

# Huber's switch from quadratic to linear, in standard deviations of the target.
_HUBER_DELTA = 1.0


class FocalLoss(nn.Module):
    """Focal loss (Lin et al. 2017) for multiclass logits, mean over examples.

    FL = -alpha_t * (1 - p_t)**gamma * log(p_t), where p_t is the softmax probability
    of the true class. It shrinks the loss of examples the model already gets right,
    so training attends to hard ones. With gamma=0 and no alpha it is cross entropy.

    Args:
        gamma: focusing exponent, >= 0.
        alpha: class weights: one weight for every class, a weight per class, or None
            for no weighting. The mean is a plain mean over examples, not divided by
            the weights' sum as `nn.CrossEntropyLoss(weight=...)` does.
    """

    alpha: torch.Tensor | None

    def __init__(self, gamma: float = 2.0, alpha: float | Sequence[float] | None = None) -> None:
        super().__init__()
        self.gamma = gamma
        self.register_buffer("alpha", None if alpha is None else torch.tensor(alpha))

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        log_pt = F.log_softmax(logits, dim=-1).gather(-1, target.unsqueeze(-1)).squeeze(-1)
        # Clamped away from 0: for 0 < gamma < 1 the gradient of (1 - p_t)**gamma at
        # p_t = 1 is infinite, and infinity times log(1) = 0 is nan.
        one_minus_pt = (1 - log_pt.exp()).clamp_min(torch.finfo(logits.dtype).tiny)
        loss = -(one_minus_pt**self.gamma) * log_pt
        if self.alpha is not None:
            loss = loss * (self.alpha if self.alpha.dim() == 0 else self.alpha[target])
        return loss.mean()


class ListwiseSoftmaxLoss(nn.Module):
    """ListNet's top-one loss (Cao et al. 2007), mean over queries.

    For each query, the cross entropy between softmax(relevance) and softmax(scores)
    over its documents: the model is pushed to give the most probability of ranking
    first to the most relevant documents. A query whose documents are all equally
    relevant asks for equal scores.

    Scores and relevance are shaped (queries, documents); every query in a batch has
    the same number of documents, so no padding or mask is needed.
    """

    def forward(self, scores: torch.Tensor, relevance: torch.Tensor) -> torch.Tensor:
        target = F.softmax(relevance, dim=-1)
        return -(target * F.log_softmax(scores, dim=-1)).sum(dim=-1).mean()


def build_loss(hp: Hyperparameters) -> nn.Module:
    """Return the loss named by `hp.loss`, configured from `hp`.

    Raises:
        ValueError: `hp.loss` is unknown (parse_hyperparameters refuses it first).
    """
    if hp.loss == "cross_entropy":
        return nn.CrossEntropyLoss()
    if hp.loss == "focal":
        # parse_hyperparameters has checked that a list holds one weight per class.
        return FocalLoss(gamma=hp.focal_gamma, alpha=hp.focal_alpha)
    if hp.loss == "label_smoothing":
        # Soft targets: 1 - eps + eps/K on the true class, eps/K on each of the others.
        return nn.CrossEntropyLoss(label_smoothing=hp.label_smoothing)
    if hp.loss == "mse":
        return nn.MSELoss()
    if hp.loss == "mae":
        return nn.L1Loss()
    if hp.loss == "huber":
        return nn.HuberLoss(delta=_HUBER_DELTA)
    if hp.loss == "listwise_softmax":
        return ListwiseSoftmaxLoss()
    raise ValueError(f"unknown loss {hp.loss!r}")
