"""Rows to records. Reads never trust stored data to be valid: a value no record can
hold (a time out of `datetime`'s range, say) is brought within range, never raised."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CursorResult, Row

from app.records import (
    Job,
    JobState,
    JobStatus,
    LogFormat,
    MetricDefinition,
    MetricSummary,
    ObjectiveType,
    RejectionExample,
    Run,
    RunStatus,
    Strategy,
    StreamInfo,
    StreamState,
)
from app.storage.schema import run_metrics

__all__ = [
    "SUMMARY_COLUMNS",
    "SUMMARY_SELECT",
    "definitions_from_row",
    "definitions_to_row",
    "inserted_id",
    "job_of",
    "job_state_of",
    "json_value",
    "now",
    "run_of",
    "state_of",
    "summary_of",
    "to_datetime",
]

SUMMARY_COLUMNS = (
    "count",
    "last",
    "last_step",
    "last_timestamp",
    "min",
    "max",
    "rejected",
    "timeouts",
    "examples",
)
SUMMARY_SELECT = (run_metrics.c.name, *(run_metrics.c[name] for name in SUMMARY_COLUMNS))

_EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
_LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def definitions_to_row(definitions: Sequence[MetricDefinition]) -> list[list[str]]:
    """Metric definitions as a job's JSON column holds them: `[name, regex]`, with the
    definition's own log format third when it sets one."""
    return [
        [d.name, d.regex] + ([d.log_format.value] if d.log_format is not None else [])
        for d in definitions
    ]


def definitions_from_row(stored: Sequence[Sequence[str]]) -> tuple[MetricDefinition, ...]:
    """The inverse of `definitions_to_row`."""
    return tuple(
        MetricDefinition(entry[0], entry[1], LogFormat(entry[2]) if len(entry) > 2 else None)
        for entry in stored
    )


def now() -> float:
    return datetime.now(UTC).timestamp()


def to_datetime(seconds: float) -> datetime:
    """Seconds since the epoch as a UTC datetime, clamped to the years 1 to 9999."""
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):
        return _EARLIEST if not seconds > 0 else _LATEST


def inserted_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None, "an INSERT of one row has a primary key"
    return int(key[0])


def job_of(row: Row[Any]) -> Job:
    return Job(
        id=row.id,
        name=row.name,
        objective_metric=row.objective_metric,
        objective_type=ObjectiveType(row.objective_type),
        objective_strategy=Strategy(row.objective_strategy),
        log_format=LogFormat(row.log_format),
        metric_definitions=definitions_from_row(row.metric_definitions),
        environment=dict(row.environment),
        created_at=to_datetime(row.created_at),
        search=json_value(row.search) if row.search is not None else None,
        definitions_version=row.definitions_version,
    )


def job_state_of(row: Row[Any]) -> JobState:
    criterion = row.completion_criterion
    return JobState(
        status=JobStatus(row.status),
        reason=row.status_reason,
        completion=(criterion, row.completion_detail or "") if criterion else None,
        completed_at=to_datetime(row.completed_at) if row.completed_at is not None else None,
        ended_at=to_datetime(row.ended_at) if row.ended_at is not None else None,
    )


def run_of(
    row: Row[Any],
    job: Job,
    summaries: tuple[MetricSummary, ...] = (),
    stream_infos: tuple[StreamInfo, ...] = (),
) -> Run:
    return Run(
        id=row.id,
        job=job.name,
        name=row.name,
        status=RunStatus(row.status),
        failure_reason=row.failure_reason,
        created_at=to_datetime(row.created_at),
        ended_at=to_datetime(row.ended_at) if row.ended_at is not None else None,
        hyperparameters=dict(row.hyperparameters),
        objective_metric=job.objective_metric,
        objective_value=row.objective_value,
        metrics=summaries,
        streams=stream_infos,
        search_index=row.search_index,
        worker=row.worker,
        lease_expires_at=(
            to_datetime(row.lease_expires_at) if row.lease_expires_at is not None else None
        ),
        stop_reason=row.stop_reason,
        stop_cause=row.stop_cause,
        gpus=tuple(row.gpus) if row.gpus is not None else None,
        attempt=row.attempt,
    )


def summary_of(columns: Sequence[Any]) -> MetricSummary:
    """A summary from the columns of `SUMMARY_SELECT`, in its order."""
    name, count, last, last_step, last_timestamp, low, high, rejected, timeouts, examples = columns
    return MetricSummary(
        name=name,
        count=count,
        last=last,
        last_step=last_step,
        last_timestamp=to_datetime(last_timestamp) if last_timestamp is not None else None,
        min=low,
        max=high,
        rejected=rejected,
        timeouts=timeouts,
        examples=tuple(RejectionExample(*example) for example in json_value(examples)),
    )


def json_value(stored: Any) -> Any:
    """A JSON column's value as a driver returned it: text when read by a statement of
    `statements` on SQLite, parsed otherwise."""
    return json.loads(stored) if isinstance(stored, str | bytes) else stored


def state_of(row: Row[Any]) -> StreamState:
    return StreamState(
        next_offset=row.next_offset,
        lines=row.lines,
        partial=bytes(row.partial),
        partial_length=row.partial_length,
        skip_lf=bool(row.skip_lf),
    )
