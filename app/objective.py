"""The tuning objective: which runs count, which is best, and how a run's value reads."""

from __future__ import annotations

import enum
from typing import NamedTuple

# ObjectiveType and Strategy are the records' own (a Job holds them); named here too, where
# the rules about the objective live.
from app.records import Job, JobOverview, ObjectiveType, Run, RunStatus, Strategy
from app.storage.records import RunQuery, SortOrder

__all__ = [
    "JobCounters",
    "ObjectiveStatus",
    "ObjectiveType",
    "Strategy",
    "best_first_order",
    "job_counters",
    "objective_status",
    "qualifying_statuses",
    "ranking_query",
]


class ObjectiveStatus(enum.StrEnum):
    """AMT's ObjectiveStatus of a training job's final objective metric."""

    SUCCEEDED = "Succeeded"
    PENDING = "Pending"
    FAILED = "Failed"


def best_first_order(objective_type: ObjectiveType) -> SortOrder:
    """The leaderboard order that puts the best run first."""
    return "desc" if objective_type is ObjectiveType.MAXIMIZE else "asc"


def qualifying_statuses(include_in_progress: bool) -> tuple[RunStatus, ...]:
    """Runs that may be best: completed or stopped ones (AMT counts only completed
    training jobs; a stopped run's metrics are final too), and running ones on request."""
    statuses = (RunStatus.COMPLETED, RunStatus.STOPPED)
    return (*statuses, RunStatus.IN_PROGRESS) if include_in_progress else statuses


def ranking_query(job: Job, limit: int = 1000) -> RunQuery:
    """The one ranking every view shows: the runs `/best` considers (completed and
    stopped, with a value), best first; a view lists the others after them, unranked."""
    return RunQuery(
        "objective", best_first_order(job.objective_type), qualifying_statuses(False), limit
    )


def objective_status(run: Run) -> ObjectiveStatus:
    if run.status is RunStatus.IN_PROGRESS:
        return ObjectiveStatus.PENDING
    if run.status is RunStatus.FAILED or run.objective_value is None:
        return ObjectiveStatus.FAILED
    return ObjectiveStatus.SUCCEEDED


class JobCounters(NamedTuple):
    """AMT's TrainingJobStatusCounters and ObjectiveStatusCounters of a job's runs."""

    completed: int
    in_progress: int
    failed: int
    stopped: int
    objective_succeeded: int
    objective_pending: int
    objective_failed: int
    retryable_error: int = 0  # attempts that failed for the infrastructure, tried again


def job_counters(overview: JobOverview) -> JobCounters:
    counts = overview.run_counts
    in_progress = counts.get(RunStatus.IN_PROGRESS.value, 0)
    succeeded = overview.tallies.get("succeeded", 0)
    return JobCounters(
        completed=counts.get(RunStatus.COMPLETED.value, 0),
        in_progress=in_progress,
        failed=counts.get(RunStatus.FAILED.value, 0),
        stopped=counts.get(RunStatus.STOPPED.value, 0),
        objective_succeeded=succeeded,
        objective_pending=in_progress,
        objective_failed=sum(counts.values()) - in_progress - succeeded,
        retryable_error=overview.tallies.get("retried", 0),
    )
