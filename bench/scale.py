"""The scale phase: jobs of 100 to 10,000 runs, and how fast the service answers reads.

Filling 10 million points over HTTP (or through `SqlStorage.append_chunk`, about 40 us a
point here) would take longer than the whole benchmark may, so the jobs are bulk-loaded:
the job is created through the storage API (`create_job`), then its runs, streams,
metric summaries and points are inserted with SQLAlchemy Core into the tables of
`app/storage/schema.py`, many rows a statement, with exactly the values the storage
layer would store for the same points (summaries: count, last, min, max; the objective:
the last `val_accuracy`). `fill_jobs_through_storage` fills the same jobs through the
storage API, point by point, and tests/bench checks that both give the same rows.

With `search=True` (the job page's phase, bench/job_page.py) each job is a tuning job:
it has a Random search over `SEARCH_RANGES` (a log-scaled learning rate, a momentum, an
integer batch size, a categorical optimizer), and each run holds a value of each, as
the tuner would have drawn them; the history, parallel-coordinates and importance views
need both. Without it the jobs have no search (a run can be created through the API,
which the scale phase times) and each run an `lr` and an `optimizer`.

Each run gets the reference trainer's epoch lines: a point a line of each name the
reference-trainer preset finds in one (epoch, losses, validation scores, lr),
`points_per_run` points in all, and no raw log bytes. Nine runs in ten are Completed;
the rest Failed, Stopped or still InProgress, as in a real sweep. The service is started
on the file afterwards, with its own defaults.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path

import httpx
from sqlalchemy import Connection, Table, create_engine, func, insert, select

from app.protocol.search import SearchSpec
from app.records import Job, Point, RunStatus, StreamState
from app.storage import ChunkWrite, JobSpec, SqlStorage, schema
from bench.definitions import epoch_line_metrics, preset_definitions
from bench.service import Service

__all__ = [
    "SCALE_METRICS",
    "SEARCH_RANGES",
    "Fill",
    "ScaleRead",
    "fill_jobs",
    "fill_jobs_through_storage",
    "prepare_scale_database",
    "scale_job",
    "time_reads",
    "time_request",
]

# What one reference-trainer epoch line reports, in its order (metric_defs/ names them).
SCALE_METRICS = epoch_line_metrics()
_OBJECTIVE = "val_accuracy"
_LINE_BYTES = 190  # about one epoch line's length, for the points' offsets
_BATCH = 50_000  # points held before the rows are inserted
_STATUSES = (
    (0.90, RunStatus.COMPLETED),
    (0.04, RunStatus.FAILED),
    (0.03, RunStatus.STOPPED),
    (1.00, RunStatus.IN_PROGRESS),
)


# The search of a scale job made with `search=True`, in SageMaker's spelling.
SEARCH_RANGES: dict[str, list[dict[str, object]]] = {
    "ContinuousParameterRanges": [
        {"Name": "lr", "MinValue": 1e-4, "MaxValue": 1e-1, "ScalingType": "Logarithmic"},
        {"Name": "momentum", "MinValue": 0.0, "MaxValue": 0.99},
    ],
    "IntegerParameterRanges": [{"Name": "batch_size", "MinValue": 16, "MaxValue": 256}],
    "CategoricalParameterRanges": [{"Name": "optimizer", "Values": ["adam", "adamw", "sgd"]}],
}


@dataclass(frozen=True)
class Fill:
    runs: int
    points: int
    seconds: float
    reused: str = ""  # the cached file it was copied from, when reused


@dataclass(frozen=True)
class ScaleRead:
    runs: int  # runs in the job
    what: str
    median_ms: float
    p95_ms: float
    samples: int


def scale_job(runs: int) -> str:
    return f"scale-{runs}"


def prepare_scale_database(
    database: Path,
    sizes: Sequence[int],
    points_per_run: int,
    seed: int,
    cache_dir: Path | None,
    search: bool = False,
) -> Fill:
    """Fill `database`, or copy a filled one from `cache_dir` (None: no cache).

    A cached file is used only if its schema is exactly what `app.storage.schema`
    creates today, so a changed index or table is never measured on a stale file.
    `search`: tuning jobs (see the module's doc), cached under a name of their own.
    """
    if cache_dir is None:
        return fill_jobs(database, sizes, points_per_run, seed, search)
    name = f"scale-{'-'.join(str(n) for n in sizes)}x{points_per_run}-seed{seed}"
    name += "-search" if search else ""
    cached, record = cache_dir / f"{name}.db", cache_dir / f"{name}.json"
    if cached.exists() and record.exists() and _schema(cached) == _current_schema():
        shutil.copyfile(cached, database)
        return Fill(**{**json.loads(record.read_text()), "reused": str(cached)})
    fill = fill_jobs(database, sizes, points_per_run, seed, search)
    cache_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(database, cached)
    record.write_text(
        json.dumps({"runs": fill.runs, "points": fill.points, "seconds": fill.seconds})
    )
    return fill


@dataclass(frozen=True)
class _PlannedRun:
    name: str
    hyperparameters: dict[str, str]
    points: list[Point]  # steps unset: numbered per metric, as the parser leaves them
    status: RunStatus


def _plan(rng: random.Random, size: int, epochs: int, search: bool) -> Iterator[_PlannedRun]:
    """The runs of one job, the same for both ways of filling it."""
    for number in range(1, size + 1):
        hyperparameters = {
            "lr": f"{10 ** rng.uniform(-4, -1):.6g}",
            "optimizer": rng.choice(("adam", "adamw", "sgd")),
            "_tuning_objective_metric": _OBJECTIVE,
        }
        if search:
            # Drawn after the others, so that the jobs without a search stay as they were.
            hyperparameters["momentum"] = f"{rng.uniform(0, 0.99):.6g}"
            hyperparameters["batch_size"] = str(rng.randint(16, 256))
        points = _epoch_points(rng, epochs)
        yield _PlannedRun(f"run-{number:05d}", hyperparameters, points, _status(rng))


def _create_job(storage: SqlStorage, size: int, search: bool) -> Job:
    definitions = tuple(preset_definitions("reference-trainer"))
    spec = None
    if search:
        spec = SearchSpec.model_validate(
            {
                "strategy": "Random",
                "command": ["true"],
                "random_seed": 1,
                "resource_limits": {
                    "max_number_of_training_jobs": size,
                    "max_parallel_training_jobs": 100,
                },
                "parameter_ranges": SEARCH_RANGES,
            }
        ).model_dump()
    return storage.create_job(
        JobSpec(
            name=scale_job(size),
            objective_metric=_OBJECTIVE,
            objective_type="Maximize",
            objective_strategy="latest",
            log_format="text",
            metric_definitions=definitions,
            environment={},
            search=spec,
        )
    )


def fill_jobs(
    database: Path, sizes: Sequence[int], points_per_run: int, seed: int, search: bool = False
) -> Fill:
    """Create a job of each size in `sizes` and bulk-load its runs into the schema's tables.

    Writes what `fill_jobs_through_storage` writes through the storage API, row for row
    (ids and times aside), several times faster: SQLAlchemy Core `insert` on
    `app.storage.schema`'s tables, many rows a statement, in one transaction. The
    loading connection uses `synchronous=OFF`: the file is thrown away if the benchmark
    dies. `search`: tuning jobs, as the module's doc says.
    """
    storage = SqlStorage(f"sqlite:///{database}", sqlite_synchronous="OFF")
    rng = random.Random(f"scale-{seed}")
    epochs = max(1, points_per_run // len(SCALE_METRICS))
    start = time.perf_counter()
    try:
        jobs = [_create_job(storage, size, search) for size in sizes]
    finally:
        storage.close()
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            rows = _Rows(conn)
            for job, size in zip(jobs, sizes, strict=True):
                for planned in _plan(rng, size, epochs, search):
                    rows.add_run(job, planned, epochs)
            rows.flush()
        with engine.connect() as conn:
            # Everything into the main file, so that the file alone can be copied.
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    return Fill(rows.run_count, rows.point_count, time.perf_counter() - start)


class _Rows:
    """The rows the storage layer stores for runs that got their points in one chunk,
    inserted a batch at a time, with ids taken after the tables' largest."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._next = {
            table: conn.execute(select(func.coalesce(func.max(table.c.id), 0) + 1)).scalar_one()
            for table in (schema.runs, schema.streams, schema.run_metrics)
        }
        self._pending: dict[Table, list[dict[str, object]]] = {
            table: [] for table in (schema.runs, schema.streams, schema.run_metrics, schema.points)
        }
        self.run_count = self.point_count = 0

    def add_run(self, job: Job, planned: _PlannedRun, epochs: int) -> None:
        created = datetime.now(UTC).timestamp()
        run_id, stream_id = self._take(schema.runs), self._take(schema.streams)
        # The storage layer creates a run's summaries in name order: their ids give the
        # order in which the service lists a run's metrics.
        first_metric = self._take(schema.run_metrics, len(SCALE_METRICS))
        names = sorted(SCALE_METRICS)
        metric_ids = {metric: first_metric + i for i, metric in enumerate(names)}
        series: dict[str, list[float]] = {metric: [] for metric in names}
        for point in planned.points:
            values = series[point.metric]
            values.append(point.value)
            self._pending[schema.points].append(
                {
                    "run_metric_id": metric_ids[point.metric],
                    "seq": len(values),
                    "step": len(values),
                    "value": point.value,
                    "timestamp": created,
                    "stream_id": stream_id,
                    "line": point.line,
                    "offset": point.offset,
                }
            )
        objective = series[job.objective_metric][-1] if series[job.objective_metric] else None
        ended = planned.status is not RunStatus.IN_PROGRESS
        self._pending[schema.runs].append(
            {
                "id": run_id,
                "job_id": job.id,
                "name": planned.name,
                "status": planned.status.value,
                "created_at": created,
                "ended_at": created if ended else None,
                "hyperparameters": planned.hyperparameters,
                "objective_value": objective,
            }
        )
        self._pending[schema.streams].append(
            {
                "id": stream_id,
                "run_id": run_id,
                "name": "stdout",
                "next_offset": epochs * _LINE_BYTES,
                "lines": epochs,
                "partial": b"",
                "partial_length": 0,
                "skip_lf": False,
            }
        )
        self._pending[schema.run_metrics].extend(
            {
                "id": metric_ids[metric],
                "run_id": run_id,
                "name": metric,
                "count": len(values),
                "last": values[-1],
                "last_step": len(values),
                "last_timestamp": created,
                "min": min(values),
                "max": max(values),
                "rejected": 0,
                "timeouts": 0,
                "examples": [],
            }
            for metric, values in series.items()
        )
        self.run_count += 1
        self.point_count += len(planned.points)
        if len(self._pending[schema.points]) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        """Insert the rows held, parents before children."""
        for table, pending in self._pending.items():
            if pending:
                _insert_many(self._conn, table, pending)
                pending.clear()

    def _take(self, table: Table, count: int = 1) -> int:
        first = self._next[table]
        self._next[table] = first + count
        return first


def _insert_many(conn: Connection, table: Table, rows: Sequence[dict[str, object]]) -> None:
    """`insert(table)` of rows that name the same columns, at the DB-API's speed.

    The statement is Core's, compiled from the schema's table; values go through their
    column's type where it converts them (JSON, booleans, floats), in place, then one
    `executemany` of tuples. Handed the dicts, Core spends about 10 us a row building
    each row's parameters: the load took three to five times as long.
    """
    compiled = insert(table).compile(dialect=conn.dialect, column_keys=list(rows[0]))
    assert compiled.positiontup is not None, "a positional paramstyle (SQLite's qmark)"
    keys = compiled.positiontup
    processors = {
        key: process
        for key in keys
        if (process := table.c[key].type.bind_processor(conn.dialect)) is not None
    }
    for key, process in processors.items():
        for row in rows:
            row[key] = process(row[key])
    pick = itemgetter(*keys)
    conn.exec_driver_sql(str(compiled), [pick(row) for row in rows])


def fill_jobs_through_storage(
    database: Path, sizes: Sequence[int], points_per_run: int, seed: int, search: bool = False
) -> Fill:
    """What `fill_jobs` does, through the storage API: `create_run`, `append_chunk` with
    the run's points in one `ChunkWrite`, then `complete_run`. The yardstick for the bulk load."""
    storage = SqlStorage(f"sqlite:///{database}", sqlite_synchronous="OFF")
    rng = random.Random(f"scale-{seed}")
    epochs = max(1, points_per_run // len(SCALE_METRICS))
    start = time.perf_counter()
    total = total_runs = 0
    try:
        for size in sizes:
            job = _create_job(storage, size, search)
            for planned in _plan(rng, size, epochs, search):
                run = storage.create_run(job, planned.name, planned.hyperparameters)
                storage.append_chunk(
                    job,
                    run,
                    ChunkWrite(
                        stream="stdout",
                        expected_offset=0,
                        state=StreamState(next_offset=epochs * _LINE_BYTES, lines=epochs),
                        data=b"",
                        points=planned.points,
                        rejections=(),
                        rejected={},
                        timeouts={},
                        timestamp=datetime.now(UTC),
                    ),
                )
                if planned.status is not RunStatus.IN_PROGRESS:
                    storage.complete_run(job, run, planned.status, None, datetime.now(UTC), ())
                total += len(planned.points)
                total_runs += 1
    finally:
        storage.close()
    return Fill(total_runs, total, time.perf_counter() - start)


def time_reads(service: Service, sizes: Sequence[int], repeats: int) -> list[ScaleRead]:
    """Median and 95th-percentile latency of the reads a dashboard makes, per job size.

    Each request is sent twice untimed (warm caches, as a live service has them), then
    `repeats` times, one after another, on one keep-alive connection.
    """
    found: list[ScaleRead] = []
    with service.client() as client:
        for size in sizes:
            job = scale_job(size)
            middle = f"run-{(size + 1) // 2:05d}"
            requests: list[tuple[str, Callable[[], httpx.Response]]] = [
                ("best", lambda job=job: client.get(f"/v1/jobs/{job}/best")),
                ("leaderboard, first page", lambda job=job: client.get(f"/v1/jobs/{job}/runs")),
                (
                    "one run's series (val_loss)",
                    lambda job=job, run=middle: client.get(
                        f"/v1/jobs/{job}/runs/{run}/metrics/val_loss"
                    ),
                ),
                (
                    # The job page's chart: each of the first 200 runs thinned to 500 points.
                    f"job chart ({_OBJECTIVE}, 200 runs)",
                    lambda job=job: client.get(f"/v1/jobs/{job}/series/{_OBJECTIVE}"),
                ),
                ("job overview", lambda job=job: client.get(f"/v1/jobs/{job}")),
            ]
            for what, send in requests:
                found.append(time_request(size, what, send, repeats))
            # Last, as it adds runs: a run without a name gets a generated one.
            found.append(
                time_request(
                    size,
                    "create run (generated name)",
                    lambda job=job: client.post(f"/v1/jobs/{job}/runs", json={}),
                    max(3, repeats // 4),
                    expect=201,
                )
            )
    return found


def time_request(
    size: int, what: str, send: Callable[[], httpx.Response], repeats: int, expect: int = 200
) -> ScaleRead:
    """Median and 95th percentile of `repeats` answers to `send`, after 2 untimed ones.

    Raises:
        RuntimeError: an answer's status was not `expect`.
    """
    times = []
    for attempt in range(repeats + 2):
        start = time.perf_counter()
        response = send()
        elapsed = time.perf_counter() - start
        if response.status_code != expect:
            raise RuntimeError(f"{what} at {size} runs: {response.status_code} {response.text}")
        if attempt >= 2:
            times.append(elapsed * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return ScaleRead(size, what, statistics.median(times), p95, len(times))


def _schema(database: Path) -> list[tuple[str, str, str | None]]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
        return [tuple(row) for row in rows]


def _current_schema() -> list[tuple[str, str, str | None]]:
    with tempfile.TemporaryDirectory() as folder:
        empty = Path(folder) / "schema.db"
        SqlStorage(f"sqlite:///{empty}").close()
        return _schema(empty)


def _epoch_points(rng: random.Random, epochs: int) -> list[Point]:
    """Each epoch line's points: the epoch, a falling loss (val_loss a little above
    train_loss), a decaying lr, and validation scores around a rising accuracy."""
    points = []
    loss, accuracy, lr = 2.0 + rng.random(), 0.3 + 0.2 * rng.random(), 10 ** rng.uniform(-4, -1)
    for epoch in range(1, epochs + 1):
        loss *= 0.97 + 0.02 * rng.random()
        accuracy += (1 - accuracy) * 0.05 * rng.random()
        lr *= 0.99
        known = {"epoch": float(epoch), "train_loss": loss, _OBJECTIVE: accuracy, "lr": lr}
        offset = (epoch - 1) * _LINE_BYTES
        for metric in SCALE_METRICS:
            if metric in known:
                value = known[metric]
            elif "loss" in metric:
                value = loss * (1.05 + 0.1 * rng.random())
            else:
                value = accuracy + 0.02 * (rng.random() - 0.5)
            points.append(Point(metric, round(value, 6), None, epoch, offset))
    return points


def _status(rng: random.Random) -> RunStatus:
    roll = rng.random()
    for share, status in _STATUSES:
        if roll < share:
            return status
        roll -= share
    return RunStatus.IN_PROGRESS
