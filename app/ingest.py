"""From a run's log bytes to stored points: the one path, for chunks and for run ends.

Parsing happens outside any write transaction, from a snapshot of the stream; storing
checks that the stream has not moved meanwhile and otherwise the work is done again.
So a slow parse (a huge chunk, a regex that times out on every line) never holds the
database's write lock, and two requests for one stream can never both apply.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from app.errors import (
    ChunkStored,
    DefinitionsChanged,
    InvalidInput,
    OffsetGap,
    OverlapMismatch,
    RunAwaitsAttempt,
    RunEnded,
    StreamMoved,
)
from app.parsing import Parser, ParserLimits, compile_definitions
from app.records import Job, Run, RunStatus, reserved_stream
from app.storage import ChunkWrite, Storage, StreamSnapshot
from app.webhooks.events import record_run_end

__all__ = ["Appended", "Ingestor"]

_ATTEMPTS = 50
T = TypeVar("T")
_CACHED_STREAMS = 10_000  # a fleet's streams: a few MB of held partial lines at most


@dataclass(frozen=True)
class Appended:
    """What posting a chunk did: the stream's new offset, lines completed, points found."""

    stream: str
    next_offset: int
    lines: int
    points: int
    objective_points: int = 0  # of those, points of the job's objective metric
    stop_reason: str | None = None  # the service asked the run to stop: why
    stored_bytes: int = 0  # new bytes kept (a resent overlap is not counted again)
    timeouts: int = 0  # lines a definition skipped: its regex ran out of time


class Ingestor:
    """Parses and stores log chunks and run ends. Thread-safe."""

    def __init__(self, storage: Storage, limits: ParserLimits, scanner: str = "auto") -> None:
        self._storage = storage
        self.limits = limits
        self._scanner = scanner
        # By the job's id and creation (a deleted job's id may be reused by a new job) and
        # its definitions' version (a re-parse gives it new ones).
        self._parsers: dict[tuple[int, datetime, int], Parser] = {}
        self._lock = threading.Lock()
        self._streams: _Recent[StreamSnapshot] = _Recent(_CACHED_STREAMS)
        # Each stream's CPU credit for regexes, in seconds: a stream starts with the
        # floor of the budget, each chunk adds its share per KiB, and what its costliest
        # definition spent is taken out. So many small chunks cannot each get the floor.
        self._credits: _Recent[float] = _Recent(_CACHED_STREAMS)

    def parser(self, job: Job) -> Parser:
        """The job's parser, compiled once per process and version of its definitions."""
        key = (job.id, job.created_at, job.definitions_version)
        with self._lock:
            parser = self._parsers.get(key)
        if parser is None:
            log_format = job.log_format
            parser = Parser(
                compile_definitions(job.metric_definitions, log_format),
                log_format,
                self.limits,
                self._scanner,
            )
            with self._lock:
                parser = self._parsers.setdefault(key, parser)
        return parser

    def append(
        self,
        job: Job,
        run: str,
        stream: str,
        data: bytes,
        offset: int | None,
        timestamp: datetime | None,
        digest: bytes | None = None,
    ) -> Appended:
        """Parse and store a chunk of a run's stream.

        Args:
            offset: where `data` starts in the stream; bytes the stream already has are
                skipped. None appends at the stream's end.
            timestamp: the points' time; None means now.
            digest: a shipper's chunk's digest (`app.intake.chunk_digest`): a chunk the
                stream holds already is not stored again (answered as stored, even once
                the run has ended).

        Raises:
            JobNotFound (deleted meanwhile), RunNotFound, RunEnded, OffsetGap;
            OverlapMismatch when bytes resent from `offset` differ from those stored;
            StreamMoved if the stream kept moving.
        """
        reserved = reserved_stream(stream)
        if reserved is not None:
            # The service's own names, whichever protocol brought the chunk.
            raise InvalidInput(reserved, stream=stream)
        parser = self.parser(job)
        if digest is not None and self._storage.chunk_stored(job, run, stream, digest):
            return self._stored(job, run, stream)
        for attempt in range(_ATTEMPTS):
            key = (job.id, job.created_at, run, stream)
            # The stream as this process last wrote it, if it did; the write checks the
            # run and the offset under the database's lock, so a stale one only costs a
            # retry. Any answer but a plain append is decided on a fresh read.
            snapshot = self._streams.get(key) if attempt == 0 else None
            if snapshot is not None and offset is not None and offset != snapshot.state.next_offset:
                snapshot = None
            if snapshot is None:
                try:
                    snapshot = self._storage.read_stream(job, run, stream)
                except DefinitionsChanged:
                    job, parser = self._job_again(job)
                    continue
            have = snapshot.state.next_offset
            if offset is not None and offset > have:
                raise OffsetGap(stream, offset, have)
            if offset is not None and offset < have:
                self._check_overlap(job, run, stream, data[: have - offset], offset)
            fresh = data[have - offset :] if offset is not None else data
            if not fresh and (offset is not None or not data):
                # A retry of bytes already stored: done, even if the run has ended since.
                return Appended(stream, have, 0, 0)
            _check_in_progress(snapshot.run)
            credit = self._credits.get(key)
            share = self.limits.cpu_budget(len(fresh)) - self.limits.cpu_floor
            budget = share + (self.limits.cpu_floor if credit is None else credit)
            result = parser.feed(snapshot.state, fresh, budget)
            at = timestamp or datetime.now(UTC)
            write = ChunkWrite.parsed(stream, have, result, fresh, at, digest)
            try:
                stop_reason = self._storage.append_chunk(job, snapshot.run, write)
            except ChunkStored:
                # Another try of the same chunk stored it first.
                self._streams.discard(key)
                return self._stored(job, run, stream)
            except DefinitionsChanged:
                self._streams.discard(key)
                job, parser = self._job_again(job)
                continue
            except (StreamMoved, RunEnded):
                self._streams.discard(key)
                continue  # read again: another chunk landed, or the run ended
            self._streams.put(key, StreamSnapshot(snapshot.run, result.state))
            self._credits.put(key, min(self.limits.cpu_floor, max(0.0, budget - result.cpu_spent)))
            return Appended(
                stream,
                result.state.next_offset,
                result.lines,
                len(result.points),
                sum(1 for point in result.points if point.metric == job.objective_metric),
                stop_reason,
                len(fresh),
                sum(result.timeouts.values()),
            )
        raise StreamMoved(f"stream {stream!r} kept moving; send the chunk again")

    def _stored(self, job: Job, run: str, stream: str) -> Appended:
        """The answer to a chunk the stream holds already: nothing new, where it ends."""
        return Appended(stream, self._storage.read_stream(job, run, stream).state.next_offset, 0, 0)

    def _job_again(self, job: Job) -> tuple[Job, Parser]:
        """The job of `job`'s name as stored now, and its parser: `job` was re-parsed, or
        deleted and perhaps created again, since it was read (the storage said so, and
        forgot it). Raises: JobNotFound if there is none now."""
        fresh = self._storage.get_job(job.name)
        return fresh, self.parser(fresh)

    def _check_overlap(self, job: Job, run: str, stream: str, sent: bytes, offset: int) -> None:
        """Raises OverlapMismatch unless `sent`, resent from `offset`, is what the stream
        holds there: a retry may repeat bytes, never rewrite them."""
        stored = self._storage.read_log(job, run, stream, offset, offset + len(sent))
        position = offset
        for piece in stored.pieces:
            mine = sent[position - offset : position - offset + len(piece)]
            if mine != piece:
                differs = next(
                    i for i, (a, b) in enumerate(zip(mine, piece, strict=True)) if a != b
                )
                raise OverlapMismatch(stream, position + differs)
            position += len(piece)

    def complete(self, job: Job, run: str, status: RunStatus, failure_reason: str | None) -> Run:
        """Parse every stream's held last line and end the run.

        Ending an ended run again with the same status changes nothing.

        Raises:
            JobNotFound (deleted meanwhile), RunNotFound; RunEnded if it ended with
            another status.
        """
        parser = self.parser(job)
        for _ in range(_ATTEMPTS):
            try:
                snapshot = self._storage.read_run_streams(job, run)
            except DefinitionsChanged:
                job, parser = self._job_again(job)
                continue
            if snapshot.run.status is not RunStatus.IN_PROGRESS:
                if snapshot.run.status is status:
                    return self._storage.get_run(job, run)
                raise RunEnded(
                    f"run {run!r} has already ended as {snapshot.run.status.value}",
                    run=run,
                    status=snapshot.run.status.value,
                )
            now = datetime.now(UTC)
            flushes: list[ChunkWrite] = []
            for stream, state in sorted(snapshot.streams.items()):
                if not state.partial_length:
                    continue
                result = parser.finish(state)
                # Its points get the time its last bytes came, as any other line's do.
                at = snapshot.partial_times.get(stream, now)
                flushes.append(ChunkWrite.parsed(stream, state.next_offset, result, b"", at))
            seen = {stream: state.next_offset for stream, state in snapshot.streams.items()}
            try:
                ended = self._storage.complete_run(
                    job, snapshot.run, status, failure_reason, now, flushes, seen
                )
            except DefinitionsChanged:
                job, parser = self._job_again(job)
                continue
            except (StreamMoved, RunEnded):
                continue  # read again: a chunk landed, or another request ended the run
            # Every end of a run passes here (a worker's, the reaper's, /v1's complete).
            record_run_end(self._storage, job, ended)
            return ended
        raise StreamMoved(f"run {run!r} kept receiving logs; end it again")


def _check_in_progress(run: Run) -> None:
    if run.status is not RunStatus.IN_PROGRESS:
        raise RunEnded(
            f"run {run.name!r} has ended ({run.status.value}); it takes no more logs",
            run=run.name,
            status=run.status.value,
        )
    if run.awaits_attempt:
        raise RunAwaitsAttempt(
            f"run {run.name!r} waits for a worker to begin its attempt {run.attempt}; it "
            "takes no logs until then",
            run=run.name,
            attempt=run.attempt,
        )


class _Recent(Generic[T]):
    """The values of the streams this process saw last, by (job id, job creation, run,
    stream); least recently used ones go first. Thread-safe."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[int, datetime, str, str], T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, datetime, str, str]) -> T | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple[int, datetime, str, str], value: T) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def discard(self, key: tuple[int, datetime, str, str]) -> None:
        with self._lock:
            self._entries.pop(key, None)
