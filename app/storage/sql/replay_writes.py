"""A re-parsed run's writes stored at once: folded in memory, one statement per table.

Ingest stores a chunk at a time (`ingest.store_parsed`): it reads the run's summaries,
folds the chunk in, inserts its points and updates the summaries and the objective, a
handful of statements per chunk. A re-parse replaces the whole run inside one
transaction, under the run's lock, so it folds every write into summaries held here,
with the same pure `fold` and in the same order, and writes each table once: every point
in one `executemany`, the summaries' values in one, the objective value in one update.
Each summary's row is inserted empty when its metric first appears, as ingest inserts
it (a write's new metrics by name), so the ids come in the same order and each point's
row is built once, with its metric's id. The rows are those ingest would have stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from app.records import Job, MetricSummary, Run
from app.storage.records import ChunkWrite
from app.storage.sql.folding import WriteByMetric, fold_write, summary_values
from app.storage.sql.statements import POINT_COLUMNS, IngestStatements
from app.summaries import empty_summary, objective_value

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
    summaries: dict[str, MetricSummary] = {}
    ids: dict[str, int] = {}
    # Each point's row, built once, in the order of POINT_COLUMNS: a dense run brings
    # hundreds of thousands, and a tuple less per point is a good share of the write.
    point_rows: list[tuple[Any, ...]] = []
    for write in writes:
        grouped = WriteByMetric(write)
        for name in sorted(grouped.names - summaries.keys()):
            # Created as ingest creates them (a write's new metrics by name), so the ids
            # come in the same order; their values are written once, at the end.
            ids[name] = sql.insert_summary.insert(conn, _EMPTY | {"run_id": run.id, "name": name})
            summaries[name] = empty_summary(name)
        stream_id = stream_ids[write.stream]
        point_rows += fold_write(grouped, grouped.names, summaries, ids, stream_id, examples_kept)
    if not summaries:
        return
    if point_rows:
        sql.insert_points.executemany_values(conn, POINT_COLUMNS, point_rows)
    sql.update_summary.executemany(
        conn,
        [{"summary_id": ids[name], **summary_values(s)} for name, s in summaries.items()],
    )
    objective = summaries.get(job.objective_metric)
    if objective is not None and objective.count:
        value = objective_value(objective, job.objective_strategy)
        sql.objective.execute(conn, {"run_id": run.id, "objective_value": value})


_EMPTY = {"count": 0, "rejected": 0, "timeouts": 0, "examples": "[]"}
