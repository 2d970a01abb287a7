"""Re-parse: new definitions for a job, and each run's points replaced from its raw logs.

A re-parse first replaces the job's objective and definitions (the old ones go to
`job_definitions`) and counts `jobs.definitions_version` up; from then on new chunks
are parsed with the new definitions. Each run is then re-parsed on its own: its raw
chunks are read and parsed outside any lock, and in one transaction, under the run's
lock, the chunks that landed meanwhile are parsed too and the run's summaries, points
and objective value are replaced. `runs.definitions_version` says which runs are done.
"""

from __future__ import annotations

import bisect
import dataclasses
import heapq
import math
from collections.abc import Mapping, Sequence
from typing import Any

import zstandard
from sqlalchemy import Connection, delete, func, select, update

from app.errors import JobNotFound
from app.records import (
    DefinitionsVersion,
    Job,
    ObjectiveType,
    ReparseProgress,
    Run,
    RunStatus,
    Strategy,
    is_earlier_attempt,
)
from app.storage.records import DefinitionsSpec, Replay, RunLog, StoredChunk
from app.storage.schema import chunks, job_definitions, jobs, points, run_metrics, runs, streams
from app.storage.sql.replay_writes import store_replay
from app.storage.sql.rows import (
    definitions_from_row,
    definitions_to_row,
    now,
    state_of,
    to_datetime,
)
from app.storage.sql.statements import IngestStatements

__all__ = [
    "definitions_history",
    "read_run_log",
    "reparse_progress",
    "replace_definitions",
    "replace_run_points",
    "runs_to_reparse",
]


def replace_definitions(conn: Connection, job: Job, spec: DefinitionsSpec) -> int:
    """Keep the job's current definitions in its history and put `spec` in their place.

    Returns: the new definitions version.

    Raises: JobNotFound if the job was deleted (its id perhaps taken by a newer job).
    """
    current = conn.execute(select(jobs).where(jobs.c.id == job.id).with_for_update()).first()
    if current is None or to_datetime(current.created_at) != job.created_at:
        raise JobNotFound(job.name)
    conn.execute(
        job_definitions.insert().values(
            job_id=job.id,
            version=current.definitions_version,
            objective_metric=current.objective_metric,
            objective_type=current.objective_type,
            objective_strategy=current.objective_strategy,
            metric_definitions=current.metric_definitions,
            replaced_at=now(),
        )
    )
    version = int(current.definitions_version) + 1
    conn.execute(
        update(jobs)
        .where(jobs.c.id == job.id)
        .values(
            objective_metric=spec.objective_metric,
            objective_type=spec.objective_type,
            objective_strategy=spec.objective_strategy,
            metric_definitions=definitions_to_row(spec.metric_definitions),
            definitions_version=version,
        )
    )
    return version


def definitions_history(conn: Connection, job: Job) -> list[DefinitionsVersion]:
    """Every version of the job's definitions, oldest first, the current one last."""
    rows = conn.execute(
        select(job_definitions)
        .where(job_definitions.c.job_id == job.id)
        .order_by(job_definitions.c.version)
    ).all()
    history = [
        DefinitionsVersion(
            row.version,
            row.objective_metric,
            ObjectiveType(row.objective_type),
            Strategy(row.objective_strategy),
            definitions_from_row(row.metric_definitions),
            to_datetime(row.replaced_at),
        )
        for row in rows
    ]
    history.append(
        DefinitionsVersion(
            job.definitions_version,
            job.objective_metric,
            job.objective_type,
            job.objective_strategy,
            job.metric_definitions,
            None,
        )
    )
    return history


def reparse_progress(conn: Connection, job: Job) -> ReparseProgress:
    total, done = conn.execute(
        select(
            func.count(),
            func.count().filter(runs.c.definitions_version >= job.definitions_version),
        ).where(runs.c.job_id == job.id)
    ).one()
    return ReparseProgress(job.definitions_version, int(total), int(done))


def runs_to_reparse(conn: Connection, limit: int) -> list[tuple[str, str]]:
    """(job, run) names of runs whose points come from older definitions than their job's."""
    rows = conn.execute(
        select(jobs.c.name, runs.c.name)
        .join(runs, runs.c.job_id == jobs.c.id)
        # Few jobs are ever re-parsed: those still at version 1 need no look at their runs.
        .where(jobs.c.definitions_version > 1)
        .where(runs.c.definitions_version < jobs.c.definitions_version)
        .order_by(jobs.c.id, runs.c.id)
        .limit(limit)
    ).all()
    return [(str(job), str(run)) for job, run in rows]


def read_run_log(conn: Connection, run: Run, after: Mapping[str, int] | None = None) -> RunLog:
    """The run's chunks (those beyond `after`'s offsets, by stream name, if given), of its
    current attempt: an earlier attempt's streams (`attempt-<n>/...`) are not its log.

    Chunks stored before chunks kept their time (revision 0004) take the time of the
    earliest point of a line that starts in them, else the time of the chunk before, else
    the run's creation: the time its points had, as near as can be told.
    """
    decompressor = zstandard.ZstdDecompressor()
    stream_rows = [
        row
        for row in conn.execute(select(streams).where(streams.c.run_id == run.id)).all()
        if not is_earlier_attempt(row.name, run.attempt)
    ]
    names = {row.id: row.name for row in stream_rows}
    rows = conn.execute(
        select(chunks.c.stream_id, chunks.c.offset, chunks.c.data, chunks.c.timestamp)
        .join(streams, streams.c.id == chunks.c.stream_id)
        .where(streams.c.run_id == run.id)
        .order_by(chunks.c.stream_id, chunks.c.offset)
    ).all()
    start = dict(after or {})
    untimed = any(row.timestamp is None for row in rows)
    point_times = _point_times(conn, run) if untimed else {}
    by_stream: dict[int, list[StoredChunk]] = {}
    for row in rows:
        if row.stream_id not in names:
            continue  # an earlier attempt's
        name = names[row.stream_id]
        if row.offset < start.get(name, 0):
            continue
        data = decompressor.decompress(row.data)
        stamp = row.timestamp
        if stamp is None:
            earlier = by_stream.get(row.stream_id)
            stamp = _time_of_untimed(
                point_times.get(row.stream_id, ()),
                row.offset,
                row.offset + len(data),
                earlier[-1].timestamp.timestamp() if earlier else run.created_at.timestamp(),
            )
        by_stream.setdefault(row.stream_id, []).append(
            StoredChunk(name, row.offset, data, to_datetime(stamp))
        )
    # Each stream in offset order, the streams interleaved by time: the order they came in.
    merged = heapq.merge(*by_stream.values(), key=lambda chunk: chunk.timestamp)
    return RunLog(run, tuple(merged), {row.name: state_of(row) for row in stream_rows})


def replace_run_points(
    conn: Connection,
    sql: IngestStatements,
    job: Job,
    run: Run,
    seen: Mapping[str, int],
    replay: Replay,
    examples_kept: int,
) -> bool:
    """Replace the run's summaries, points and objective value with the re-parse's.

    Locks the run's row, gives `replay` the chunks beyond `seen`, and stores every write
    it returns. Returns False, changing nothing, if the run's points already come from
    the job's definitions, the job was re-parsed again since `job` was read, or the run
    was deleted.

    Raises: JobNotFound if the job was deleted (its id perhaps taken by a newer job).
    """
    row = conn.execute(
        select(runs.c.definitions_version, runs.c.status, runs.c.created_at)
        .where(runs.c.id == run.id)
        .with_for_update()
    ).first()
    current = conn.execute(
        select(jobs.c.definitions_version, jobs.c.created_at).where(jobs.c.id == job.id)
    ).first()
    if current is None or to_datetime(current.created_at) != job.created_at:
        raise JobNotFound(job.name)
    if row is None or to_datetime(row.created_at) != run.created_at:
        return False
    if row.definitions_version >= job.definitions_version:
        return False
    if current.definitions_version != job.definitions_version:
        return False
    # The run may have ended since it was read: the replay then parses its last lines.
    locked = dataclasses.replace(run, status=RunStatus(row.status))
    writes = replay(read_run_log(conn, locked, seen))
    conn.execute(delete(run_metrics).where(run_metrics.c.run_id == run.id))
    conn.execute(
        update(runs)
        .where(runs.c.id == run.id)
        .values(objective_value=None, definitions_version=job.definitions_version)
    )
    stream_ids = dict(
        conn.execute(select(streams.c.name, streams.c.id).where(streams.c.run_id == run.id)).all()
    )
    store_replay(conn, sql, job, run, stream_ids, writes, examples_kept)
    return True


def _point_times(conn: Connection, run: Run) -> dict[int, list[tuple[int, float]]]:
    """(offset, time) of the run's stored points, by stream, in offset order."""
    found: dict[int, list[tuple[int, float]]] = {}
    rows: Any = conn.execute(
        select(points.c.stream_id, points.c.offset, points.c.timestamp)
        .join(run_metrics, run_metrics.c.id == points.c.run_metric_id)
        .where(run_metrics.c.run_id == run.id)
        .order_by(points.c.stream_id, points.c.offset)
    )
    for stream_id, offset, stamp in rows:
        found.setdefault(stream_id, []).append((offset, stamp))
    return found


def _time_of_untimed(
    times: Sequence[tuple[int, float]], start: int, end: int, fallback: float
) -> float:
    first = bisect.bisect_left(times, (start, -math.inf))
    last = bisect.bisect_left(times, (end, -math.inf))
    return min((stamp for _offset, stamp in times[first:last]), default=fallback)
