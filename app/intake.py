"""A log chunk taken in, whichever protocol brought it (`/v1`'s chunks, CloudWatch Logs'
PutLogEvents, OTLP logs): parsed and stored, counted, and judged by early stopping.

Every write face goes through `Intake.take`, so a chunk gives the same points, the same
`/metrics` counts and the same stop decision whether `curl`, Docker's awslogs driver or
the OpenTelemetry Collector sent it.

A shipper's batch (`Intake.take_batch`) is a few timed chunks of one run's stream, and
a shipper that times out sends the same batch again. Each timed chunk is stored with its
digest (SHA-256 of its time, to the millisecond, and its bytes), unique in its stream: a
chunk the stream holds already is not stored, counted or parsed again, whenever the
retry comes and whatever came in between, and two tries of one batch in flight at once
(in any processes sharing the database) store it once, the check made under the run's
lock. Two different chunks with the same bytes at the same millisecond are one chunk to
this rule; a chunk without a time (its time is its arrival's) is never taken for
another.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import regex

from app.errors import (
    InvalidInput,
    JobEnded,
    RunExists,
    RunNotFound,
)
from app.ingest import Appended, Ingestor
from app.jobs import NAME_PATTERN, run_hyperparameters
from app.records import Job, JobStatus
from app.storage import Storage
from app.telemetry import Telemetry
from app.tuning.tuner import Tuner

__all__ = ["MAX_BATCH_CHUNKS", "Intake", "Taken", "TimedChunk", "chunk_digest", "second_runs"]

# A shipper's batch is stored as one chunk per second of its lines' times, and at most
# this many (each chunk is an append: a parse and a transaction): a backlog of 10,000
# lines a second apart is 100 appends, not 10,000.
MAX_BATCH_CHUNKS = 100


_RUN_NAME = regex.compile(NAME_PATTERN)


@dataclass(frozen=True)
class Taken:
    """What taking a chunk did, and why the run is asked to stop (None: it is not)."""

    appended: Appended
    stop_reason: str | None


@dataclass(frozen=True)
class TimedChunk:
    """A chunk of a shipper's batch: its bytes, and its points' time (None: when it is
    stored; such a chunk is never taken for an earlier try's)."""

    data: bytes
    timestamp: datetime | None


class Intake:
    """Takes chunks for every write face. Thread-safe; blocking (run it off the loop)."""

    def __init__(
        self, storage: Storage, ingestor: Ingestor, tuner: Tuner, telemetry: Telemetry
    ) -> None:
        self._storage = storage
        self._ingestor = ingestor
        self._tuner = tuner
        self._telemetry = telemetry

    def take(
        self,
        job: Job,
        run: str,
        stream: str,
        data: bytes,
        offset: int | None = None,
        timestamp: datetime | None = None,
        digest: bytes | None = None,
    ) -> Taken:
        """Parse and store a chunk of a run's stream (`Ingestor.append`'s arguments and
        errors), then apply the job's early stopping if it brought objective points."""
        appended = self._ingestor.append(job, run, stream, data, offset, timestamp, digest)
        self._telemetry.chunk_stored(appended)
        stop = appended.stop_reason
        if stop is None and appended.objective_points and job.search is not None:
            stop = self._tuner.after_points(job, run, appended.objective_points)
        return Taken(appended, stop)

    def open_run(self, job: Job, run: str) -> None:
        """Make sure a shipper may write to the run: it exists, or the job has no search
        and is in progress, and it is created (without hyperparameters) as `POST /v1/jobs/
        {job}/runs` would. A search's runs are started by the search only.

        Raises: RunNotFound (a search's run that does not exist), JobEnded, InvalidInput
            (a name `/v1` would refuse).
        """
        try:
            self._storage.get_run(job, run)
            return
        except RunNotFound:
            if job.search is not None:
                raise
        if not _RUN_NAME.fullmatch(run):
            raise InvalidInput(
                f"run name {run[:100]!r} is not 1 to 63 letters, digits and "
                "hyphens, starting and ending with a letter or digit"
            )
        state = self._storage.job_state(job)
        if state.status is not JobStatus.IN_PROGRESS:
            raise JobEnded(job.name, state.status.value)
        with contextlib.suppress(RunExists):  # a concurrent write created it
            self._storage.create_run(job, run, run_hyperparameters(job, {}))

    def take_batch(
        self, job: Job, run: str, stream: str, chunks: Sequence[TimedChunk]
    ) -> Iterator[int]:
        """Take a shipper's batch into the run's stream, in order, each chunk appended at
        the stream's end unless the stream holds it already (see the module's doc); the
        run must exist (`open_run`). A generator: it stores as it is iterated, and yields
        after each chunk (stored now, or found stored) the stream's length then.

        Raises: as `take`; StreamMoved if other writes kept landing first.
        """
        for chunk in chunks:
            digest = None if chunk.timestamp is None else chunk_digest(chunk)
            taken = self.take(job, run, stream, chunk.data, None, chunk.timestamp, digest)
            yield taken.appended.next_offset

    def stream_length(self, job: Job, run: str, stream: str) -> int:
        """How many bytes the run's stream holds (0 for one not written yet)."""
        return self._storage.read_stream(job, run, stream).state.next_offset


def second_runs(seconds: Sequence[int]) -> list[range]:
    """How a shipper's batch is cut into chunks: given each line's second (any key, equal
    for lines of one second), the index ranges of its runs of one second, in order; more
    than `MAX_BATCH_CHUNKS` of them are merged, consecutive ones, into that many."""
    runs: list[range] = []
    start = 0
    for index in range(1, len(seconds) + 1):
        if index == len(seconds) or seconds[index] != seconds[start]:
            runs.append(range(start, index))
            start = index
    if len(runs) <= MAX_BATCH_CHUNKS:
        return runs
    size = -(-len(runs) // MAX_BATCH_CHUNKS)
    return [
        range(runs[i].start, runs[min(i + size, len(runs)) - 1].stop)
        for i in range(0, len(runs), size)
    ]


def chunk_digest(chunk: TimedChunk) -> bytes:
    """A timed chunk's digest: SHA-256 of its time, to the millisecond, and its bytes."""
    assert chunk.timestamp is not None, "only a timed chunk is known again"
    milliseconds = round(chunk.timestamp.timestamp() * 1000)
    return hashlib.sha256(b"%d\n" % milliseconds + chunk.data).digest()
