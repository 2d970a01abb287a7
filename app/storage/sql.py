"""The SQL backend (SQLite by default; any SQLAlchemy 2 database with JSON columns)."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import zstandard
from sqlalchemy import (
    Connection,
    CursorResult,
    Engine,
    Row,
    and_,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from app.errors import (
    JobExists,
    JobNotFound,
    RunEnded,
    RunExists,
    RunNotFound,
    StreamMoved,
    StreamNotFound,
)
from app.records import (
    Job,
    JobOverview,
    LogRange,
    MetricSummary,
    RejectionExample,
    Run,
    RunSeries,
    RunStatus,
    SeriesPoint,
    StreamInfo,
    StreamState,
)
from app.storage.base import (
    ChunkWrite,
    JobSpec,
    RunPage,
    RunQuery,
    RunSnapshot,
    Storage,
    StreamSnapshot,
)
from app.storage.cursors import decode_cursor, encode_cursor
from app.storage.schema import (
    chunks,
    create_schema,
    jobs,
    points,
    run_metrics,
    runs,
    streams,
)

__all__ = ["SqlStorage"]

_LOG_PAGE = 16  # raw chunks read per transaction when streaming a log back


class SqlStorage(Storage):
    def __init__(
        self,
        url: str,
        *,
        rejections_kept: int = 5,
        sqlite_synchronous: str = "FULL",
        busy_timeout: float = 60.0,
    ) -> None:
        """
        Args:
            url: a SQLAlchemy database URL; for SQLite, a file (its folder is created).
            rejections_kept: rejection examples kept per run and metric.
            sqlite_synchronous: SQLite's `synchronous` pragma; FULL makes a commit
                survive power loss, not just a crash of the service.
            busy_timeout: seconds a writer waits for another process's write lock.
        """
        parsed = make_url(url)
        self._sqlite = parsed.get_backend_name() == "sqlite"
        self._rejections_kept = rejections_kept
        if self._sqlite:
            if parsed.database in (None, "", ":memory:"):
                raise ValueError("SQLite storage needs a database file, not an in-memory one")
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self._engine = create_engine(url, connect_args={"check_same_thread": False})
            _configure_sqlite(self._engine, sqlite_synchronous, busy_timeout)
        else:
            self._engine = create_engine(url, pool_pre_ping=True)
        create_schema(self._engine)
        # SQLite has one writer at a time: threads of this process queue here instead of
        # polling SQLite's lock; other processes are waited for by `busy_timeout`.
        self._write_lock: AbstractContextManager[Any] = (
            threading.Lock() if self._sqlite else nullcontext()
        )
        self._codecs = threading.local()

    def close(self) -> None:
        self._engine.dispose()

    # Transactions: the one place that begins, commits and rolls back.

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._write_lock, self._engine.connect() as conn:
            conn = conn.execution_options(logmetrics_write=True)
            with conn.begin():
                yield conn

    # Jobs.

    def create_job(self, spec: JobSpec) -> Job:
        created = _now()
        try:
            with self._write() as conn:
                job_id = _inserted_id(
                    conn.execute(
                        insert(jobs).values(
                            name=spec.name,
                            objective_metric=spec.objective_metric,
                            objective_type=spec.objective_type,
                            objective_strategy=spec.objective_strategy,
                            log_format=spec.log_format,
                            metric_definitions=[list(pair) for pair in spec.metric_definitions],
                            environment=dict(spec.environment),
                            created_at=created,
                        )
                    )
                )
        except IntegrityError as exc:
            raise JobExists(spec.name) from exc
        return Job(
            id=job_id,
            name=spec.name,
            objective_metric=spec.objective_metric,
            objective_type=spec.objective_type,
            objective_strategy=spec.objective_strategy,
            log_format=spec.log_format,
            metric_definitions=spec.metric_definitions,
            environment=dict(spec.environment),
            created_at=_datetime(created),
        )

    def get_job(self, name: str) -> Job:
        with self._read() as conn:
            row = conn.execute(select(jobs).where(jobs.c.name == name)).first()
        if row is None:
            raise JobNotFound(name)
        return _job(row)

    def list_jobs(self) -> list[JobOverview]:
        with self._read() as conn:
            rows = conn.execute(select(jobs).order_by(jobs.c.created_at.desc(), jobs.c.id.desc()))
            found = [_job(row) for row in rows]
        return [self.job_overview(job) for job in found]

    def job_overview(self, job: Job, include_in_progress: bool = False) -> JobOverview:
        statuses = [RunStatus.COMPLETED, RunStatus.STOPPED]
        if include_in_progress:
            statuses.append(RunStatus.IN_PROGRESS)
        with self._read() as conn:
            counts: dict[str, int] = dict(
                conn.execute(
                    select(runs.c.status, func.count())
                    .where(runs.c.job_id == job.id)
                    .group_by(runs.c.status)
                ).all()
            )
            best = self._best_run(conn, job, statuses)
        run_counts = {status.value: int(counts.get(status.value, 0)) for status in RunStatus}
        return JobOverview(job, run_counts, best)

    # Runs.

    def create_run(
        self,
        job: Job,
        name: str | None,
        hyperparameters: Mapping[str, str],
        ingest_token: Callable[[int], str | None] | None = None,
    ) -> Run:
        attempts = 1 if name is not None else 100
        for _ in range(attempts):
            created = _now()
            try:
                with self._write() as conn:
                    run_name = name or self._next_run_name(conn, job)
                    run_id = _inserted_id(
                        conn.execute(
                            insert(runs).values(
                                job_id=job.id,
                                name=run_name,
                                status=RunStatus.IN_PROGRESS.value,
                                created_at=created,
                                hyperparameters=dict(hyperparameters),
                            )
                        )
                    )
                    if ingest_token is not None:
                        conn.execute(
                            update(runs)
                            .where(runs.c.id == run_id)
                            .values(ingest_token_hash=ingest_token(run_id))
                        )
            except IntegrityError as exc:
                if name is not None:
                    raise RunExists(job.name, name) from exc
                continue  # a user took the generated name: count on
            return Run(
                id=run_id,
                job=job.name,
                name=run_name,
                status=RunStatus.IN_PROGRESS,
                failure_reason=None,
                created_at=_datetime(created),
                ended_at=None,
                hyperparameters=dict(hyperparameters),
                objective_metric=job.objective_metric,
                objective_value=None,
            )
        raise RunExists(job.name, "run-*")

    def run_id(self, job: Job, name: str) -> int:
        with self._read() as conn:
            found: int | None = conn.execute(
                select(runs.c.id).where(runs.c.job_id == job.id, runs.c.name == name)
            ).scalar()
        if found is None:
            raise RunNotFound(job.name, name)
        return found

    def run_token_hash(self, run_id: int) -> str | None:
        with self._read() as conn:
            stored: str | None = conn.execute(
                select(runs.c.ingest_token_hash).where(runs.c.id == run_id)
            ).scalar()
        return stored

    def _next_run_name(self, conn: Connection, job: Job) -> str:
        count = conn.execute(select(func.count()).where(runs.c.job_id == job.id)).scalar_one()
        taken = set(
            conn.execute(
                select(runs.c.name).where(runs.c.job_id == job.id, runs.c.name.like("run-%"))
            ).scalars()
        )
        number = count + 1
        while f"run-{number:04d}" in taken:
            number += 1
        return f"run-{number:04d}"

    def get_run(self, job: Job, name: str) -> Run:
        with self._read() as conn:
            row = self._run_row(conn, job, name)
            summaries = self._summaries(conn, [row.id])
            stream_rows = conn.execute(
                select(streams).where(streams.c.run_id == row.id).order_by(streams.c.name)
            ).all()
        stream_infos = tuple(
            StreamInfo(s.name, s.next_offset, s.lines, s.partial_length) for s in stream_rows
        )
        return _run(row, job, summaries.get(row.id, ()), stream_infos)

    def list_runs(self, job: Job, query: RunQuery) -> RunPage:
        descending = query.order == "desc"
        if query.sort_by == "objective":
            keys = [runs.c.objective_value, runs.c.created_at, runs.c.id]
            types: tuple[type, ...] = (float, float, int)
            ascending_ties = True  # ties: earliest created first, whatever the order
        elif query.sort_by == "created_at":
            keys, types, ascending_ties = [runs.c.created_at, runs.c.id], (float, int), False
        else:
            keys, types, ascending_ties = [runs.c.name], (str,), False
        statement = select(runs).where(runs.c.job_id == job.id)
        if query.sort_by == "objective":
            statement = statement.where(runs.c.objective_value.is_not(None))
        if query.statuses:
            statement = statement.where(runs.c.status.in_([s.value for s in query.statuses]))
        directions = [descending] + [descending and not ascending_ties] * (len(keys) - 1)
        if query.cursor is not None:
            after = decode_cursor(query.cursor, types)
            statement = statement.where(_after(keys, directions, after))
        statement = statement.order_by(
            *(key.desc() if down else key.asc() for key, down in zip(keys, directions, strict=True))
        ).limit(query.limit + 1)
        with self._read() as conn:
            rows = conn.execute(statement).all()
            page = rows[: query.limit]
            summaries = self._summaries(conn, [row.id for row in page])
        next_cursor = None
        if len(rows) > query.limit:
            last = page[-1]
            next_cursor = encode_cursor([getattr(last, key.name) for key in keys])
        return RunPage(tuple(_run(r, job, summaries.get(r.id, ())) for r in page), next_cursor)

    def best_run(self, job: Job, statuses: Sequence[RunStatus]) -> Run | None:
        with self._read() as conn:
            return self._best_run(conn, job, statuses)

    def _best_run(self, conn: Connection, job: Job, statuses: Sequence[RunStatus]) -> Run | None:
        value = runs.c.objective_value
        row = conn.execute(
            select(runs)
            .where(
                runs.c.job_id == job.id,
                runs.c.status.in_([s.value for s in statuses]),
                value.is_not(None),
            )
            .order_by(
                value.desc() if job.objective_type == "Maximize" else value.asc(),
                runs.c.created_at.asc(),
                runs.c.id.asc(),
            )
            .limit(1)
        ).first()
        if row is None:
            return None
        return _run(row, job, self._summaries(conn, [row.id]).get(row.id, ()))

    # Ingest.

    def read_stream(self, job: Job, run: str, stream: str) -> StreamSnapshot:
        with self._read() as conn:
            row = self._run_row(conn, job, run)
            state_row = conn.execute(
                select(streams).where(streams.c.run_id == row.id, streams.c.name == stream)
            ).first()
        state = _state(state_row) if state_row is not None else StreamState()
        return StreamSnapshot(_run(row, job, ()), state)

    def read_run_streams(self, job: Job, run: str) -> RunSnapshot:
        with self._read() as conn:
            row = self._run_row(conn, job, run)
            stream_rows = conn.execute(select(streams).where(streams.c.run_id == row.id)).all()
        return RunSnapshot(
            _run(row, job, ()),
            {s.name: _state(s) for s in stream_rows},
            {
                s.name: _datetime(s.partial_timestamp)
                for s in stream_rows
                if s.partial_timestamp is not None
            },
        )

    def append_chunk(self, job: Job, run: Run, write: ChunkWrite) -> StreamInfo:
        with self._write() as conn:
            self._check_in_progress(conn, run)
            stream_id = self._advance_stream(conn, run, write)
            self._store_parsed(conn, job, run, stream_id, write)
        state = write.state
        return StreamInfo(write.stream, state.offset, state.lines, state.partial_length)

    def end_run(
        self,
        job: Job,
        run: Run,
        status: RunStatus,
        failure_reason: str | None,
        ended_at: datetime,
        flushes: Sequence[ChunkWrite],
    ) -> Run:
        with self._write() as conn:
            self._check_in_progress(conn, run)
            for write in flushes:
                stream_id = self._advance_stream(conn, run, write)
                self._store_parsed(conn, job, run, stream_id, write)
            conn.execute(
                update(runs)
                .where(runs.c.id == run.id)
                .values(
                    status=status.value,
                    failure_reason=failure_reason,
                    ended_at=ended_at.timestamp(),
                )
            )
        return self.get_run(job, run.name)

    def _check_in_progress(self, conn: Connection, run: Run) -> None:
        status = conn.execute(select(runs.c.status).where(runs.c.id == run.id)).scalar_one()
        if status != RunStatus.IN_PROGRESS.value:
            raise RunEnded(f"run {run.name!r} has ended ({status})", run=run.name, status=status)

    def _advance_stream(self, conn: Connection, run: Run, write: ChunkWrite) -> int:
        """Move the stream from `write.expected_offset` to `write.state`; keep its bytes."""
        state = write.state
        values = {
            "next_offset": state.offset,
            "lines": state.lines,
            "partial": state.partial,
            "partial_length": state.partial_length,
            "skip_lf": state.skip_lf,
            "partial_timestamp": write.timestamp.timestamp() if state.partial_length else None,
        }
        stream_id = conn.execute(
            select(streams.c.id).where(streams.c.run_id == run.id, streams.c.name == write.stream)
        ).scalar()
        if stream_id is None:
            if write.expected_offset != 0:
                raise StreamMoved(f"stream {write.stream!r} is gone")
            stream_id = _inserted_id(
                conn.execute(insert(streams).values(run_id=run.id, name=write.stream, **values))
            )
        else:
            moved = conn.execute(
                update(streams)
                .where(streams.c.id == stream_id, streams.c.next_offset == write.expected_offset)
                .values(**values)
            )
            if moved.rowcount != 1:
                raise StreamMoved(f"stream {write.stream!r} moved on while this chunk was parsed")
        if write.data:
            conn.execute(
                insert(chunks).values(
                    stream_id=stream_id,
                    offset=write.expected_offset,
                    length=len(write.data),
                    data=self._compressor().compress(write.data),
                )
            )
        return int(stream_id)

    def _store_parsed(
        self, conn: Connection, job: Job, run: Run, stream_id: int, write: ChunkWrite
    ) -> None:
        """Store the points and fold them and the rejections into the run's summaries."""
        names = {p.metric for p in write.points} | set(write.rejected) | set(write.timeouts)
        if not names:
            return
        summaries = self._summaries_for_update(conn, run.id, names)
        timestamp = write.timestamp.timestamp()
        point_rows: list[tuple[Any, ...]] = []
        for point in write.points:
            summary = summaries[point.metric]
            summary["count"] += 1
            seq = summary["count"]
            step = point.step if point.step is not None else seq
            summary["last"], summary["last_step"], summary["last_timestamp"] = (
                point.value,
                step,
                timestamp,
            )
            low, high = summary["min"], summary["max"]
            summary["min"] = point.value if low is None else min(low, point.value)
            summary["max"] = point.value if high is None else max(high, point.value)
            point_rows.append(
                (
                    summary["id"],
                    seq,
                    step,
                    point.value,
                    timestamp,
                    stream_id,
                    point.line,
                    point.offset,
                )
            )
        if point_rows:
            self._insert_points(conn, point_rows)
        for rejection in write.rejections:
            summaries[rejection.metric]["examples"].append(
                [write.stream, rejection.line, rejection.capture, rejection.reason]
            )
        for name, summary in summaries.items():
            summary["rejected"] += write.rejected.get(name, 0)
            summary["timeouts"] += write.timeouts.get(name, 0)
            examples = summary["examples"]
            summary["examples"] = examples[max(0, len(examples) - self._rejections_kept) :]
        conn.execute(
            update(run_metrics)
            .where(run_metrics.c.id == bindparam("b_id"))
            .values({column: bindparam(f"b_{column}") for column in _SUMMARY_COLUMNS}),
            [
                {"b_id": s["id"], **{f"b_{c}": s[c] for c in _SUMMARY_COLUMNS}}
                for s in summaries.values()
            ],
        )
        objective = summaries.get(job.objective_metric)
        if objective is not None and objective["count"]:
            value = objective[_STRATEGY_COLUMN[job.objective_strategy]]
            conn.execute(update(runs).where(runs.c.id == run.id).values(objective_value=value))

    def _insert_points(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        """Insert point rows, in `_POINT_COLUMNS` order.

        On SQLite straight through the driver's `executemany`: SQLAlchemy's processing of
        one parameter dict per row costs ten times what SQLite needs to store the row,
        and a dense log has a point every few dozen bytes.
        """
        if self._sqlite:
            conn.exec_driver_sql(_SQLITE_INSERT_POINTS, rows)
        else:
            conn.execute(
                insert(points), [dict(zip(_POINT_COLUMNS, row, strict=True)) for row in rows]
            )

    def _summaries_for_update(
        self, conn: Connection, run_id: int, names: set[str]
    ) -> dict[str, dict[str, Any]]:
        def load() -> dict[str, dict[str, Any]]:
            rows = conn.execute(
                select(run_metrics).where(
                    run_metrics.c.run_id == run_id, run_metrics.c.name.in_(sorted(names))
                )
            ).mappings()
            return {row["name"]: {**row, "examples": list(row["examples"])} for row in rows}

        summaries = load()
        missing = names - summaries.keys()
        if missing:
            conn.execute(
                insert(run_metrics),
                [
                    {
                        "run_id": run_id,
                        "name": name,
                        "count": 0,
                        "rejected": 0,
                        "timeouts": 0,
                        "examples": [],
                    }
                    for name in sorted(missing)
                ],
            )
            summaries = load()
        return summaries

    # Reads.

    def metric_series(
        self, job: Job, run: str, metric: str, after: int, limit: int
    ) -> tuple[list[SeriesPoint], int | None]:
        with self._read() as conn:
            row = self._run_row(conn, job, run)
            metric_id = conn.execute(
                select(run_metrics.c.id).where(
                    run_metrics.c.run_id == row.id, run_metrics.c.name == metric
                )
            ).scalar()
            if metric_id is None:
                return [], None
            found = conn.execute(
                select(points, streams.c.name.label("stream"))
                .join(streams, streams.c.id == points.c.stream_id)
                .where(points.c.run_metric_id == metric_id, points.c.seq > after)
                .order_by(points.c.seq)
                .limit(limit + 1)
            ).all()
        page = found[:limit]
        series = [
            SeriesPoint(p.step, p.value, _datetime(p.timestamp), p.stream, p.line, p.offset)
            for p in page
        ]
        return series, (page[-1].seq if len(found) > limit else None)

    def job_series(self, job: Job, metric: str, max_points: int, limit: int) -> list[RunSeries]:
        found = []
        with self._read() as conn:
            rows = conn.execute(
                select(
                    runs.c.name,
                    runs.c.status,
                    runs.c.objective_value,
                    run_metrics.c.id.label("metric_id"),
                    run_metrics.c.count.label("points"),  # `row.count` is tuple.count
                )
                .join(run_metrics, run_metrics.c.run_id == runs.c.id)
                .where(
                    runs.c.job_id == job.id, run_metrics.c.name == metric, run_metrics.c.count > 0
                )
                .order_by(runs.c.created_at, runs.c.id)
                .limit(limit)
            ).all()
            for row in rows:
                statement = select(points.c.step, points.c.value).where(
                    points.c.run_metric_id == row.metric_id
                )
                if row.points > max_points:
                    # Evenly spaced by arrival, and the last point: read by primary key.
                    stride = math.ceil(row.points / max_points)
                    wanted = [*range(stride, row.points, stride), row.points]
                    statement = statement.where(points.c.seq.in_(wanted))
                values = conn.execute(statement.order_by(points.c.seq)).all()
                found.append(
                    RunSeries(
                        run=row.name,
                        status=RunStatus(row.status),
                        objective_value=row.objective_value,
                        count=row.points,
                        points=tuple((step, value) for step, value in values),
                    )
                )
        return found

    def read_log(
        self,
        job: Job,
        run: str,
        stream: str,
        start: int = 0,
        stop: int | None = None,
        tail: int | None = None,
    ) -> LogRange:
        with self._read() as conn:
            row = self._run_row(conn, job, run)
            found = conn.execute(
                select(streams.c.id, streams.c.next_offset).where(
                    streams.c.run_id == row.id, streams.c.name == stream
                )
            ).first()
        if found is None:
            raise StreamNotFound(run, stream)
        length = found.next_offset
        if tail is not None:
            start = max(0, length - tail)
        start = min(start, length)
        stop = length if stop is None else max(start, min(stop, length))
        return LogRange(start, stop, length, self._log_pieces(found.id, start, stop))

    def _log_pieces(self, stream_id: int, start: int, stop: int) -> Iterator[bytes]:
        # Short transactions, one per page, so a slow reader holds no connection.
        decompressor = zstandard.ZstdDecompressor()
        after = -1
        while start < stop:
            with self._read() as conn:
                page = conn.execute(
                    select(chunks.c.offset, chunks.c.length, chunks.c.data)
                    .where(
                        chunks.c.stream_id == stream_id,
                        chunks.c.offset > after,
                        chunks.c.offset < stop,
                        chunks.c.offset + chunks.c.length > start,
                    )
                    .order_by(chunks.c.offset)
                    .limit(_LOG_PAGE)
                ).all()
            for piece in page:
                data = decompressor.decompress(piece.data)
                yield data[max(0, start - piece.offset) : stop - piece.offset]
            if len(page) < _LOG_PAGE:
                return
            after = page[-1].offset

    # Helpers.

    def _run_row(self, conn: Connection, job: Job, name: str) -> Row[Any]:
        row = conn.execute(select(runs).where(runs.c.job_id == job.id, runs.c.name == name)).first()
        if row is None:
            raise RunNotFound(job.name, name)
        return row

    def _summaries(
        self, conn: Connection, run_ids: Sequence[int]
    ) -> dict[int, tuple[MetricSummary, ...]]:
        if not run_ids:
            return {}
        found: dict[int, list[MetricSummary]] = {}
        rows = conn.execute(
            select(run_metrics.c.run_id, *_SUMMARY_SELECT)
            .where(run_metrics.c.run_id.in_(run_ids))
            .order_by(run_metrics.c.run_id, run_metrics.c.id)
        )
        # Positional: a leaderboard page reads hundreds of these, and by-name access to
        # a row's columns cost more than the query.
        for run_id, *columns in rows:
            found.setdefault(run_id, []).append(_summary_of(columns))
        return {run_id: tuple(summaries) for run_id, summaries in found.items()}

    def _compressor(self) -> zstandard.ZstdCompressor:
        # zstd contexts are not safe to share between threads.
        compressor = getattr(self._codecs, "compressor", None)
        if compressor is None:
            compressor = self._codecs.compressor = zstandard.ZstdCompressor(level=3)
        return compressor


_SUMMARY_COLUMNS = (
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
_POINT_COLUMNS = (
    "run_metric_id",
    "seq",
    "step",
    "value",
    "timestamp",
    "stream_id",
    "line",
    "offset",
)
_SQLITE_INSERT_POINTS = "INSERT INTO {} ({}) VALUES ({})".format(
    points.name, ", ".join(f'"{c}"' for c in _POINT_COLUMNS), ", ".join("?" * len(_POINT_COLUMNS))
)
_SUMMARY_SELECT = (run_metrics.c.name, *(run_metrics.c[name] for name in _SUMMARY_COLUMNS))
_STRATEGY_COLUMN = {"latest": "last", "min": "min", "max": "max"}


def _configure_sqlite(engine: Engine, synchronous: str, busy_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's BEGIN below, not the sqlite3 module, open transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A write transaction takes the write lock up front: a deferred one that reads
        # first could not upgrade if another writer committed meanwhile.
        write = conn.get_execution_options().get("logmetrics_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _after(keys: Sequence[Any], directions: Sequence[bool], after: Sequence[Any]) -> Any:
    """Rows that sort strictly after the key `after` (keyset pagination)."""
    clauses = []
    for i, (key, descending) in enumerate(zip(keys, directions, strict=True)):
        beyond = key < after[i] if descending else key > after[i]
        equal = [keys[j] == after[j] for j in range(i)]
        clauses.append(and_(*equal, beyond))
    return or_(*clauses)


def _inserted_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None, "an INSERT of one row has a primary key"
    return int(key[0])


def _now() -> float:
    return datetime.now(UTC).timestamp()


def _datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _job(row: Row[Any]) -> Job:
    return Job(
        id=row.id,
        name=row.name,
        objective_metric=row.objective_metric,
        objective_type=row.objective_type,
        objective_strategy=row.objective_strategy,
        log_format=row.log_format,
        metric_definitions=tuple((name, regex) for name, regex in row.metric_definitions),
        environment=dict(row.environment),
        created_at=_datetime(row.created_at),
    )


def _run(
    row: Row[Any],
    job: Job,
    summaries: tuple[MetricSummary, ...],
    stream_infos: tuple[StreamInfo, ...] = (),
) -> Run:
    return Run(
        id=row.id,
        job=job.name,
        name=row.name,
        status=RunStatus(row.status),
        failure_reason=row.failure_reason,
        created_at=_datetime(row.created_at),
        ended_at=_datetime(row.ended_at) if row.ended_at is not None else None,
        hyperparameters=dict(row.hyperparameters),
        objective_metric=job.objective_metric,
        objective_value=row.objective_value,
        metrics=summaries,
        streams=stream_infos,
    )


def _summary_of(columns: Sequence[Any]) -> MetricSummary:
    """A summary from the columns of `_SUMMARY_SELECT`, in its order."""
    name, count, last, last_step, last_timestamp, low, high, rejected, timeouts, examples = columns
    return MetricSummary(
        name=name,
        count=count,
        last=last,
        last_step=last_step,
        last_timestamp=_datetime(last_timestamp) if last_timestamp is not None else None,
        min=low,
        max=high,
        rejected=rejected,
        timeouts=timeouts,
        examples=tuple(RejectionExample(*example) for example in examples),
    )


def _state(row: Row[Any]) -> StreamState:
    return StreamState(
        offset=row.next_offset,
        lines=row.lines,
        partial=bytes(row.partial),
        partial_length=row.partial_length,
        skip_lf=bool(row.skip_lf),
    )
