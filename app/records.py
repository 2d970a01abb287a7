"""Immutable records passed between the parser, the storage and the API."""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

__all__ = [
    "ENDED_JOB_STATUSES",
    "STREAM_NAME_MAX_LENGTH",
    "STREAM_NAME_PATTERN",
    "STREAM_NAME_RULE",
    "DefinitionsVersion",
    "Job",
    "JobOverview",
    "JobState",
    "JobStatus",
    "LogFormat",
    "LogRange",
    "MetricDefinition",
    "MetricSummary",
    "ObjectiveCurve",
    "ObjectiveType",
    "Point",
    "Rejection",
    "RejectionExample",
    "ReparseProgress",
    "Run",
    "RunAttempt",
    "RunSeries",
    "RunStatus",
    "SeriesPage",
    "SeriesPoint",
    "StopCause",
    "Strategy",
    "StreamInfo",
    "StreamState",
    "Tag",
    "TimedValue",
    "attempt_of_stream",
    "attempt_stream",
    "is_earlier_attempt",
    "is_stream_name",
    "make_point",
    "reserved_stream",
]


@dataclass(frozen=True)
class StreamState:
    """Where a stream's parsing stands: everything needed to go on with the next chunk.

    `partial` holds the first bytes of the line not yet ended (enough to match it, see
    `ParserLimits.max_line_bytes`); `partial_length` counts all of that line's bytes.
    `skip_lf` is set when the last chunk ended with `\\r`: that line has ended, and a
    `\\n` opening the next chunk belongs to its `\\r\\n`.
    """

    next_offset: int = 0  # the stream's length: where its next chunk starts
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


# `Point(...)` runs the NamedTuple's generated `__new__`, a Python function that costs a
# third of recording a point; the tuple's own constructor makes the same value from the
# fields in order.
make_point: Callable[[tuple[str, float, int | None, int, int]], Point] = functools.partial(
    tuple.__new__, Point
)


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


class JobStatus(enum.StrEnum):
    """AMT's HyperParameterTuningJobStatus."""

    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"


ENDED_JOB_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.STOPPED})


@dataclass(frozen=True)
class JobState:
    """What changes about a job: its status, and the completion criterion its search met
    (`completion`: AMT's name of it, and words for people)."""

    status: JobStatus = JobStatus.IN_PROGRESS
    reason: str | None = None
    completion: tuple[str, str] | None = None
    completed_at: datetime | None = None
    ended_at: datetime | None = None


class ObjectiveType(enum.StrEnum):
    """Whether the best run's objective value is the highest or the lowest."""

    MAXIMIZE = "Maximize"
    MINIMIZE = "Minimize"


class Strategy(enum.StrEnum):
    """Which of a run's values of the objective metric is its objective value."""

    LATEST = "latest"  # the last value emitted, as SageMaker AMT does
    MIN = "min"
    MAX = "max"


class LogFormat(enum.StrEnum):
    """How a job's log bytes are cut into lines and how a line is rendered for matching.

    `text` ends lines at `\n`, `\r\n` or `\r` and removes ANSI sequences and control
    characters but tab; `cloudwatch` ends lines at `\n` only and shows control
    characters as CloudWatch does, `#` and three octal digits (a tab is `#011`).
    """

    TEXT = "text"
    CLOUDWATCH = "cloudwatch"


@dataclass(frozen=True)
class MetricDefinition:
    """A named regex as the user wrote it. `log_format`, when set, is the rendering its
    regex is matched against, whatever the job's; None leaves the choice to the parser."""

    name: str
    regex: str
    log_format: LogFormat | None = None


@dataclass(frozen=True)
class Job:
    """A job as created or last re-parsed (its status lives in `JobState`). `search` is
    the search the service runs for it (`app.protocol.search.SearchSpec` as JSON), if any.

    Only a re-parse changes a job: its objective and metric definitions, which it
    replaces at once, counting `definitions_version` up."""

    id: int
    name: str
    objective_metric: str
    objective_type: ObjectiveType
    objective_strategy: Strategy
    log_format: LogFormat
    metric_definitions: tuple[MetricDefinition, ...]
    environment: Mapping[str, str]
    created_at: datetime
    search: Mapping[str, Any] | None = None
    definitions_version: int = 1

    @property
    def metric_names(self) -> tuple[str, ...]:
        """The names of the job's metric definitions, in order."""
        return tuple(definition.name for definition in self.metric_definitions)


@dataclass(frozen=True)
class DefinitionsVersion:
    """The objective and metric definitions a job had as `version`, until `replaced_at`
    (None for the job's current ones)."""

    version: int
    objective_metric: str
    objective_type: ObjectiveType
    objective_strategy: Strategy
    metric_definitions: tuple[MetricDefinition, ...]
    replaced_at: datetime | None


@dataclass(frozen=True)
class ReparseProgress:
    """How far the job's latest re-parse has come: of its `runs`, `reparsed` have their
    points from the job's current definitions (all of them when no re-parse is under way)."""

    version: int
    runs: int
    reparsed: int

    @property
    def done(self) -> bool:
        return self.reparsed >= self.runs


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
    partial_length: int  # bytes of its partial line, held until it ends


@dataclass(frozen=True)
class RunAttempt:
    """An earlier attempt of a run, ended by a failure of the infrastructure (its worker
    lost, its launch failed) and tried again: its log is kept in the run's streams
    `attempt-<n>/<stream>` (`attempt_stream`), its points are not the run's."""

    attempt: int
    worker: str | None
    started_at: datetime
    ended_at: datetime
    reason: str


# A run's stream's name, whichever face writes it (/v1's `?stream=`, PutLogEvents'
# `<run>/<stream>`, OTLP's stream attributes), so a stream written through one is read
# through the others.
STREAM_NAME_MAX_LENGTH = 255
STREAM_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"
STREAM_NAME_RULE = (
    f"1 to {STREAM_NAME_MAX_LENGTH} letters, digits, '.', '_', '/' and '-', starting with a "
    "letter or digit"
)
_STREAM_NAME = re.compile(STREAM_NAME_PATTERN.removeprefix("^").removesuffix("$"))


def is_stream_name(name: str) -> bool:
    """Whether a writer may name a run's stream so, by its characters and length (an
    earlier attempt's name, which passes, is refused by `reserved_stream`). fullmatch:
    `$` in Python's `re` would also pass a final newline, pydantic's pattern not."""
    return len(name) <= STREAM_NAME_MAX_LENGTH and _STREAM_NAME.fullmatch(name) is not None


def attempt_stream(attempt: int, stream: str) -> str:
    """The name an earlier attempt's stream is kept under: `attempt-1/stdout`."""
    return f"attempt-{attempt}/{stream}"


def attempt_of_stream(stream: str) -> int | None:
    """The attempt a stream named `attempt-<n>/...` keeps; None for any other name. Such
    names are the service's own: no writer may give a stream one (`reserved_stream`)."""
    head, slash, _rest = stream.partition("/")
    number = head.removeprefix("attempt-")
    return int(number) if slash and head != number and number.isdigit() else None


def is_earlier_attempt(stream: str, attempt: int) -> bool:
    """Whether a run's stream holds an attempt before `attempt` (its current one)."""
    kept = attempt_of_stream(stream)
    return kept is not None and kept < attempt


def reserved_stream(stream: str) -> str | None:
    """Why a writer may not name a stream so (an earlier attempt's name), if it may not."""
    if attempt_of_stream(stream) is not None:
        return (
            f"stream names attempt-<n>/... are the service's own, for a run's earlier "
            f"attempts; {stream[:100]!r} cannot be written"
        )
    return None


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
    # A run the job's search started: its index in the search, its worker and lease.
    search_index: int | None = None
    worker: str | None = None
    lease_expires_at: datetime | None = None
    # Set once the service has asked the run to stop: why, and what asked
    # (`StopCause`); the run then ends Stopped with this reason.
    stop_reason: str | None = None
    stop_cause: str | None = None
    # The GPUs the run held on its worker (`logmetrics worker --gpus`); None where the
    # worker did not count GPUs.
    gpus: tuple[str, ...] | None = None
    # Its attempt (1, then 2, ... each time a failure of the infrastructure is retried,
    # `RetryStrategy`), and the earlier attempts (read with the run alone, by get_run).
    attempt: int = 1
    attempts: tuple[RunAttempt, ...] = ()

    @property
    def awaits_attempt(self) -> bool:
        """A search's run in progress that no worker holds: its last attempt failed for
        the infrastructure and it waits to be leased again. It takes no logs and no end
        until then."""
        return (
            self.status is RunStatus.IN_PROGRESS
            and self.search_index is not None
            and self.worker is None
            and self.attempt > 1
        )


class StopCause(enum.StrEnum):
    EARLY_STOPPING = "early_stopping"  # the median rule or Hyperband
    JOB_STOPPED = "job_stopped"
    MAX_RUNTIME = "max_runtime"


@dataclass(frozen=True)
class JobOverview:
    job: Job
    run_counts: Mapping[str, int]
    best_run: Run | None
    state: JobState = JobState()
    # Runs with a counted objective value (`succeeded`), started by the search
    # (`started`), held by a worker (`leased`), stopped by early stopping (`stopped_early`).
    tallies: Mapping[str, int] = field(default_factory=dict)


class SeriesPoint(NamedTuple):
    step: int
    value: float
    timestamp: datetime
    stream: str
    line: int
    offset: int


class TimedValue(NamedTuple):
    """A point's value and time, in seconds since the epoch."""

    time: float
    value: float


class SeriesPage(NamedTuple):
    """A page of one metric's points, and the sequence number to read on after (None on
    the last page)."""

    points: list[SeriesPoint]
    after: int | None


@dataclass(frozen=True)
class RunSeries:
    """One run's points of a metric, possibly thinned out, for an overview chart."""

    run: str
    status: RunStatus
    objective_value: float | None
    count: int
    points: tuple[tuple[int, float], ...]  # (step, value)


class ObjectiveCurve(NamedTuple):
    """A run's points of its job's objective metric, (step, value) in arrival order."""

    run: str
    search_index: int | None
    status: RunStatus
    points: tuple[tuple[int, float], ...]


@dataclass(frozen=True)
class LogRange:
    """Bytes `start` to `stop` of a stream of `length` bytes, as pieces."""

    start: int
    stop: int
    length: int
    pieces: Iterator[bytes]


class Tag(NamedTuple):
    """A key and its value that a user attached to a job or a run (SageMaker's tags)."""

    key: str
    value: str
