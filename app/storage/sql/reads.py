"""Series reads: one run's points of a metric, and every run's for an overview chart."""

from __future__ import annotations

import math

from sqlalchemy import Connection, select

from app.records import Job, RunSeries, RunStatus, SeriesPoint
from app.storage.schema import points, run_metrics, runs, streams
from app.storage.sql.rows import to_datetime

__all__ = ["job_series", "metric_series"]


def metric_series(
    conn: Connection, run_id: int, metric: str, after: int, limit: int
) -> tuple[list[SeriesPoint], int | None]:
    if "\x00" in metric:
        return [], None
    metric_id = conn.execute(
        select(run_metrics.c.id).where(run_metrics.c.run_id == run_id, run_metrics.c.name == metric)
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
        SeriesPoint(p.step, p.value, to_datetime(p.timestamp), p.stream, p.line, p.offset)
        for p in page
    ]
    return series, (page[-1].seq if len(found) > limit else None)


def job_series(
    conn: Connection, job: Job, metric: str, max_points: int, limit: int
) -> list[RunSeries]:
    if "\x00" in metric:
        return []
    rows = conn.execute(
        select(
            runs.c.name,
            runs.c.status,
            runs.c.objective_value,
            run_metrics.c.id.label("metric_id"),
            run_metrics.c.count.label("points"),  # `row.count` is tuple.count
        )
        .join(run_metrics, run_metrics.c.run_id == runs.c.id)
        .where(runs.c.job_id == job.id, run_metrics.c.name == metric, run_metrics.c.count > 0)
        .order_by(runs.c.created_at, runs.c.id)
        .limit(limit)
    ).all()
    found = []
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
