"""Every way a training run can fail on purpose, one class each.

    TrainerError
     ├── ConfigError          the run was set up wrongly: a bad hyperparameter, an
     │                        unreadable hyperparameters.json or SM_HPS, a bad
     │                        SM_LOG_LEVEL (exit code 2, like a command-line usage error)
     └── TrainingDiverged     a loss or metric became nan or infinite (exit code 1)

`trainer.__main__` maps each to its exit code in one place; everything else is a bug
and ends with a traceback.
"""

from __future__ import annotations

__all__ = ["ConfigError", "TrainerError", "TrainingDiverged"]


class TrainerError(Exception):
    """Base of the errors the trainer reports as one line instead of a traceback."""


class ConfigError(TrainerError):
    """The hyperparameters or the environment do not describe a valid run."""


class TrainingDiverged(TrainerError):
    """A value the trainer would print is not finite, so no metric line can carry it."""

    def __init__(self, epoch: int, name: str, value: float) -> None:
        super().__init__(
            f"training diverged at epoch {epoch}: {name} is {value}; "
            "try a lower lr or a different optimizer"
        )
        self.epoch = epoch
        self.name = name
        self.value = value
