"""The tuning objective: which runs count, which is best, and how a run's value reads."""

from __future__ import annotations

import enum

from app.records import Run, RunStatus

__all__ = [
    "ObjectiveStatus",
    "ObjectiveType",
    "Strategy",
    "best_first_order",
    "objective_status",
    "qualifying_statuses",
]


class ObjectiveType(enum.StrEnum):
    MAXIMIZE = "Maximize"
    MINIMIZE = "Minimize"


class Strategy(enum.StrEnum):
    """Which of a run's values of the objective metric is its objective value."""

    LATEST = "latest"  # the last value emitted, as SageMaker AMT does
    MIN = "min"
    MAX = "max"


class ObjectiveStatus(enum.StrEnum):
    """AMT's ObjectiveStatus of a training job's final objective metric."""

    SUCCEEDED = "Succeeded"
    PENDING = "Pending"
    FAILED = "Failed"


def best_first_order(objective_type: str) -> str:
    """The leaderboard order that puts the best run first."""
    return "desc" if objective_type == ObjectiveType.MAXIMIZE else "asc"


def qualifying_statuses(include_in_progress: bool) -> tuple[RunStatus, ...]:
    """Runs that may be best: completed or stopped ones (AMT counts only completed
    training jobs; a stopped run's metrics are final too), and running ones on request."""
    statuses = (RunStatus.COMPLETED, RunStatus.STOPPED)
    return (*statuses, RunStatus.IN_PROGRESS) if include_in_progress else statuses


def objective_status(run: Run) -> ObjectiveStatus:
    if run.status is RunStatus.IN_PROGRESS:
        return ObjectiveStatus.PENDING
    if run.status is RunStatus.FAILED or run.objective_value is None:
        return ObjectiveStatus.FAILED
    return ObjectiveStatus.SUCCEEDED
