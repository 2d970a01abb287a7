"""How long the job page's overview chart waits for its data: `job_series` at 200 runs.

    .venv/bin/python -m bench.job_page [--runs 200] [--points 10000] [--repeat 10] [--reuse]

Builds a SQLite file in `bench/out/job_page/` with one job of `--runs` runs, each with
`--points` points of `val_accuracy`, then times `Storage.job_series` in process and
`GET /v1/jobs/{job}/series/val_accuracy` over HTTP against the service (`python -m app
serve`, uvicorn) on that file, with the page's defaults (500 points a run, 200 runs).
`--reuse` keeps the file an earlier run of the same sizes filled (filling takes about
half a minute); drop it after a change to `app/storage/schema.py`.

The job, its runs, streams and metric summaries are made through the storage API (each
run's first point goes through `append_chunk`); the other points, too many to append one
by one in a benchmark's time, are bulk-loaded with SQLAlchemy Core into the schema's
`points` table, and the summaries and objective brought up to date the same way.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, insert, select, update

from app.records import Job, Point, RunStatus, StreamState
from app.storage import ChunkWrite, JobSpec, SqlStorage
from app.storage.schema import points, run_metrics, runs
from bench.definitions import preset_definitions
from bench.service import Service

__all__ = ["fill", "main"]

_OUT = Path(__file__).resolve().parent / "out" / "job_page"
_JOB = "job-page"
_METRIC = "val_accuracy"
_LINE_BYTES = 40  # about one line's length, for the points' offsets
_BATCH = 50_000  # points a bulk insert


def fill(database: Path, run_count: int, points_per_run: int, seed: int = 1) -> Job:
    """A job of `run_count` Completed runs with `points_per_run` points of val_accuracy."""
    url = f"sqlite:///{database}"
    storage = SqlStorage(url, sqlite_synchronous="OFF")
    rng = random.Random(seed)
    series: dict[int, list[float]] = {}
    try:
        job = storage.create_job(
            JobSpec(
                name=_JOB,
                objective_metric=_METRIC,
                objective_type="Maximize",
                objective_strategy="latest",
                log_format="text",
                metric_definitions=tuple(preset_definitions("reference-trainer")),
                environment={},
            )
        )
        for _ in range(run_count):
            run = storage.create_run(job, None, {"lr": f"{10 ** rng.uniform(-4, -1):.6g}"})
            values, accuracy = [], 0.3 + 0.2 * rng.random()
            for _ in range(points_per_run):
                accuracy += (1 - accuracy) * 0.002 * rng.random()
                values.append(round(accuracy, 6))
            series[run.id] = values
            storage.append_chunk(
                job,
                run,
                ChunkWrite(
                    stream="stdout",
                    expected_offset=0,
                    state=StreamState(offset=_LINE_BYTES, lines=1),
                    data=b"",
                    points=(Point(_METRIC, values[0], None, 1, 0),),
                    rejections=(),
                    rejected={},
                    timeouts={},
                    timestamp=datetime.now(UTC),
                ),
            )
            storage.end_run(job, run, RunStatus.COMPLETED, None, datetime.now(UTC), ())
    finally:
        storage.close()
    _bulk_load(url, series)
    return job


def _bulk_load(url: str, series: dict[int, list[float]]) -> None:
    """Points 2.. of each run's series, as `append_chunk` would have stored them."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for run_id, values in series.items():
                metric_id, stream_id, timestamp = conn.execute(
                    select(run_metrics.c.id, points.c.stream_id, points.c.timestamp)
                    .join(points, points.c.run_metric_id == run_metrics.c.id)
                    .where(run_metrics.c.run_id == run_id, run_metrics.c.name == _METRIC)
                ).one()
                rows = [
                    {
                        "run_metric_id": metric_id,
                        "seq": seq,
                        "step": seq,
                        "value": value,
                        "timestamp": timestamp,
                        "stream_id": stream_id,
                        "line": seq,
                        "offset": (seq - 1) * _LINE_BYTES,
                    }
                    for seq, value in enumerate(values[1:], 2)
                ]
                for start in range(0, len(rows), _BATCH):
                    conn.execute(insert(points), rows[start : start + _BATCH])
                conn.execute(
                    update(run_metrics)
                    .where(run_metrics.c.id == metric_id)
                    .values(
                        count=len(values),
                        last=values[-1],
                        last_step=len(values),
                        min=min(values),
                        max=max(values),
                    )
                )
                conn.execute(
                    update(runs).where(runs.c.id == run_id).values(objective_value=values[-1])
                )
    finally:
        engine.dispose()


def _timed(what: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and best seconds over `repeat` calls, after one untimed call."""
    what()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        what()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.job_page", description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--max-points", type=int, default=500)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the file a previous run of these sizes filled"
    )
    args = parser.parse_args(argv)

    database = _OUT / f"job_page-{args.runs}x{args.points}.db"
    if args.reuse and database.exists():
        storage = SqlStorage(f"sqlite:///{database}")
        try:
            job = storage.get_job(_JOB)
        finally:
            storage.close()
        print(f"reused {database}")
    else:
        shutil.rmtree(_OUT, ignore_errors=True)
        _OUT.mkdir(parents=True)
        start = time.perf_counter()
        job = fill(database, args.runs, args.points)
        print(
            f"filled {args.runs} runs x {args.points} points of {_METRIC} "
            f"in {time.perf_counter() - start:.1f} s ({database})"
        )

    storage = SqlStorage(f"sqlite:///{database}")
    try:
        found = storage.job_series(job, _METRIC, args.max_points, 200)
        shown = sum(len(s.points) for s in found)
        median, best = _timed(
            lambda: storage.job_series(job, _METRIC, args.max_points, 200), args.repeat
        )
    finally:
        storage.close()
    print(f"job_series in process: {len(found)} runs, {shown} points")
    print(f"  median {median * 1000:.1f} ms, best {best * 1000:.1f} ms ({args.repeat} calls)")

    with Service(database, _OUT / "service.log") as service, service.client() as client:

        def get() -> None:
            response = client.get(
                f"/v1/jobs/{_JOB}/series/{_METRIC}", params={"max_points": args.max_points}
            )
            response.raise_for_status()

        median, best = _timed(get, args.repeat)
    print(f"GET /v1/jobs/{_JOB}/series/{_METRIC} over HTTP (uvicorn):")
    print(f"  median {median * 1000:.1f} ms, best {best * 1000:.1f} ms ({args.repeat} requests)")


if __name__ == "__main__":
    main()
