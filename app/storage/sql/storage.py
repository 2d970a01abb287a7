"""`SqlStorage`: the storage contract on SQLAlchemy, SQLite and PostgreSQL alike.

Each method is one transaction from `Database`; what it does lives in the module of
its concept (`runs`, `ingest`, `reads`, `logs`, `reparse`, `tuning`), and how rows become
records in `rows`. It holds no SQL of its own. It is over 400 lines because it is the
contract's one implementation, a method for each of the contract's (`app.storage.base`):
split, it would be a class spread over files.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import zstandard
from sqlalchemy import Connection, event

from app.errors import (
    DefinitionsChanged,
    JobExists,
    JobNotFound,
    RunExists,
    RunNotFound,
    StreamNotFound,
)
from app.records import (
    DefinitionsVersion,
    Job,
    JobOverview,
    JobState,
    JobStatus,
    LogRange,
    ObjectiveCurve,
    ReparseProgress,
    Run,
    RunSeries,
    RunStatus,
    SeriesPage,
    StopCause,
    StreamInfo,
    StreamState,
    Tag,
    TimedValue,
)
from app.storage.base import Storage
from app.storage.migrations import upgrade
from app.storage.records import (
    ChunkWrite,
    DefinitionsSpec,
    JobSpec,
    LeasePlan,
    Replay,
    RunLog,
    RunPage,
    RunQuery,
    RunSnapshot,
    StreamSnapshot,
)
from app.storage.sql import ingest, reads, reparse, tuning
from app.storage.sql import runs as runs_
from app.storage.sql import tags as tags_
from app.storage.sql import webhooks as webhooks_
from app.storage.sql.batching import GroupCommit
from app.storage.sql.engine import Database
from app.storage.sql.logs import log_pieces
from app.storage.sql.rows import now, run_of, state_of, to_datetime
from app.storage.sql.statements import IngestStatements
from app.storage.webhook_records import (
    DeliveryAttempt,
    DueDelivery,
    Webhook,
    WebhookEvent,
    WebhookSpec,
)

__all__ = ["SqlStorage"]

_STATEMENT_KINDS = frozenset({"select", "insert", "update", "delete", "with"})
_JOB_CACHE_SECONDS = 5.0
_JOBS_CACHED = 10_000


class SqlStorage(Storage):
    def __init__(
        self,
        url: str,
        *,
        rejections_kept: int = 5,
        sqlite_synchronous: str = "FULL",
        auto_upgrade: bool = True,
    ) -> None:
        """
        Args:
            url: a SQLAlchemy database URL; for SQLite, a file (its folder is created).
            rejections_kept: rejection examples kept per run and metric.
            sqlite_synchronous: SQLite's `synchronous` pragma; FULL makes a commit
                survive power loss, not just a crash of the service.
            auto_upgrade: migrate the schema to this version's; False refuses an
                out-of-date database (`migrations.OutOfDate`).
        """
        self._db = Database(url, sqlite_synchronous=sqlite_synchronous)
        self._rejections_kept = rejections_kept
        upgrade(self._db.engine, allowed=auto_upgrade)
        self._statements = IngestStatements(self._db.engine.dialect)
        self._group_commit = GroupCommit(self._db) if self._db.dialect.group_commit else None
        self._codecs = threading.local()
        self._jobs: dict[str, tuple[float, Job]] = {}

    @property
    def backend(self) -> str:
        """The dialect's name: `sqlite`, `postgresql`, or `generic`."""
        return self._db.dialect.name

    def close(self) -> None:
        if self._group_commit is not None:
            self._group_commit.close()
        self._db.close()

    # Jobs.

    def create_job(self, spec: JobSpec) -> Job:
        created = now()
        with self._db.write(on_conflict=lambda _: JobExists(spec.name)) as conn:
            job_id = runs_.insert_job(conn, spec, created)
        return Job(
            id=job_id,
            name=spec.name,
            objective_metric=spec.objective_metric,
            objective_type=spec.objective_type,
            objective_strategy=spec.objective_strategy,
            log_format=spec.log_format,
            metric_definitions=spec.metric_definitions,
            environment=dict(spec.environment),
            created_at=to_datetime(created),
            search=spec.search,
        )

    def get_job(self, name: str) -> Job:
        # Every request names its job: found jobs are kept a few seconds, missing ones
        # always looked up. A kept job may have been re-parsed, or deleted and created
        # again, by another process: every write checks the job it is given against
        # the stored one (id and creation time) in its own transaction and refuses a
        # stale one (`DefinitionsChanged`, `JobNotFound`); a read that finds no run
        # checks it too. A stale job is forgotten here, so the next request reads anew.
        cached = self._jobs.get(name)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        with self._db.read() as conn:
            job = runs_.get_job(conn, name)
        if len(self._jobs) >= _JOBS_CACHED:
            self._jobs.clear()
        self._jobs[name] = (time.monotonic() + _JOB_CACHE_SECONDS, job)
        return job

    def delete_job(self, job: Job) -> None:
        try:
            with self._db.write() as conn:
                runs_.delete_job(conn, job)
        finally:
            # Other processes may hold it for up to _JOB_CACHE_SECONDS; every write of
            # theirs to it is then refused.
            self._forget(job)

    def _forget(self, job: Job) -> None:
        """Drop `job` from the kept jobs (a newer one kept under its name stays)."""
        kept = self._jobs.get(job.name, (0.0, None))[1]
        if kept is not None and kept.id == job.id and kept.created_at == job.created_at:
            self._jobs.pop(job.name, None)

    def _stale(self, conn: Connection, job: Job) -> bool:
        """Whether `job` is no longer the stored job of its name; a stale one is forgotten."""
        if runs_.is_current(conn, job):
            return False
        self._forget(job)
        return True

    def list_jobs(self) -> list[JobOverview]:
        with self._db.read() as conn:
            found = runs_.list_jobs(conn)
        overviews = []
        for job in found:
            try:
                overviews.append(self.job_overview(job))
            except JobNotFound:
                continue  # deleted since the list was read
        return overviews

    def job_overview(self, job: Job, include_in_progress: bool = False) -> JobOverview:
        statuses = [RunStatus.COMPLETED, RunStatus.STOPPED]
        if include_in_progress:
            statuses.append(RunStatus.IN_PROGRESS)
        with self._db.read() as conn:
            counts = runs_.run_counts(conn, job)
            best = runs_.best_run(conn, job, statuses)
            state = tuning.job_state(conn, job)
            tallies = tuning.tallies(conn, job)
        return JobOverview(job, counts, best, state, tallies)

    # Runs.

    def create_run(
        self,
        job: Job,
        name: str | None,
        hyperparameters: Mapping[str, str],
        ingest_token: Callable[[int], str | None] | None = None,
    ) -> Run:
        # A generated name another writer took first is counted on from, up to 100 times.
        for _ in range(1 if name is not None else 100):
            created = now()
            try:
                with self._db.write(on_conflict=lambda _: RunExists(job.name, name or "")) as conn:
                    self._lock_current(conn, job)
                    run_id, run_name = runs_.insert_run(
                        conn, job, name, hyperparameters, created, ingest_token
                    )
            except RunExists:
                if name is not None:
                    raise
                continue
            return Run(
                id=run_id,
                job=job.name,
                name=run_name,
                status=RunStatus.IN_PROGRESS,
                failure_reason=None,
                created_at=to_datetime(created),
                ended_at=None,
                hyperparameters=dict(hyperparameters),
                objective_metric=job.objective_metric,
                objective_value=None,
            )
        raise RunExists(job.name, "run-*")

    def _lock_current(self, conn: Connection, job: Job) -> None:
        """Lock the job against deletes for this write. Raises: JobNotFound, forgetting
        `job`, if it was deleted (a newer job of its name is looked up afresh next)."""
        try:
            runs_.lock_job(conn, job, share=True)
        except JobNotFound:
            self._forget(job)
            raise

    def delete_run(self, job: Job, name: str) -> None:
        with self._db.write() as conn:
            runs_.delete_run(conn, job, name)

    def run_id(self, job: Job, name: str) -> int:
        with self._db.read() as conn:
            return int(self._run_row(conn, job, name).id)

    def run_token_hash(self, run_id: int) -> str | None:
        with self._db.read() as conn:
            return runs_.run_token_hash(conn, run_id)

    def get_run(self, job: Job, name: str) -> Run:
        with self._db.read() as conn:
            row = self._run_row(conn, job, name)
            found = runs_.summaries(conn, [row.id])
            stream_rows = runs_.stream_rows(conn, row.id)
            attempts = tuning.run_attempts_of(conn, row.id) if row.attempt > 1 else ()
        stream_infos = tuple(
            StreamInfo(s.name, s.next_offset, s.lines, s.partial_length) for s in stream_rows
        )
        return replace(run_of(row, job, found.get(row.id, ()), stream_infos), attempts=attempts)

    def list_runs(self, job: Job, query: RunQuery) -> RunPage:
        with self._db.read() as conn:
            return runs_.list_runs(conn, job, query)

    def best_run(self, job: Job, statuses: Sequence[RunStatus]) -> Run | None:
        with self._db.read() as conn:
            return runs_.best_run(conn, job, statuses)

    # Ingest.

    def read_stream(self, job: Job, run: str, stream: str) -> StreamSnapshot:
        with self._db.read() as conn:
            row = self._ingest_run_row(conn, job, run)
            found = runs_.stream_rows(conn, row.id, stream)
        state = state_of(found[0]) if found else StreamState()
        return StreamSnapshot(run_of(row, job), state)

    def read_run_streams(self, job: Job, run: str) -> RunSnapshot:
        with self._db.read() as conn:
            row = self._ingest_run_row(conn, job, run)
            stream_rows = runs_.stream_rows(conn, row.id)
        return RunSnapshot(
            run_of(row, job),
            {s.name: state_of(s) for s in stream_rows},
            {
                s.name: to_datetime(s.partial_timestamp)
                for s in stream_rows
                if s.partial_timestamp is not None
            },
        )

    def _run_row(self, conn: Connection, job: Job, run: str) -> Any:
        """The run's row. Raises: RunNotFound; a `job` deleted since it was read is then
        forgotten, so the next request finds a newer job of its name, if there is one."""
        try:
            return runs_.run_row(conn, job, run)
        except RunNotFound:
            self._stale(conn, job)
            raise

    def _ingest_run_row(self, conn: Connection, job: Job, run: str) -> Any:
        """The run's row, for a write to come. Raises: RunNotFound; DefinitionsChanged
        when `job` was deleted since it was read (a newer job of its name may hold a run
        of that name: the caller reads the job again)."""
        if self._stale(conn, job):
            raise DefinitionsChanged(f"job {job.name!r} was deleted since it was read")
        return runs_.run_row(conn, job, run)

    def chunk_stored(self, job: Job, run: str, stream: str, digest: bytes) -> bool:
        with self._db.read() as conn:
            row = self._ingest_run_row(conn, job, run)
            found = self._statements.stream_id.execute(
                conn, {"run_id": row.id, "name": stream}
            ).first()
            return found is not None and bool(
                self._statements.chunk_with_digest.execute(
                    conn, {"stream_id": found[0], "digest": digest}
                ).first()
            )

    def append_chunk(self, job: Job, run: Run, write: ChunkWrite) -> str | None:
        # Compressed here, on the caller's thread: the writer's thread only writes.
        compressed = self._compressor().compress(write.data) if write.data else b""

        def store(conn: Connection) -> str | None:
            stop_reason = ingest.lock_run(conn, self._statements, job, run)
            ingest.store_chunk(
                conn, self._statements, compressed, job, run, write, self._rejections_kept
            )
            return stop_reason

        try:
            if self._group_commit is not None:
                stop_reason = self._group_commit.run(run.id, store)
            else:
                with self._db.write() as conn:
                    stop_reason = store(conn)
        except DefinitionsChanged:
            self._forget(job)  # so that the caller reads the new definitions
            raise
        return stop_reason

    def complete_run(
        self,
        job: Job,
        run: Run,
        status: RunStatus,
        failure_reason: str | None,
        ended_at: datetime,
        flushes: Sequence[ChunkWrite],
        streams_seen: Mapping[str, int] | None = None,
    ) -> Run:
        try:
            with self._db.write() as conn:
                ingest.lock_run(conn, self._statements, job, run)
                if streams_seen is not None:
                    ingest.check_streams_unmoved(conn, run, streams_seen)
                for write in flushes:
                    compressed = self._compressor().compress(write.data) if write.data else b""
                    ingest.store_chunk(
                        conn, self._statements, compressed, job, run, write, self._rejections_kept
                    )
                ingest.complete_run(conn, run, status, failure_reason, ended_at)
        except DefinitionsChanged:
            self._forget(job)
            raise
        return self.get_run(job, run.name)

    def observe_statements(self, observe: Callable[[str, float], None]) -> None:
        engine = self._db.engine

        @event.listens_for(engine, "before_cursor_execute")
        def started(conn: Any, _cursor: Any, _sql: str, *_args: Any) -> None:
            conn.info.setdefault("statement_started", []).append(time.perf_counter())

        @event.listens_for(engine, "after_cursor_execute")
        def ended(conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
            seconds = time.perf_counter() - conn.info["statement_started"].pop()
            word = sql.lstrip().split(None, 1)[0].lower() if sql.strip() else "other"
            observe(word if word in _STATEMENT_KINDS else "other", seconds)

    # Re-parse.

    def replace_definitions(self, job: Job, spec: DefinitionsSpec) -> Job:
        try:
            with self._db.write() as conn:
                reparse.replace_definitions(conn, job, spec)
        finally:
            self._jobs.pop(job.name, None)
        return self.get_job(job.name)

    def definitions_history(self, job: Job) -> list[DefinitionsVersion]:
        with self._db.read() as conn:
            return reparse.definitions_history(conn, job)

    def reparse_progress(self, job: Job) -> ReparseProgress:
        with self._db.read() as conn:
            return reparse.reparse_progress(conn, job)

    def runs_to_reparse(self, limit: int) -> list[tuple[str, str]]:
        with self._db.read() as conn:
            return reparse.runs_to_reparse(conn, limit)

    def read_run_log(self, job: Job, run: str) -> RunLog:
        found = self.get_run(job, run)
        with self._db.read() as conn:
            return reparse.read_run_log(conn, found)

    def replace_run_points(
        self, job: Job, run: Run, seen: Mapping[str, int], replay: Replay
    ) -> bool:
        try:
            with self._db.write() as conn:
                return reparse.replace_run_points(
                    conn, self._statements, job, run, seen, replay, self._rejections_kept
                )
        except JobNotFound:
            self._forget(job)
            raise

    # The tuning service.

    def job_state(self, job: Job) -> JobState:
        with self._db.read() as conn:
            return tuning.job_state(conn, job)

    def set_job_state(self, job: Job, expected: Sequence[JobStatus], state: JobState) -> bool:
        completion = state.completion
        values = {
            "status": state.status.value,
            "status_reason": state.reason,
            "completion_criterion": completion[0] if completion else None,
            "completion_detail": completion[1] if completion else None,
            "completed_at": state.completed_at.timestamp() if state.completed_at else None,
            "ended_at": state.ended_at.timestamp() if state.ended_at else None,
        }
        with self._db.write() as conn:
            return tuning.set_job_state(conn, job, expected, values)

    def retry_run(
        self,
        job: Job,
        run: Run,
        reason: str,
        ended_at: datetime,
        lapsed_by: datetime | None = None,
    ) -> Run:
        with self._db.write() as conn:
            return tuning.retry_run(
                conn,
                job,
                run,
                reason,
                ended_at.timestamp(),
                lapsed_by.timestamp() if lapsed_by else None,
            )

    def note_waiting(self, job: Job, reason: str | None, kind: str) -> bool:
        with self._db.write() as conn:
            return tuning.note_waiting(conn, job, reason, kind)

    def lease_run(
        self,
        jobs: Sequence[str] | None,
        worker: str,
        lease_seconds: float,
        plan: LeasePlan,
        ingest_token: Callable[[int], str | None] | None = None,
        request: str | None = None,
    ) -> tuple[Job, Run] | None:
        created = now()
        with self._db.write() as conn:
            if request is not None:
                given = tuning.lease_given(
                    conn, worker, request, created + lease_seconds, ingest_token
                )
                if given is not None:
                    return given
            leased, skipped = tuning.lease_run(
                conn, jobs, worker, created, created + lease_seconds, plan, ingest_token, request
            )
        # Jobs another worker's lease held (PostgreSQL's SKIP LOCKED): wait for each in
        # turn, rather than answer "no work" while there is some.
        for job_id in skipped:
            if leased is not None:
                break
            created = now()
            with self._db.write() as conn:
                leased, _ = tuning.lease_run(
                    conn,
                    jobs,
                    worker,
                    created,
                    created + lease_seconds,
                    plan,
                    ingest_token,
                    request,
                    wait_for=job_id,
                )
        return leased

    def renew_lease(
        self,
        job: Job,
        run: str,
        worker: str,
        lease_seconds: float,
        gpus: Sequence[str] | None = None,
        attempt: int | None = None,
    ) -> Run:
        with self._db.write() as conn:
            return tuning.renew_lease(conn, job, run, worker, now() + lease_seconds, gpus, attempt)

    def request_stop(self, job: Job, run: str | None, reason: str, cause: StopCause) -> list[str]:
        with self._db.write() as conn:
            found = run_of(self._run_row(conn, job, run), job) if run is not None else None
            return tuning.request_stop(conn, job, found, reason, cause.value)

    def open_search_jobs(self, jobs: Sequence[str] | None) -> int:
        with self._db.read() as conn:
            return tuning.open_search_jobs(conn, jobs)

    def runs_in_progress(self) -> tuple[int, int]:
        with self._db.read() as conn:
            return tuning.runs_in_progress(conn)

    def expired_leases(self) -> list[tuple[str, str]]:
        with self._db.read() as conn:
            return tuning.expired_leases(conn, now())

    def objective_curves(self, job: Job, run: str | None = None) -> list[ObjectiveCurve]:
        if run is not None and "\x00" in run:
            return []
        with self._db.read() as conn:
            return tuning.objective_curves(conn, job, run)

    def jobs_with_run(self, run: str) -> list[str]:
        if "\x00" in run:
            return []
        with self._db.read() as conn:
            return runs_.jobs_with_run(conn, run)

    def job_runs(self, job: Job) -> list[Run]:
        with self._db.read() as conn:
            return runs_.job_runs(conn, job)

    def metrics_with_points(self, job: Job) -> list[str]:
        with self._db.read() as conn:
            return runs_.metrics_with_points(conn, job)

    # Tags.

    def tags(self, job: Job, run: str | None = None) -> list[Tag]:
        with self._db.read() as conn:
            return tags_.tags(conn, job, run)

    def add_tags(self, job: Job, run: str | None, tags: Sequence[Tag], most: int) -> list[Tag]:
        with self._db.write() as conn:
            return tags_.add_tags(conn, job, run, tags, most)

    def delete_tags(self, job: Job, run: str | None, keys: Sequence[str]) -> None:
        with self._db.write() as conn:
            tags_.delete_tags(conn, job, run, keys)

    # Reads.

    # Webhooks.

    def webhooks(self, job: Job) -> list[Webhook]:
        with self._db.read() as conn:
            if not runs_.is_current(conn, job):
                raise JobNotFound(job.name)
            return webhooks_.job_webhooks(conn, job)

    def replace_webhooks(self, job: Job, specs: Sequence[WebhookSpec]) -> list[Webhook]:
        with self._db.write() as conn:
            webhooks_.replace_webhooks(conn, job, specs, now())
            return webhooks_.job_webhooks(conn, job)

    def delete_webhook(self, job: Job, webhook: str) -> None:
        with self._db.write() as conn:
            webhooks_.delete_webhook(conn, job, webhook)

    def record_webhook_event(self, job: Job, event: WebhookEvent) -> int:
        with self._db.write() as conn:
            return webhooks_.record_event(conn, job, event, now())

    def claim_deliveries(self, now: datetime, until: datetime, limit: int) -> list[DueDelivery]:
        # Asked every second by each process: a read first, so that an idle outbox never
        # takes SQLite's one writer.
        with self._db.read() as conn:
            if not webhooks_.any_due(conn, now.timestamp()):
                return []
        with self._db.write() as conn:
            return webhooks_.claim_deliveries(conn, now.timestamp(), until.timestamp(), limit)

    def finish_delivery(self, delivery: str, claim: str, attempt: DeliveryAttempt) -> bool:
        with self._db.write() as conn:
            return webhooks_.finish_delivery(conn, delivery, claim, attempt)

    def metric_series(self, job: Job, run: str, metric: str, after: int, limit: int) -> SeriesPage:
        with self._db.read() as conn:
            row = self._run_row(conn, job, run)
            return reads.metric_series(conn, row.id, metric, after, limit)

    def metric_values(
        self, job: Job, run: str, metric: str, start: datetime, end: datetime
    ) -> list[TimedValue]:
        with self._db.read() as conn:
            row = self._run_row(conn, job, run)
            return reads.metric_values(conn, row.id, metric, start.timestamp(), end.timestamp())

    def job_series(self, job: Job, metric: str, max_points: int, limit: int) -> list[RunSeries]:
        with self._db.read() as conn:
            return reads.job_series(conn, job, metric, max_points, limit)

    def read_log(
        self,
        job: Job,
        run: str,
        stream: str,
        start: int = 0,
        stop: int | None = None,
        tail: int | None = None,
    ) -> LogRange:
        with self._db.read() as conn:
            row = self._run_row(conn, job, run)
            found = runs_.stream_rows(conn, row.id, stream)
        if not found:
            raise StreamNotFound(run, stream)
        stream_id, length = found[0].id, found[0].next_offset
        if tail is not None:
            start = max(0, length - tail)
        start = min(start, length)
        stop = length if stop is None else max(start, min(stop, length))
        return LogRange(start, stop, length, log_pieces(self._db.read, stream_id, start, stop))

    def _compressor(self) -> zstandard.ZstdCompressor:
        # zstd contexts are not safe to share between threads.
        compressor = getattr(self._codecs, "compressor", None)
        if compressor is None:
            compressor = self._codecs.compressor = zstandard.ZstdCompressor(level=3)
        return compressor
