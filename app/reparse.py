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

import logging
import threading
from collections.abc import Sequence

from app.errors import JobNotFound, RunNotFound, StreamMoved
from app.ingest import Ingestor
from app.jobs import check_objective, objective_kind
from app.parsing import MetricDefinition, Parser, compile_definitions
from app.records import Job, RunStatus, StreamState
from app.storage.base import Storage
from app.storage.records import ChunkWrite, DefinitionsSpec, RunLog

__all__ = ["ReparseMismatch", "Reparser", "RunReplay", "reparse_run", "start_reparse"]

log = logging.getLogger("logmetrics.reparse")

_RUNS_PER_PASS = 64


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
    """One run's chunks parsed again, in the order they came, as ingest parsed them."""

    def __init__(self, parser: Parser) -> None:
        self._parser = parser
        self._states: dict[str, StreamState] = {}
        self._writes: list[ChunkWrite] = []

    @property
    def seen(self) -> dict[str, int]:
        """How far each stream has been parsed."""
        return {stream: state.next_offset for stream, state in self._states.items()}

    def feed(self, run_log: RunLog) -> None:
        for chunk in run_log.chunks:
            state = self._states.get(chunk.stream, StreamState())
            if chunk.offset != state.next_offset:
                raise ReparseMismatch(
                    f"stream {chunk.stream!r} has a chunk at {chunk.offset}, "
                    f"where {state.next_offset} was expected"
                )
            result = self._parser.feed(state, chunk.data)
            self._states[chunk.stream] = result.state
            self._writes.append(
                ChunkWrite.parsed(chunk.stream, state.next_offset, result, b"", chunk.timestamp)
            )

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
