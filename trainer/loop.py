"""The training loop: one pass over the training split, one over validation, per epoch."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import torch
from torch import nn
from torchmetrics.aggregation import MeanMetric

from trainer.data import Loaders
from trainer.errors import TrainingDiverged
from trainer.log import batch_line
from trainer.metrics import ValidationMetrics
from trainer.schedulers import Schedule, current_lr
from trainer.tasks import Task

__all__ = ["EpochReport", "Training", "evaluate", "fit", "train_epoch"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EpochReport:
    """What one epoch printed: losses, validation metrics in print order, and the
    learning rate the epoch trained with (before the schedule stepped)."""

    epoch: int
    train_loss: float
    val_loss: float
    val_metrics: Mapping[str, float]
    lr: float

    def values(self) -> dict[str, float]:
        """Every value by printed name, as a plateau schedule reads them."""
        return {
            "train_loss": self.train_loss,
            "val_loss": self.val_loss,
            **self.val_metrics,
            "lr": self.lr,
        }


@dataclass(frozen=True)
class Training:
    """Everything a run trains with, built by `trainer.run`."""

    task: Task
    model: nn.Module
    loss: nn.Module
    optimizer: torch.optim.Optimizer
    schedule: Schedule
    metrics: ValidationMetrics
    loaders: Loaders
    device: torch.device


def fit(training: Training, epochs: int) -> Iterator[EpochReport]:
    """Train for `epochs` epochs, yielding each epoch's report as soon as it is known.

    Raises:
        TrainingDiverged: a loss or metric of an epoch, or a batch loss at DEBUG, is
            not finite; training stops there.
    """
    for epoch in range(1, epochs + 1):
        lr = current_lr(training.optimizer)
        train_loss = train_epoch(training, epoch)
        val_loss, computed = evaluate(training)
        report = EpochReport(
            epoch=epoch,
            train_loss=train_loss,
            val_loss=val_loss,
            val_metrics={name: computed[name] for name in training.task.metrics},
            lr=lr,
        )
        for name, value in report.values().items():
            if not math.isfinite(value):
                raise TrainingDiverged(epoch, name, value)
        training.schedule.step(report.values())
        yield report


def train_epoch(training: Training, epoch: int) -> float:
    """Run one pass over the training split; return the mean loss over its examples."""
    model, device = training.model, training.device
    model.train()
    # nan_strategy "disable": a nan must reach the divergence check, not be dropped.
    mean_loss = MeanMetric(nan_strategy="disable").to(device)
    debug = _log.isEnabledFor(logging.DEBUG)
    for batch, (inputs, target) in enumerate(training.loaders.train, start=1):
        inputs, target = inputs.to(device), target.to(device)
        training.optimizer.zero_grad(set_to_none=True)
        loss = training.loss(model(inputs), target)
        loss.backward()
        training.optimizer.step()
        mean_loss.update(loss.detach(), weight=len(inputs))
        if debug:
            # .item() waits for the device; only paid for when batches are logged.
            value = loss.item()
            if not math.isfinite(value):
                raise TrainingDiverged(epoch, "batch_loss", value)
            _log.debug("%s", batch_line(epoch, batch, value))
    return float(mean_loss.compute())


@torch.no_grad()
def evaluate(training: Training) -> tuple[float, dict[str, float]]:
    """Run the model over the validation split.

    Returns:
        The mean loss over validation examples and the task's metrics by name.
    """
    model, device, metrics = training.model, training.device, training.metrics
    model.eval()
    metrics.reset()
    mean_loss = MeanMetric(nan_strategy="disable").to(device)
    for inputs, target in training.loaders.val:
        inputs, target = inputs.to(device), target.to(device)
        outputs = model(inputs)
        mean_loss.update(training.loss(outputs, target), weight=len(inputs))
        metrics.update(outputs, target)
    return float(mean_loss.compute()), metrics.compute()
