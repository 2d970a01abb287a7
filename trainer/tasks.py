"""The catalogue of tasks: the losses each accepts and the metrics each prints.

Pure data, importable without torch, so hyperparameters can be checked against it
before the slow imports start.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "CLASSIFICATION",
    "RANKING",
    "REGRESSION",
    "TASKS",
    "Task",
    "epoch_metric_names",
]


class Task(NamedTuple):
    """One thing the trainer can learn.

    Attributes:
        name: the value of the `task` hyperparameter.
        losses: the `loss` values that fit this task; the first is the default.
        metrics: validation metrics printed after `val_loss`, in print order.
        outputs: model outputs per example: the class count, or 1 for a score.
    """

    name: str
    losses: tuple[str, ...]
    metrics: tuple[str, ...]
    outputs: int

    @property
    def default_loss(self) -> str:
        return self.losses[0]


CLASSIFICATION = Task(
    name="classification",
    losses=("cross_entropy", "focal", "label_smoothing"),
    metrics=("val_accuracy", "val_f1", "val_precision", "val_recall", "val_roc_auc"),
    # sklearn's digits: the ten digits 0-9.
    outputs=10,
)
REGRESSION = Task(
    name="regression",
    losses=("mse", "mae", "huber"),
    metrics=("val_mae", "val_mse"),
    outputs=1,
)
RANKING = Task(
    name="ranking",
    losses=("listwise_softmax",),
    metrics=("val_mrr", "val_ndcg", "val_map"),
    outputs=1,
)

TASKS: dict[str, Task] = {task.name: task for task in (CLASSIFICATION, REGRESSION, RANKING)}


def epoch_metric_names(task: Task) -> tuple[str, ...]:
    """Return the names on one epoch line of `task`, in print order."""
    return ("epoch", "train_loss", "val_loss", *task.metrics, "lr")
