"""Series reads: one run's points of a metric, and every run's for an overview chart."""

from __future__ import annotations

from sqlalchemy import Connection, and_, case, func, literal, select

from app.records import Job, RunSeries, RunStatus, SeriesPage, SeriesPoint, TimedValue
from app.storage.schema import points, run_metrics, runs, streams
from app.storage.sql.rows import to_datetime

__all__ = ["job_series", "metric_series"]


def metric_series(conn: Connection, run_id: int, metric: str, after: int, limit: int) -> SeriesPage:
    if "\x00" in metric:
        return SeriesPage([], None)
    metric_id = conn.execute(
        select(run_metrics.c.id).where(run_metrics.c.run_id == run_id, run_metrics.c.name == metric)
    ).scalar()
    if metric_id is None:
        return SeriesPage([], None)
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
    return SeriesPage(series, page[-1].seq if len(found) > limit else None)


def metric_values(
    conn: Connection, run_id: int, metric: str, start: float, end: float
) -> list[TimedValue]:
    """A metric's points timed from `start` up to `end` (seconds), by time: the metric's
    points are one range of the primary key, filtered by time in the database."""
    if "\x00" in metric:
        return []
    rows = conn.execute(
        select(points.c.timestamp, points.c.value)
        .join(run_metrics, run_metrics.c.id == points.c.run_metric_id)
        .where(
            run_metrics.c.run_id == run_id,
            run_metrics.c.name == metric,
            points.c.timestamp >= start,
            points.c.timestamp < end,
        )
        .order_by(points.c.timestamp, points.c.seq)
    ).all()
    return [TimedValue(time, value) for time, value in rows]


def job_series(
    conn: Connection, job: Job, metric: str, max_points: int, limit: int
) -> list[RunSeries]:
    if "\x00" in metric:
        return []
    # One statement for every run, however many, where a query per run made a page of
    # 200 runs wait for 200 round trips. A run of more than `max_points` points shows
    # every stride-th by arrival and its last, stride = ceil(count / max_points) (1 for
    # the others: all their points). Seqs are 1..count, so the k-th point shown is at
    # seq min(k * stride, count) for k = 1..ceil(count / stride) <= max_points, and is
    # read by primary key, run after run.
    stride = (run_metrics.c.count + (max_points - 1)) // max_points
    chosen = (
        select(
            func.row_number().over(order_by=(runs.c.created_at, runs.c.id)).label("position"),
            runs.c.name,
            runs.c.status,
            runs.c.objective_value,
            run_metrics.c.id.label("metric_id"),
            run_metrics.c.count.label("points"),  # `row.count` is tuple.count
            stride.label("stride"),
        )
        .join(run_metrics, run_metrics.c.run_id == runs.c.id)
        .where(runs.c.job_id == job.id, run_metrics.c.name == metric, run_metrics.c.count > 0)
        .order_by(runs.c.created_at, runs.c.id)
        .limit(limit)
        .cte("chosen")
    )
    numbers = select(literal(1).label("k")).cte("numbers", recursive=True)
    numbers = numbers.union_all(select(numbers.c.k + 1).where(numbers.c.k < max_points))
    multiple = numbers.c.k * chosen.c.stride
    seq = case((multiple < chosen.c.points, multiple), else_=chosen.c.points)
    # The run's fields on its first row only: the others would only repeat them.
    first = numbers.c.k == 1
    result = conn.execute(
        select(
            chosen.c.position,
            case((first, chosen.c.name)),
            case((first, chosen.c.status)),
            case((first, chosen.c.objective_value)),
            case((first, chosen.c.points)),
            points.c.step,
            points.c.value,
        )
        .select_from(
            chosen.join(numbers, (numbers.c.k - 1) * chosen.c.stride < chosen.c.points)
            # Outer: a point missing would leave a gap, not drop its run.
            .outerjoin(
                points, and_(points.c.run_metric_id == chosen.c.metric_id, points.c.seq == seq)
            )
        )
        .order_by(chosen.c.position, numbers.c.k)
    )
    # The driver's own tuples, unpacked: SQLAlchemy's rows took as long to make as the
    # query took to run (100,000 of them at 1,000 runs), and these columns (integers,
    # floats, a string) need none of its conversions on either backend.
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    found: list[tuple[str, RunStatus, float | None, int]] = []
    shown: list[list[tuple[int, float]]] = []
    last_position = None
    for position, name, status, objective_value, count, step, value in rows:
        if position != last_position:
            last_position = position
            found.append((name, RunStatus(status), objective_value, count))
            shown.append([])
        if step is not None:
            shown[-1].append((step, value))
    return [
        RunSeries(
            run=name,
            status=status,
            objective_value=objective_value,
            count=count,
            points=tuple(values),
        )
        for (name, status, objective_value, count), values in zip(found, shown, strict=True)
    ]
