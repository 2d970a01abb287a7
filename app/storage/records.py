"""The records the storage contract takes and gives, besides the domain's own
(`app.records`): what to create, write or read, and the answers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, get_args

from app.records import (
    Job,
    JobState,
    LogFormat,
    MetricDefinition,
    ObjectiveType,
    Point,
    Rejection,
    Run,
    RunStatus,
    Strategy,
    StreamState,
)

if TYPE_CHECKING:
    from app.parsing import ChunkResult

__all__ = [
    "ChunkWrite",
    "DefinitionsSpec",
    "JobSpec",
    "LeasePlan",
    "PlannedRun",
    "Replay",
    "RunLog",
    "RunPage",
    "RunQuery",
    "RunSnapshot",
    "SortKey",
    "SortOrder",
    "StoredChunk",
    "StreamSnapshot",
]


class PlannedRun(NamedTuple):
    """The next run of a search: its hyperparameters, and its name (None: `run-NNNN`);
    or, with `again`, the run of that name waiting to be tried again (`retry_run`)."""

    hyperparameters: Mapping[str, str]
    name: str | None = None
    again: bool = False


LeasePlan = Callable[[Job, JobState, Sequence[Run]], PlannedRun | None]
"""Given a job, its state and its runs (oldest first), the next run, or None when the
job has no run to start now."""


@dataclass(frozen=True)
class JobSpec:
    """A job to create, already validated."""

    name: str
    objective_metric: str
    objective_type: ObjectiveType
    objective_strategy: Strategy
    log_format: LogFormat
    metric_definitions: tuple[MetricDefinition, ...]
    environment: Mapping[str, str]
    search: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        # The enums' own values are accepted too (scripts and tests write "Maximize"),
        # so a stored job always holds the enums; another value is a ValueError.
        object.__setattr__(self, "objective_type", ObjectiveType(self.objective_type))
        object.__setattr__(self, "objective_strategy", Strategy(self.objective_strategy))
        object.__setattr__(self, "log_format", LogFormat(self.log_format))


@dataclass(frozen=True)
class StreamSnapshot:
    """A stream as read before parsing a chunk for it; `state` is fresh for a new stream."""

    run: Run
    state: StreamState


@dataclass(frozen=True)
class RunSnapshot:
    """A run with the parsing state of each of its streams, and when each stream's held
    partial line last got bytes (the time its points take if the run ends first)."""

    run: Run
    streams: Mapping[str, StreamState]
    partial_times: Mapping[str, datetime]


@dataclass(frozen=True)
class ChunkWrite:
    """What parsing a chunk (or the end of a stream) produced, to be stored at once.

    `expected_offset` is the stream's next_offset the parse started from; `data` holds the
    raw bytes to keep, which start at `expected_offset`.
    """

    stream: str
    expected_offset: int
    state: StreamState
    data: bytes
    points: Sequence[Point]
    rejections: Sequence[Rejection]
    rejected: Mapping[str, int]
    timeouts: Mapping[str, int]
    timestamp: datetime
    # A shipper's chunk's digest (`chunk_digest`): stored with it, and a chunk whose
    # digest the stream holds already is not stored again (`ChunkStored`). None: /v1's
    # chunks, whose offset says what is resent.
    digest: bytes | None = None

    @classmethod
    def parsed(
        cls,
        stream: str,
        expected_offset: int,
        result: ChunkResult,
        data: bytes,
        at: datetime,
        digest: bytes | None = None,
    ) -> ChunkWrite:
        """The write of what the parser made of a chunk (`data`, b"" when the bytes are
        stored already) fed from `expected_offset`, its points timed `at`."""
        return cls(
            stream=stream,
            expected_offset=expected_offset,
            state=result.state,
            data=data,
            points=result.points,
            rejections=result.rejections,
            rejected=result.rejected,
            timeouts=result.timeouts,
            timestamp=at,
            digest=digest,
        )


@dataclass(frozen=True)
class DefinitionsSpec:
    """A job's new objective and metric definitions for a re-parse, already validated."""

    objective_metric: str
    objective_type: ObjectiveType
    objective_strategy: Strategy
    metric_definitions: tuple[MetricDefinition, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "objective_type", ObjectiveType(self.objective_type))
        object.__setattr__(self, "objective_strategy", Strategy(self.objective_strategy))


@dataclass(frozen=True)
class StoredChunk:
    """A chunk of raw log as stored, with the time its points were given."""

    stream: str
    offset: int
    data: bytes
    timestamp: datetime


@dataclass(frozen=True)
class RunLog:
    """What a re-parse reads of a run: its stored chunks, each stream's in offset order
    and the streams merged by chunk time, and each stream's state as stored."""

    run: Run
    chunks: tuple[StoredChunk, ...]
    streams: Mapping[str, StreamState]


Replay = Callable[[RunLog], Sequence[ChunkWrite]]
"""Given a run's chunks that came after those a re-parse already parsed (read under the
run's lock), every write of the re-parse, in order: each chunk's points, then, for an
ended run, each stream's last line. Raises ReparseMismatch if the states disagree."""


SortKey = Literal["objective", "created_at", "name"]
SortOrder = Literal["asc", "desc"]


@dataclass(frozen=True)
class RunQuery:
    """A leaderboard page: `sort_by` objective | created_at | name, `order` asc | desc.

    By objective, `ranked` says which runs are ranked: with statuses given, the runs with
    one of them and a value come first, in `order`, then every other run, oldest first
    (the API's leaderboard); with none, only runs with a value are listed, by value.
    `statuses` filters either way.
    """

    sort_by: SortKey = "objective"
    order: SortOrder = "desc"
    statuses: tuple[RunStatus, ...] = ()
    limit: int = 100
    cursor: str | None = None
    ranked: tuple[RunStatus, ...] = ()

    def __post_init__(self) -> None:
        # A sort key the storage does not know must not quietly sort by another.
        if self.sort_by not in get_args(SortKey) or self.order not in get_args(SortOrder):
            raise ValueError(f"cannot sort runs by {self.sort_by!r} {self.order!r}")


@dataclass(frozen=True)
class RunPage:
    runs: tuple[Run, ...]
    next_cursor: str | None
