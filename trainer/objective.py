"""The tuning objective: which printed metric a run is judged by, and in which direction.

SageMaker AMT hands the objective's name to the training job as the hyperparameter
`_tuning_objective_metric`; the trainer uses it to point ReduceLROnPlateau at the same
number the tuner optimizes.
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

from trainer.errors import ConfigError

__all__ = ["DEFAULT_OBJECTIVE", "Mode", "Objective", "objective_mode", "resolve_objective"]

Mode = Literal["min", "max"]

# Words that name the measured quantity. Matched as whole tokens of the metric name,
# so "val_map" is a score while "val_mape" (not in either set) is refused, not guessed.
_MINIMIZED = frozenset({"loss", "error", "err", "mae", "mse", "rmse", "mape", "logloss"})
_MAXIMIZED = frozenset(
    {"accuracy", "acc", "f1", "precision", "recall", "auc", "mrr", "ndcg", "map", "r2"}
)


class Objective(NamedTuple):
    """A metric name and whether lower (`min`) or higher (`max`) is better."""

    metric: str
    mode: Mode


DEFAULT_OBJECTIVE = Objective("val_loss", "min")


def objective_mode(metric: str) -> Mode:
    """Tell whether `metric` is minimized or maximized from the words in its name.

    The last known word decides, so "val_roc_auc" is maximized (auc) and
    "validation:error" minimized (error).

    Args:
        metric: a metric name such as "val_loss" or "val_accuracy".

    Returns:
        "min" for losses and errors, "max" for scores.

    Raises:
        ConfigError: no word of the name says which way is better.
    """
    for token in reversed(re.split(r"[^a-z0-9]+", metric.lower())):
        if token in _MINIMIZED:
            return "min"
        if token in _MAXIMIZED:
            return "max"
    raise ConfigError(f"cannot tell whether objective metric {metric!r} is a loss or a score")


def resolve_objective(metric: str | None) -> Objective:
    """Return the objective for `_tuning_objective_metric`, or val_loss when there is none.

    Raises:
        ConfigError: the direction of `metric` cannot be told from its name.
    """
    if metric is None:
        return DEFAULT_OBJECTIVE
    return Objective(metric, objective_mode(metric))
