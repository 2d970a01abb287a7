"""Literal runs for the analysis functions' unit tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from app.records import (
    Job,
    LogFormat,
    MetricDefinition,
    MetricSummary,
    ObjectiveType,
    Run,
    RunStatus,
    Strategy,
)

__all__ = ["T0", "at", "job", "run"]

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def job(
    objective_type: ObjectiveType = ObjectiveType.MAXIMIZE,
    search: Mapping[str, object] | None = None,
    metrics: tuple[str, ...] = ("acc", "loss"),
) -> Job:
    """A job whose objective is `acc`, with metric definitions named `metrics`."""
    return Job(
        id=1,
        name="j",
        objective_metric="acc",
        objective_type=objective_type,
        objective_strategy=Strategy.LATEST,
        log_format=LogFormat.TEXT,
        metric_definitions=tuple(MetricDefinition(m, f"{m}=(\\S+);") for m in metrics),
        environment={},
        created_at=T0,
        search=search,
    )


def run(
    index: int,
    value: float | None,
    status: RunStatus = RunStatus.COMPLETED,
    ended: float | None = None,
    hyperparameters: Mapping[str, str] | None = None,
    metrics: Mapping[str, float] | None = None,
) -> Run:
    """Run `r<index>`, created at minute `index`, ended at minute `ended` (default
    index + 10, None for a run in progress)."""
    end = None if status is RunStatus.IN_PROGRESS else at(index + 10 if ended is None else ended)
    return Run(
        id=index,
        job="j",
        name=f"r{index}",
        status=status,
        failure_reason=None,
        created_at=at(index),
        ended_at=end,
        hyperparameters=dict(hyperparameters or {}),
        objective_metric="acc",
        objective_value=value,
        metrics=tuple(
            MetricSummary(name, 1, last, 1, at(index), last, last)
            for name, last in (metrics or {}).items()
        ),
    )
