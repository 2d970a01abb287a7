"""Re-parse: a job's stored raw logs parsed again with new definitions.

`start_reparse` checks the new definitions and gives them to the job at once, so every
chunk parsed from then on uses them. A `Reparser` thread in each service process then
re-parses the job's runs one by one (`reparse_run`): it reads a run's chunks, parses
them as ingest would have, in the order they came, and hands the storage a replay that
catches up, under the run's lock, on chunks that landed meanwhile. A run's summaries,
points and objective value are replaced at once, so a reader sees either the old or
the new, and a running run ends up with exactly the points the new definitions give.
If a process stops half-way, any process's `Reparser` goes on where it left off: the
runs still to do are those whose `definitions_version` is behind their job's.
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections.abc import Sequence

from app.errors import JobNotFound, RunNotFound, StreamMoved
from app.ingest import Ingestor
from app.jobs import check_objective, objective_kind
from app.parsing import MetricDefinition, Parser, compile_definitions
from app.records import Job, RunStatus, StreamState
from app.storage.base import Storage
from app.storage.records import ChunkWrite, DefinitionsSpec, RunLog, StoredChunk

__all__ = ["ReparseMismatch", "Reparser", "RunReplay", "reparse_run", "start_reparse"]

log = logging.getLogger("logmetrics.reparse")

_RUNS_PER_PASS = 64
# How many bytes of a stream's consecutive chunks a re-parse feeds the parser at once.
_JOINED_BYTES = 1 << 20
_JOIN_TRIES = 2


class ReparseMismatch(RuntimeError):
    """Parsing a run's stored chunks again ended in another stream state than the one
    stored: a bug, since the state does not depend on the definitions."""


def start_reparse(
    storage: Storage,
    job: Job,
    definitions: Sequence[MetricDefinition],
    objective_metric: str | None = None,
    objective_type: str | None = None,
    strategy: str | None = None,
) -> Job:
    """Check the new definitions (and objective, else the job's) and give them to the job.

    Raises:
        InvalidMetricDefinition: a definition breaks a rule.
        InvalidObjective: the objective metric is not one of the definitions.
    """
    compiled = compile_definitions(definitions, job.log_format)
    metric = objective_metric or job.objective_metric
    check_objective(metric, [definition.name for definition in compiled])
    kind, chosen = objective_kind(
        objective_type or job.objective_type, strategy or job.objective_strategy
    )
    spec = DefinitionsSpec(
        objective_metric=metric,
        objective_type=kind,
        objective_strategy=chosen,
        metric_definitions=tuple(definitions),
    )
    return storage.replace_definitions(job, spec)


class RunReplay:
    """One run's chunks parsed again, in the order they came, as ingest parsed them.

    Ingest parsed each chunk as it came, often a second of lines, a few KiB; the parser
    takes a call's fixed cost for each. The replay instead feeds a stream's consecutive
    chunks joined, up to `_JOINED_BYTES`, wherever a chunk ends at a line end (so no line
    is held across the join), and hands each chunk back what it would have yielded
    alone: the lines it completed are counted from its bytes (`LineFramer.count`), and
    the points and rejections of those lines are its own. Where that cannot be told
    exactly (the counts disagree with the parser's, a regex timed out, or rejections
    went uncounted among the examples kept) the joined chunks are parsed one by one, and
    after `_JOIN_TRIES` such joins, the rest of that stream too.
    """

    def __init__(self, parser: Parser) -> None:
        self._parser = parser
        self._states: dict[str, StreamState] = {}
        self._writes: list[ChunkWrite] = []
        # Joins that could not be shared out, by stream: after `_JOIN_TRIES`, a stream
        # (say one with a non-number on every line) is parsed chunk by chunk.
        self._failed_joins: dict[str, int] = {}

    @property
    def seen(self) -> dict[str, int]:
        """How far each stream has been parsed."""
        return {stream: state.next_offset for stream, state in self._states.items()}

    def feed(self, run_log: RunLog) -> None:
        """Parse the run log's chunks (those after what was fed before).

        Raises: ReparseMismatch if a stream's chunk does not start where it was expected.
        """
        writes: list[ChunkWrite | None] = [None] * len(run_log.chunks)
        by_stream: dict[str, list[int]] = {}
        for index, chunk in enumerate(run_log.chunks):
            by_stream.setdefault(chunk.stream, []).append(index)
        for stream, indices in by_stream.items():
            state = self._states.get(stream, StreamState())
            at = state.next_offset
            for index in indices:
                chunk = run_log.chunks[index]
                if chunk.offset != at:
                    raise ReparseMismatch(
                        f"stream {stream!r} has a chunk at {chunk.offset}, where {at} was expected"
                    )
                at += len(chunk.data)
            done = 0
            for group in self._joins([run_log.chunks[index] for index in indices]):
                joined = None
                if self._failed_joins.get(stream, 0) < _JOIN_TRIES:
                    joined = self._joined(state, group)
                    if joined is None and len(group) > 1:
                        self._failed_joins[stream] = self._failed_joins.get(stream, 0) + 1
                group_writes = joined or self._one_by_one(state, group)
                for index, write in zip(indices[done:], group_writes, strict=False):
                    writes[index] = write
                done += len(group)
                state = group_writes[-1].state
            self._states[stream] = state
        # Each stream's writes where its chunks were: the order they came in.
        self._writes += [write for write in writes if write is not None]

    def _joins(self, chunks: list[StoredChunk]) -> list[list[StoredChunk]]:
        """A stream's chunks in groups to parse joined: a group ends after a chunk that
        ends inside a line, or once it holds `_JOINED_BYTES`."""
        groups: list[list[StoredChunk]] = []
        group: list[StoredChunk] = []
        size = 0
        for chunk in chunks:
            group.append(chunk)
            size += len(chunk.data)
            if not self._ends_line(chunk.data) or size >= _JOINED_BYTES:
                groups.append(group)
                group, size = [], 0
        if group:
            groups.append(group)
        return groups

    def _ends_line(self, data: bytes) -> bool:
        last = data[-1:]
        return last == b"\n" or (last == b"\r" and self._parser.framer.cr_ends)

    def _one_by_one(self, state: StreamState, group: list[StoredChunk]) -> list[ChunkWrite]:
        writes = []
        for chunk in group:
            result = self._parser.feed(state, chunk.data)
            writes.append(
                ChunkWrite.parsed(chunk.stream, state.next_offset, result, b"", chunk.timestamp)
            )
            state = result.state
        return writes

    def _joined(self, state: StreamState, group: list[StoredChunk]) -> list[ChunkWrite] | None:
        """The group parsed in one call and shared out to its chunks; None where the
        share cannot be told exactly."""
        if len(group) == 1:
            return None
        result = self._parser.feed(state, b"".join(chunk.data for chunk in group))
        if result.timeouts:
            return None  # each chunk's CPU budget is its own: parse them as they came
        framer = self._parser.framer
        ends: list[int] = []  # the last line each chunk completes
        lines, skip_lf = state.lines, state.skip_lf
        for chunk in group:
            lines += framer.count(chunk.data) - (skip_lf and chunk.data[:1] == b"\n")
            ends.append(lines)
            skip_lf = framer.cr_ends and chunk.data[-1:] == b"\r"
        if lines != result.state.lines:
            return None
        kept: dict[str, int] = {}
        for rejection in result.rejections:
            kept[rejection.metric] = kept.get(rejection.metric, 0) + 1
        if kept != {metric: count for metric, count in result.rejected.items() if count}:
            return None  # some rejections are counted only: which chunk had them is lost
        point_lines = [point.line for point in result.points]
        rejection_lines = [rejection.line for rejection in result.rejections]
        if point_lines != sorted(point_lines):
            return None  # not in line order (never seen): no line splits them
        writes = []
        first_point = first_rejection = 0
        offset = state.next_offset
        for chunk, end in zip(group, ends, strict=True):
            last_point = bisect.bisect_right(point_lines, end, first_point)
            last_rejection = bisect.bisect_right(rejection_lines, end, first_rejection)
            rejections = result.rejections[first_rejection:last_rejection]
            rejected: dict[str, int] = {}
            for rejection in rejections:
                rejected[rejection.metric] = rejected.get(rejection.metric, 0) + 1
            after = offset + len(chunk.data)
            # Within the group every chunk but the last ends at a line end: nothing held.
            chunk_state = (
                result.state
                if chunk is group[-1]
                else StreamState(after, end, b"", 0, framer.cr_ends and chunk.data[-1:] == b"\r")
            )
            writes.append(
                ChunkWrite(
                    stream=chunk.stream,
                    expected_offset=offset,
                    state=chunk_state,
                    data=b"",
                    points=result.points[first_point:last_point],
                    rejections=rejections,
                    rejected=rejected,
                    timeouts={},
                    timestamp=chunk.timestamp,
                )
            )
            first_point, first_rejection, offset = last_point, last_rejection, after
        return writes

    def complete(self, run_log: RunLog) -> list[ChunkWrite]:
        """Parse the chunks that came since, and an ended run's last lines; every write.

        Raises: ReparseMismatch if a stream does not end where it is stored.
        """
        self.feed(run_log)
        if run_log.run.status is not RunStatus.IN_PROGRESS:
            for stream, state in sorted(self._states.items()):
                if not state.partial_length:
                    continue
                result = self._parser.finish(state)
                self._states[stream] = result.state
                # The time its last bytes came, as when the run ended.
                last = next(w for w in reversed(self._writes) if w.stream == stream)
                self._writes.append(
                    ChunkWrite.parsed(stream, state.next_offset, result, b"", last.timestamp)
                )
        for stream, stored in run_log.streams.items():
            if self._states.get(stream, StreamState()) != stored:
                raise ReparseMismatch(f"stream {stream!r} parsed again ends elsewhere than stored")
        return self._writes


def reparse_run(storage: Storage, ingestor: Ingestor, job: Job, run: str) -> bool:
    """Re-parse one run with the job's definitions. False if there was nothing to do.

    Raises: JobNotFound, RunNotFound (deleted meanwhile); StreamMoved or ReparseMismatch
    as the storage and replay do.
    """
    run_log = storage.read_run_log(job, run)
    replay = RunReplay(ingestor.parser(job))
    replay.feed(run_log)
    return storage.replace_run_points(job, run_log.run, replay.seen, replay.complete)


class Reparser:
    """Re-parses, in a thread, every run whose points come from older definitions than
    its job's. Several service processes may each run one: a run is replaced once per
    version, under its lock, whoever gets there first."""

    def __init__(self, storage: Storage, ingestor: Ingestor, interval: float = 2.0) -> None:
        self._storage = storage
        self._ingestor = ingestor
        self._interval = interval
        self._stopped = threading.Event()
        self._woken = threading.Event()
        # Runs whose re-parse failed, with the version: not tried again for that version.
        self._failed: set[tuple[str, str, int]] = set()
        self._thread = threading.Thread(target=self._loop, name="logmetrics-reparse", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._woken.set()
        self._thread.join()

    def wake(self) -> None:
        """Start on the runs now, not at the next interval (after a new re-parse)."""
        self._woken.set()

    def work(self) -> int:
        """One pass over the runs to re-parse; how many were replaced."""
        done = 0
        for job_name, run_name in self._storage.runs_to_reparse(_RUNS_PER_PASS):
            if self._stopped.is_set():
                break
            try:
                job = self._storage.get_job(job_name)
            except JobNotFound:
                continue
            if (job_name, run_name, job.definitions_version) in self._failed:
                continue
            try:
                done += reparse_run(self._storage, self._ingestor, job, run_name)
            except (JobNotFound, RunNotFound, StreamMoved):
                continue  # deleted, or it kept moving: the next pass sees
            except ReparseMismatch:
                log.exception("could not re-parse run %r of job %r", run_name, job_name)
                self._failed.add((job_name, run_name, job.definitions_version))
        return done

    def _loop(self) -> None:
        while not self._stopped.is_set():
            self._woken.clear()
            try:
                replaced = self.work()
            except Exception:  # an outage of the database: try again next time
                log.exception("could not re-parse runs")
                replaced = 0
            if not replaced:
                self._woken.wait(self._interval)
