"""Immutable records passed between the parser, the storage and the API."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

__all__ = [
    "Job",
    "JobOverview",
    "LogRange",
    "MetricSummary",
    "Point",
    "Rejection",
    "RejectionExample",
    "Run",
    "RunSeries",
    "RunStatus",
    "SeriesPoint",
    "StreamInfo",
    "StreamState",
]


@dataclass(frozen=True)
class StreamState:
    """Where a stream's parsing stands: everything needed to go on with the next chunk.

    `partial` holds the first bytes of the line not yet ended (enough to match it, see
    `ParserLimits.max_line_bytes`); `partial_length` counts all of that line's bytes.
    `skip_lf` is set when the last chunk ended with `\\r`: that line has ended, and a
    `\\n` opening the next chunk belongs to its `\\r\\n`.
    """

    offset: int = 0
    lines: int = 0
    partial: bytes = b""
    partial_length: int = 0
    skip_lf: bool = False


class Point(NamedTuple):
    """A metric value found on a line.

    `step` is the regex's `step` capture, or None when the point is numbered by arrival.
    `line` is the 1-based line number in its stream, `offset` the byte offset of that
    line's start.
    """

    metric: str
    value: float
    step: int | None
    line: int
    offset: int


class Rejection(NamedTuple):
    """A match that gave no point: the capture was not a number, or the regex timed out."""

    metric: str
    line: int
    offset: int
    capture: str | None  # None when the regex timed out
    reason: str


class RejectionExample(NamedTuple):
    """A rejection kept in a run's diagnostics, with the stream it happened in."""

    stream: str
    line: int
    capture: str | None
    reason: str


class RunStatus(enum.StrEnum):
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPED = "Stopped"


@dataclass(frozen=True)
class Job:
    id: int
    name: str
    objective_metric: str
    objective_type: str
    objective_strategy: str
    log_format: str
    metric_definitions: tuple[tuple[str, str], ...]
    environment: Mapping[str, str]
    created_at: datetime


@dataclass(frozen=True)
class MetricSummary:
    """A run's running summary of one metric, with its parsing diagnostics."""

    name: str
    count: int
    last: float | None
    last_step: int | None
    last_timestamp: datetime | None
    min: float | None
    max: float | None
    rejected: int = 0
    timeouts: int = 0
    examples: tuple[RejectionExample, ...] = ()


@dataclass(frozen=True)
class StreamInfo:
    name: str
    next_offset: int
    lines: int
    pending_bytes: int


@dataclass(frozen=True)
class Run:
    id: int
    job: str
    name: str
    status: RunStatus
    failure_reason: str | None
    created_at: datetime
    ended_at: datetime | None
    hyperparameters: Mapping[str, str]
    objective_metric: str
    objective_value: float | None
    metrics: tuple[MetricSummary, ...] = ()
    streams: tuple[StreamInfo, ...] = field(default=())


@dataclass(frozen=True)
class JobOverview:
    job: Job
    run_counts: Mapping[str, int]
    best_run: Run | None


class SeriesPoint(NamedTuple):
    step: int
    value: float
    timestamp: datetime
    stream: str
    line: int
    offset: int


@dataclass(frozen=True)
class RunSeries:
    """One run's points of a metric, possibly thinned out, for an overview chart."""

    run: str
    status: RunStatus
    objective_value: float | None
    count: int
    points: tuple[tuple[int, float], ...]  # (step, value)


@dataclass(frozen=True)
class LogRange:
    """Bytes `start` to `stop` of a stream of `length` bytes, as pieces."""

    start: int
    stop: int
    length: int
    pieces: Iterator[bytes]
