"""How a job's search is going: each run's objective value with the best so far, by run
index and by time (the job page's history chart, `GET /v1/jobs/{job}/history`)."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.objective import ObjectiveType, qualifying_statuses
from app.records import Job, Run

__all__ = ["History", "HistoryRun", "counting_value", "history", "is_better"]


@dataclass(frozen=True)
class HistoryRun:
    """One run in the history: its counting value and the best values so far."""

    name: str
    index: int  # 1-based, in creation order
    status: str
    created_at: datetime
    ended_at: datetime | None
    objective_value: float | None  # the counting value
    best_by_index: float | None  # best counting value among runs 1..index
    best_by_time: float | None  # best counting value among runs ended at or before this one
    new_best: bool  # strictly better than every run that ended before it


@dataclass(frozen=True)
class History:
    metric_name: str
    objective_type: ObjectiveType
    runs: tuple[HistoryRun, ...]
    best_run: str | None


def counting_value(run: Run) -> float | None:
    """The run's objective value where its status counts for the ranking (Completed,
    Stopped: what `/best` ranks), else None."""
    if run.status in qualifying_statuses(include_in_progress=False):
        return run.objective_value
    return None


def is_better(objective_type: ObjectiveType, value: float, than: float | None) -> bool:
    """`value` is strictly better than `than` (anything is better than None)."""
    if than is None:
        return True
    return value > than if objective_type is ObjectiveType.MAXIMIZE else value < than


def history(job: Job, runs: Sequence[Run], best_run: str | None) -> History:
    """The job's runs with their best values so far.

    Args:
        job: the job (its objective metric and type).
        runs: every run of the job, in creation order (`Storage.job_runs`).
        best_run: the name of the job's best run as `/best` picks it, if any.

    Returns:
        The history; a run that has not ended has no best_by_time.
    """
    kind = job.objective_type
    values = [counting_value(run) for run in runs]

    # Runs that ended, in ended_at order (ties by creation): the best so far along it.
    ended_at = {i: run.ended_at for i, run in enumerate(runs) if run.ended_at is not None}
    ended = sorted(ended_at, key=lambda i: (ended_at[i], i))
    times = [ended_at[i] for i in ended]
    best_along: list[float | None] = []
    new_best: set[int] = set()
    best: float | None = None  # the best of the runs ended strictly before this instant
    for _, group in itertools.groupby(ended, key=lambda i: ended_at[i]):
        together = list(group)
        # Runs ending at the same instant did not end before each other: each is a new
        # best if strictly better than every run ended strictly before (the contract).
        before = best
        for i in together:
            value = values[i]
            if value is not None and is_better(kind, value, before):
                new_best.add(i)
                if is_better(kind, value, best):
                    best = value
        best_along.extend([best] * len(together))

    rows: list[HistoryRun] = []
    best_index: float | None = None
    for i, run in enumerate(runs):
        value = values[i]
        if value is not None and is_better(kind, value, best_index):
            best_index = value
        by_time = None
        if run.ended_at is not None:
            # Every run ended at or before this one's end, same instant included.
            at = bisect.bisect_right(times, run.ended_at)
            by_time = best_along[at - 1] if at else None
        rows.append(
            HistoryRun(
                name=run.name,
                index=i + 1,
                status=run.status.value,
                created_at=run.created_at,
                ended_at=run.ended_at,
                objective_value=value,
                best_by_index=best_index,
                best_by_time=by_time,
                new_best=i in new_best,
            )
        )
    return History(job.objective_metric, kind, tuple(rows), best_run)
