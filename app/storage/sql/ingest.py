"""The write path of ingest: a parsed chunk, or a run's end, stored in one transaction.

Every write to a run first locks the run's row (`SELECT ... FOR UPDATE`; SQLite's one
writer holds it already), so the checks made here stay true until the commit: the run
is in progress, each stream is at the offset its chunk was parsed from, and its
summaries are not being folded by anyone else. Streams and summaries are created under
that lock, so two first chunks never race to insert the same row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from app.errors import ChunkStored, DefinitionsChanged, RunEnded, StreamMoved
from app.records import Job, MetricSummary, Run, RunStatus
from app.storage.records import ChunkWrite
from app.storage.schema import runs, streams
from app.storage.sql.folding import WriteByMetric, fold_write, summary_values
from app.storage.sql.rows import summary_of, to_datetime
from app.storage.sql.statements import POINT_COLUMNS, IngestStatements, pipelined
from app.summaries import empty_summary, objective_value

__all__ = ["check_streams_unmoved", "complete_run", "lock_run", "store_chunk", "store_parsed"]

# A stored point's values, in the order `store_parsed` builds them.


def lock_run(conn: Connection, sql: IngestStatements, job: Job, run: Run) -> str | None:
    """Lock the run's row for this transaction; returns the reason the service asked
    the run to stop, if it has.

    `job` and `run` are checked to be those stored, not ones deleted since whose ids
    a newer job or run took (their creation times tell), so no chunk parsed with a
    deleted job's definitions or from a deleted stream's state is ever stored.

    Raises:
        StreamMoved: the run was deleted since it was read (a fresh read says so).
        RunEnded: the run has ended since it was read.
        DefinitionsChanged: the run's points come from newer definitions than `job`'s,
            or `job` was deleted and its id taken by a job created since.
    """
    row: Sequence[Any] | None = sql.lock_run.cursor(conn, {"run_id": run.id}).fetchone()
    if row is None:
        raise StreamMoved(f"run {run.name!r} is gone")
    status, stop_reason, version, run_created, job_id, job_created = row
    if (job_id, to_datetime(job_created)) != (job.id, job.created_at):
        raise DefinitionsChanged(f"job {job.name!r} was deleted and created again")
    if to_datetime(run_created) != run.created_at:
        raise StreamMoved(f"run {run.name!r} was deleted and created again")
    if version > job.definitions_version:
        raise DefinitionsChanged(f"job {job.name!r} was re-parsed with new definitions")
    if status != RunStatus.IN_PROGRESS.value:
        raise RunEnded(f"run {run.name!r} has ended ({status})", run=run.name, status=status)
    return None if stop_reason is None else str(stop_reason)


def check_streams_unmoved(conn: Connection, run: Run, expected: Mapping[str, int]) -> None:
    """Raises StreamMoved unless the run's streams are exactly `expected` (name to
    offset): none moved on, none appeared."""
    found = dict(
        conn.execute(
            select(streams.c.name, streams.c.next_offset).where(streams.c.run_id == run.id)
        ).all()
    )
    if found != dict(expected):
        raise StreamMoved(f"run {run.name!r} received logs while it was being ended")


def store_chunk(
    conn: Connection,
    sql: IngestStatements,
    compressed: bytes,
    job: Job,
    run: Run,
    write: ChunkWrite,
    examples_kept: int,
) -> None:
    """Store a parsed chunk: the stream's new state, its raw bytes (`compressed`, zstd),
    points and summaries. The run must be locked (`lock_run`).

    Raises: ChunkStored for a chunk whose digest the stream holds already (checked under
        the run's lock, so two tries of one chunk never both store it).
    """
    if write.digest is not None:
        found = sql.stream_id.cursor(conn, {"run_id": run.id, "name": write.stream}).fetchone()
        if (
            found is not None
            and sql.chunk_with_digest.cursor(
                conn, {"stream_id": found[0], "digest": write.digest}
            ).fetchone()
        ):
            raise ChunkStored(f"stream {write.stream!r} holds this chunk already")
    stream_id = _advance_stream(conn, sql, run, write)
    # On PostgreSQL, the chunk's row goes with the read of the summaries, and the points
    # with the summaries' updates: two round trips where there were five or more.
    with pipelined(conn):
        if write.data:
            sql.insert_chunk.cursor(
                conn,
                {
                    "stream_id": stream_id,
                    "offset": write.expected_offset,
                    "length": len(write.data),
                    "data": compressed,
                    "timestamp": write.timestamp.timestamp(),
                    "digest": write.digest,
                },
            )
        store_parsed(conn, sql, job, run, stream_id, write, examples_kept)


def complete_run(
    conn: Connection, run: Run, status: RunStatus, failure_reason: str | None, ended_at: datetime
) -> None:
    conn.execute(
        update(runs)
        .where(runs.c.id == run.id)
        .values(status=status.value, failure_reason=failure_reason, ended_at=ended_at.timestamp())
    )


def _advance_stream(conn: Connection, sql: IngestStatements, run: Run, write: ChunkWrite) -> int:
    """Move the stream from `write.expected_offset` to `write.state`."""
    state = write.state
    values = {
        "next_offset": state.next_offset,
        "lines": state.lines,
        "partial": state.partial,
        "partial_length": state.partial_length,
        "skip_lf": state.skip_lf,
        "partial_timestamp": write.timestamp.timestamp() if state.partial_length else None,
    }
    key = {"run_id": run.id, "name": write.stream}
    # One statement when the stream is where the chunk was parsed from, as it nearly
    # always is; the others tell a first chunk from a stream that moved or went.
    moved = sql.advance_named_stream.cursor(
        conn, {**key, "at": write.expected_offset, **values}
    ).fetchone()
    if moved is not None:
        return int(moved[0])
    if sql.stream_id.cursor(conn, key).fetchone() is not None:
        raise StreamMoved(f"stream {write.stream!r} moved on while this chunk was parsed")
    if write.expected_offset != 0:
        raise StreamMoved(f"stream {write.stream!r} is gone")
    return sql.insert_stream.insert_row(conn, {**key, **values})


def store_parsed(
    conn: Connection,
    sql: IngestStatements,
    job: Job,
    run: Run,
    stream_id: int,
    write: ChunkWrite,
    examples_kept: int,
) -> None:
    """Store the points and fold them and the rejections into the run's summaries."""
    grouped = WriteByMetric(write)
    if not grouped.names:
        return
    ids, summaries = _summaries(conn, sql, run.id, grouped.names)
    names = sorted(grouped.names)
    point_rows = fold_write(grouped, names, summaries, ids, stream_id, examples_kept)
    if point_rows:
        sql.insert_points.cursor_many_values(conn, POINT_COLUMNS, point_rows)
    updates = [{"summary_id": ids[name], **summary_values(summaries[name])} for name in names]
    sql.update_summary.cursor_many(conn, updates)
    objective = summaries.get(job.objective_metric)
    if objective is not None and objective.count:
        value = objective_value(objective, job.objective_strategy)
        sql.objective.cursor(conn, {"run_id": run.id, "objective_value": value})


def _summaries(
    conn: Connection, sql: IngestStatements, run_id: int, names: set[str]
) -> tuple[dict[str, int], dict[str, MetricSummary]]:
    """The run's summaries of `names` by name, with their row ids; missing rows are
    created first (the run's lock keeps anyone else from creating them meanwhile)."""
    ids: dict[str, int] = {}
    summaries: dict[str, MetricSummary] = {}
    for row in sql.summaries.cursor(conn, {"run_id": run_id}).fetchall():
        summary_id, *columns = tuple(row)
        ids[columns[0]] = summary_id
        summaries[columns[0]] = summary_of(columns)
    for name in sorted(names - summaries.keys()):
        ids[name] = sql.insert_summary.insert_row(
            conn,
            {
                "run_id": run_id,
                "name": name,
                "count": 0,
                "rejected": 0,
                "timeouts": 0,
                "examples": "[]",
            },
        )
        summaries[name] = empty_summary(name)
    return ids, summaries
