"""A re-parsed run's writes stored at once: folded in memory, one statement per table.

Ingest stores a chunk at a time (`ingest.store_parsed`): it reads the run's summaries,
folds the chunk in, inserts its points and updates the summaries and the objective, a
handful of statements per chunk. A re-parse replaces the whole run inside one
transaction, under the run's lock, so it folds every write into summaries held here,
with the same pure `fold` and in the same order, and then writes each table once: the
summaries in one insert, every point in one `executemany`, the objective value in one
update. The rows are those the chunk-by-chunk path would leave, summaries created in
the same order (each write's new metrics by name), so their ids are in the same order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, select, update

from app.records import Job, MetricSummary, RejectionExample, Run
from app.storage.records import ChunkWrite
from app.storage.schema import run_metrics, runs
from app.storage.sql.statements import POINT_COLUMNS, IngestStatements
from app.summaries import by_metric, empty_summary, fold, objective_value

__all__ = ["store_replay"]


def store_replay(
    conn: Connection,
    sql: IngestStatements,
    job: Job,
    run: Run,
    stream_ids: Mapping[str, int],
    writes: Sequence[ChunkWrite],
    examples_kept: int,
) -> None:
    """Store a re-parse's writes, in order, into a run whose summaries and points were
    just deleted (and whose objective value was cleared). The run must be locked.

    Args:
        stream_ids: the run's stream ids by name; every write's stream is among them.
        writes: the replay's writes, in the order ingest would have stored them.
        examples_kept: how many rejection examples a summary keeps.
    """
    summaries: dict[str, MetricSummary] = {}  # in the order ingest would create them
    # Per metric, its points' rows but the metric's id (not known until the summaries
    # are inserted): (seq, step, value, timestamp, stream_id, line, offset).
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for write in writes:
        points = by_metric(write.points)
        examples: dict[str, list[RejectionExample]] = {}
        for rejection in write.rejections:
            examples.setdefault(rejection.metric, []).append(
                RejectionExample(write.stream, rejection.line, rejection.capture, rejection.reason)
            )
        names = set(points) | set(write.rejected) | set(write.timeouts) | set(examples)
        for name in sorted(names - summaries.keys()):
            summaries[name] = empty_summary(name)
            rows[name] = []
        timestamp = write.timestamp.timestamp()
        stream_id = stream_ids[write.stream]
        for name in names:
            summary, numbered = fold(
                summaries[name],
                points.get(name, ()),
                write.timestamp,
                examples.get(name, ()),
                write.rejected.get(name, 0),
                write.timeouts.get(name, 0),
                examples_kept,
            )
            summaries[name] = summary
            rows[name] += [
                (p.seq, p.step, p.value, timestamp, stream_id, p.line, p.offset) for p in numbered
            ]
    if not summaries:
        return
    conn.execute(
        run_metrics.insert(),
        [_summary_row(run.id, summary) for summary in summaries.values()],
    )
    ids = dict(
        conn.execute(
            select(run_metrics.c.name, run_metrics.c.id).where(run_metrics.c.run_id == run.id)
        ).all()
    )
    point_rows = [(ids[name], *row) for name, metric_rows in rows.items() for row in metric_rows]
    if point_rows:
        sql.insert_points.executemany_values(conn, POINT_COLUMNS, point_rows)
    objective = summaries.get(job.objective_metric)
    if objective is not None and objective.count:
        value = objective_value(objective, job.objective_strategy)
        conn.execute(update(runs).where(runs.c.id == run.id).values(objective_value=value))


def _summary_row(run_id: int, summary: MetricSummary) -> dict[str, Any]:
    stamp = summary.last_timestamp
    return {
        "run_id": run_id,
        "name": summary.name,
        "count": summary.count,
        "last": summary.last,
        "last_step": summary.last_step,
        "last_timestamp": stamp.timestamp() if stamp is not None else None,
        "min": summary.min,
        "max": summary.max,
        "rejected": summary.rejected,
        "timeouts": summary.timeouts,
        # Lists, as ingest writes them; the JSON column serialises them (`json.dumps`).
        "examples": [list(example) for example in summary.examples],
    }
