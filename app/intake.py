"""A log chunk taken in, whichever protocol brought it (`/v1`'s chunks, CloudWatch Logs'
PutLogEvents, OTLP logs): parsed and stored, counted, and judged by early stopping.

Every write face goes through `Intake.take`, so a chunk gives the same points, the same
`/metrics` counts and the same stop decision whether `curl`, Docker's awslogs driver or
the OpenTelemetry Collector sent it.

A shipper's batch (`Intake.take_batch`) is a few timed chunks of one run's stream, and
a shipper that times out sends the same batch again. Before storing, the stream's last
stored chunks are compared with the batch's first ones, bytes and time (to the
millisecond): those that match were stored by an earlier try and are not stored, counted
or parsed again. Which chunks an earlier try stored and where the stream ends after them
are read from one snapshot of the run's chunks, and each chunk is written at the offset
read, so two tries of one batch in flight at once (in any two processes sharing the
database) store it once: the second finds the first's bytes there (`Ingestor.append`'s
resent overlap). Not recognised, and stored again: a retry that comes after other lines
reached the stream, and chunks without a time (theirs is their arrival's).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import regex

from app.errors import (
    InvalidInput,
    JobEnded,
    OverlapMismatch,
    RunExists,
    RunNotFound,
    StreamMoved,
    StreamNotFound,
)
from app.ingest import Appended, Ingestor
from app.jobs import NAME_PATTERN, run_hyperparameters
from app.records import Job, JobStatus
from app.storage import Storage
from app.telemetry import Telemetry
from app.tuning.tuner import Tuner

__all__ = ["Intake", "Taken", "TimedChunk"]

# A batch's chunk that other writes keep overtaking is tried this many times.
_ATTEMPTS = 20

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
    ) -> Taken:
        """Parse and store a chunk of a run's stream (`Ingestor.append`'s arguments and
        errors), then apply the job's early stopping if it brought objective points."""
        appended = self._ingestor.append(job, run, stream, data, offset, timestamp)
        self._telemetry.chunk_stored(appended)
        stop = appended.stop_reason
        if stop is None and appended.objective_points and job.search is not None:
            stop = self._tuner.after_points(job, run)
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
        """Take a shipper's batch into the run's stream, in order, leaving out the chunks
        an earlier try of it stored (see the module's doc); the run must exist
        (`open_run`). A generator: it stores as it is iterated, and yields after each
        chunk, stored now or before, the stream's length after it.

        Raises: as `take`; StreamMoved if other writes kept landing.
        """
        done, position = self._stored_before(job, run, stream, chunks)
        after = position - sum(len(chunk.data) for chunk in chunks[:done])
        for chunk in chunks[:done]:
            after += len(chunk.data)
            yield after
        for chunk in chunks[done:]:
            for _ in range(_ATTEMPTS):
                try:
                    self.take(job, run, stream, chunk.data, position, chunk.timestamp)
                    break
                except OverlapMismatch:
                    # Other lines reached the stream since it was read: these go after.
                    position = self.stream_length(job, run, stream)
            else:
                raise StreamMoved(f"stream {stream!r} kept moving; send the batch again")
            # Not the stream's length: another try of this batch may have stored the
            # chunks after this one too, and they must be found where this try puts them.
            position += len(chunk.data)
            yield position

    def stream_length(self, job: Job, run: str, stream: str) -> int:
        """How many bytes the run's stream holds (0 for one not written yet)."""
        return self._tail(job, run, stream, 0)[0]

    def _tail(self, job: Job, run: str, stream: str, size: int) -> tuple[int, bytes]:
        """The stream's length and its last `size` bytes (0 and none for a new stream)."""
        try:
            found = self._storage.read_log(job, run, stream, tail=size)
        except StreamNotFound:
            return 0, b""
        return found.length, b"".join(found.pieces)

    def _stored_before(
        self, job: Job, run: str, stream: str, chunks: Sequence[TimedChunk]
    ) -> tuple[int, int]:
        """How many of the batch's first chunks are the stream's last stored chunks,
        bytes and time (an earlier try stored them), and where the stream ends after them.

        The stream's last bytes are compared first; only when they could be such chunks
        are the stored chunks and their times read (the run's whole log: a cost paid by a
        retry, or a batch that repeats the stream's last lines, not by every batch). Both
        answers come from that one read, never from the bytes read before it: a try in
        flight may have stored more of the batch in between.
        """
        # Views, not copies: a batch is up to a MiB or more, with up to 100 heads.
        data = memoryview(b"".join(chunk.data for chunk in chunks))
        length, tail = self._tail(job, run, stream, len(data))
        stored_tail = memoryview(tail)
        ends = itertools.accumulate(len(chunk.data) for chunk in chunks)
        if not any(
            end <= len(tail) and stored_tail[len(tail) - end :] == data[:end] for end in ends
        ):
            return 0, length
        log = self._storage.read_run_log(job, run)
        stored = sorted(
            (chunk for chunk in log.chunks if chunk.stream == stream),
            key=lambda chunk: chunk.offset,
        )
        end = stored[-1].offset + len(stored[-1].data) if stored else 0
        for count in range(min(len(chunks), len(stored)), 0, -1):
            if all(
                given.timestamp is not None
                and kept.data == given.data
                and _milliseconds(kept.timestamp) == _milliseconds(given.timestamp)
                for kept, given in zip(stored[-count:], chunks[:count], strict=True)
            ):
                return count, end
        return 0, end


def _milliseconds(moment: datetime) -> int:
    # To the millisecond: a time stored as float seconds reads back within a microsecond.
    return round(moment.timestamp() * 1000)
