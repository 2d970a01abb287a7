"""The write path of ingest: a parsed chunk, or a run's end, stored in one transaction.

Every write to a run first locks the run's row (`SELECT ... FOR UPDATE`; SQLite's one
writer holds it already), so the checks made here stay true until the commit: the run
is in progress, each stream is at the offset its chunk was parsed from, and its
summaries are not being folded by anyone else. Streams and summaries are created under
that lock, so two first chunks never race to insert the same row.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import zstandard
from sqlalchemy import Connection, bindparam, insert, select, update

from app.errors import RunEnded, StreamMoved
from app.records import Job, MetricSummary, RejectionExample, Run, RunStatus
from app.storage.base import ChunkWrite
from app.storage.schema import chunks, run_metrics, runs, streams
from app.storage.sql.engine import Dialect
from app.storage.sql.rows import SUMMARY_COLUMNS, SUMMARY_SELECT, inserted_id, summary_of
from app.summaries import by_metric, fold, objective_value

__all__ = ["check_streams_unmoved", "end_run", "lock_run", "store_chunk"]


def lock_run(conn: Connection, run: Run) -> None:
    """Lock the run's row for this transaction.

    Raises: RunEnded when the run has ended since it was read.
    """
    status = conn.execute(
        select(runs.c.status).where(runs.c.id == run.id).with_for_update()
    ).scalar_one()
    if status != RunStatus.IN_PROGRESS.value:
        raise RunEnded(f"run {run.name!r} has ended ({status})", run=run.name, status=status)


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
    dialect: Dialect,
    compressor: zstandard.ZstdCompressor,
    job: Job,
    run: Run,
    write: ChunkWrite,
    examples_kept: int,
) -> None:
    """Store a parsed chunk: the stream's new state, its raw bytes, points and summaries.
    The run must be locked (`lock_run`)."""
    stream_id = _advance_stream(conn, run, write)
    if write.data:
        conn.execute(
            insert(chunks).values(
                stream_id=stream_id,
                offset=write.expected_offset,
                length=len(write.data),
                data=compressor.compress(write.data),
            )
        )
    _store_parsed(conn, dialect, job, run, stream_id, write, examples_kept)


def end_run(
    conn: Connection, run: Run, status: RunStatus, failure_reason: str | None, ended_at: datetime
) -> None:
    conn.execute(
        update(runs)
        .where(runs.c.id == run.id)
        .values(status=status.value, failure_reason=failure_reason, ended_at=ended_at.timestamp())
    )


def _advance_stream(conn: Connection, run: Run, write: ChunkWrite) -> int:
    """Move the stream from `write.expected_offset` to `write.state`."""
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
        return inserted_id(
            conn.execute(insert(streams).values(run_id=run.id, name=write.stream, **values))
        )
    moved = conn.execute(
        update(streams)
        .where(streams.c.id == stream_id, streams.c.next_offset == write.expected_offset)
        .values(**values)
    )
    if moved.rowcount != 1:
        raise StreamMoved(f"stream {write.stream!r} moved on while this chunk was parsed")
    return int(stream_id)


def _store_parsed(
    conn: Connection,
    dialect: Dialect,
    job: Job,
    run: Run,
    stream_id: int,
    write: ChunkWrite,
    examples_kept: int,
) -> None:
    """Store the points and fold them and the rejections into the run's summaries."""
    points = by_metric(write.points)
    examples: dict[str, list[RejectionExample]] = {}
    for rejection in write.rejections:
        examples.setdefault(rejection.metric, []).append(
            RejectionExample(write.stream, rejection.line, rejection.capture, rejection.reason)
        )
    names = set(points) | set(write.rejected) | set(write.timeouts) | set(examples)
    if not names:
        return
    ids, summaries = _summaries_for_update(conn, run.id, names)
    point_rows: list[tuple[Any, ...]] = []
    updates = []
    for name in sorted(names):
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
        timestamp = write.timestamp.timestamp()
        point_rows += [
            (ids[name], p.seq, p.step, p.value, timestamp, stream_id, p.line, p.offset)
            for p in numbered
        ]
        updates.append({"b_id": ids[name], **_summary_values(summary)})
    if point_rows:
        dialect.insert_points(conn, point_rows)
    conn.execute(
        update(run_metrics)
        .where(run_metrics.c.id == bindparam("b_id"))
        .values({column: bindparam(f"b_{column}") for column in SUMMARY_COLUMNS}),
        updates,
    )
    objective = summaries.get(job.objective_metric)
    if objective is not None and objective.count:
        value = objective_value(objective, job.objective_strategy)
        conn.execute(update(runs).where(runs.c.id == run.id).values(objective_value=value))


def _summary_values(summary: MetricSummary) -> dict[str, Any]:
    return {
        "b_count": summary.count,
        "b_last": summary.last,
        "b_last_step": summary.last_step,
        "b_last_timestamp": (
            summary.last_timestamp.timestamp() if summary.last_timestamp is not None else None
        ),
        "b_min": summary.min,
        "b_max": summary.max,
        "b_rejected": summary.rejected,
        "b_timeouts": summary.timeouts,
        "b_examples": [list(example) for example in summary.examples],
    }


def _summaries_for_update(
    conn: Connection, run_id: int, names: set[str]
) -> tuple[dict[str, int], dict[str, MetricSummary]]:
    """The run's summaries of `names` by name, with their row ids; missing rows are
    created first (the run's lock keeps anyone else from creating them meanwhile)."""

    def load() -> tuple[dict[str, int], dict[str, MetricSummary]]:
        rows = conn.execute(
            select(run_metrics.c.id, *SUMMARY_SELECT).where(
                run_metrics.c.run_id == run_id, run_metrics.c.name.in_(sorted(names))
            )
        ).all()
        return (
            {row[1]: row[0] for row in rows},
            {row[1]: summary_of(row[1:]) for row in rows},
        )

    ids, summaries = load()
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
        ids, summaries = load()
    return ids, summaries
