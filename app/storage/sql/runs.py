"""Jobs and runs: creating them, reading them, and ranking runs by their objective."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, and_, case, delete, func, insert, or_, select, update

from app.errors import JobNotFound, RunNotFound
from app.records import Job, MetricSummary, ObjectiveType, Run, RunStatus
from app.storage.cursors import decode_cursor, encode_cursor
from app.storage.records import JobSpec, RunPage, RunQuery
from app.storage.schema import jobs, run_metrics, runs, streams
from app.storage.sql.rows import (
    SUMMARY_SELECT,
    definitions_to_row,
    inserted_id,
    job_of,
    run_of,
    summary_of,
    to_datetime,
)

__all__ = [
    "best_run",
    "delete_job",
    "delete_run",
    "get_job",
    "insert_job",
    "insert_run",
    "is_current",
    "job_runs",
    "jobs_with_run",
    "list_jobs",
    "list_runs",
    "lock_job",
    "lock_job_runs",
    "run_counts",
    "run_row",
    "run_token_hash",
    "stream_rows",
    "summaries",
]


def insert_job(conn: Connection, spec: JobSpec, created: float) -> int:
    return inserted_id(
        conn.execute(
            insert(jobs).values(
                name=spec.name,
                objective_metric=spec.objective_metric,
                objective_type=spec.objective_type,
                objective_strategy=spec.objective_strategy,
                log_format=spec.log_format,
                metric_definitions=definitions_to_row(spec.metric_definitions),
                environment=dict(spec.environment),
                created_at=created,
                search=dict(spec.search) if spec.search is not None else None,
            )
        )
    )


def get_job(conn: Connection, name: str) -> Job:
    if "\x00" in name:  # no name holds NUL (PostgreSQL text cannot): not one to look up
        raise JobNotFound(name)
    row = conn.execute(select(jobs).where(jobs.c.name == name)).first()
    if row is None:
        raise JobNotFound(name)
    return job_of(row)


def is_current(conn: Connection, job: Job) -> bool:
    """Whether `job` is still the job of its name: not deleted, and its id not taken
    by a job created since (SQLite gives a deleted row's id to the next one)."""
    created = conn.execute(select(jobs.c.created_at).where(jobs.c.id == job.id)).scalar()
    return created is not None and to_datetime(created) == job.created_at


def lock_job(conn: Connection, job: Job, *, share: bool = False) -> None:
    """Lock the job's row for this transaction (`share`: against deletes and re-parses
    only), so what is written next belongs to the job as `job` holds it.

    Raises: JobNotFound if it was deleted (its id perhaps taken by a newer job).
    """
    created = conn.execute(
        select(jobs.c.created_at).where(jobs.c.id == job.id).with_for_update(read=share)
    ).scalar()
    if created is None or to_datetime(created) != job.created_at:
        raise JobNotFound(job.name)


def lock_job_runs(conn: Connection, job: Job) -> None:
    """Lock the job's runs, in id order, before the job itself is locked to be deleted.

    A chunk's write locks its run, then may take a share of its job's row (PostgreSQL
    checks the run's foreign key when it updates the run's objective value): a delete
    that locked the job first, then cascaded to the runs, deadlocked with it.
    """
    conn.execute(
        select(runs.c.id).where(runs.c.job_id == job.id).order_by(runs.c.id).with_for_update()
    ).all()


def list_jobs(conn: Connection) -> list[Job]:
    rows = conn.execute(select(jobs).order_by(jobs.c.created_at.desc(), jobs.c.id.desc()))
    return [job_of(row) for row in rows]


def run_counts(conn: Connection, job: Job) -> dict[str, int]:
    counts: dict[str, int] = dict(
        conn.execute(
            select(runs.c.status, func.count())
            .where(runs.c.job_id == job.id)
            .group_by(runs.c.status)
        ).all()
    )
    return {status.value: int(counts.get(status.value, 0)) for status in RunStatus}


def insert_run(
    conn: Connection,
    job: Job,
    name: str | None,
    hyperparameters: Mapping[str, str],
    created: float,
    ingest_token: Callable[[int], str | None] | None,
) -> tuple[int, str]:
    """Insert an InProgress run, naming it `run-NNNN` when `name` is None."""
    run_name = name or _next_run_name(conn, job)
    run_id = inserted_id(
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
            update(runs).where(runs.c.id == run_id).values(ingest_token_hash=ingest_token(run_id))
        )
    return run_id, run_name


def _next_run_name(conn: Connection, job: Job) -> str:
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


def run_row(conn: Connection, job: Job, name: str) -> Row[Any]:
    if "\x00" in name:
        raise RunNotFound(job.name, name)
    row = conn.execute(select(runs).where(runs.c.job_id == job.id, runs.c.name == name)).first()
    if row is None:
        raise RunNotFound(job.name, name)
    return row


def delete_job(conn: Connection, job: Job) -> None:
    """Delete the job, its runs and all they hold; its runs are locked first, then the
    job, in the order a chunk's write takes them (no deadlock with one)."""
    lock_job_runs(conn, job)
    lock_job(conn, job)
    conn.execute(delete(jobs).where(jobs.c.id == job.id))


def delete_run(conn: Connection, job: Job, name: str) -> None:
    """Raises: RunNotFound."""
    gone = conn.execute(delete(runs).where(runs.c.job_id == job.id, runs.c.name == name)).rowcount
    if gone != 1:
        raise RunNotFound(job.name, name)


def run_token_hash(conn: Connection, run_id: int) -> str | None:
    stored: str | None = conn.execute(
        select(runs.c.ingest_token_hash).where(runs.c.id == run_id)
    ).scalar()
    return stored


def stream_rows(conn: Connection, run_id: int, name: str | None = None) -> list[Row[Any]]:
    """The run's streams by name, or the one named `name` (none if it has no such)."""
    statement = select(streams).where(streams.c.run_id == run_id)
    if name is not None:
        statement = statement.where(streams.c.name == name)
    return list(conn.execute(statement.order_by(streams.c.name)).all())


def jobs_with_run(conn: Connection, run: str) -> list[str]:
    """The names of the jobs that have a run named `run`, oldest first."""
    found = conn.execute(
        select(jobs.c.name)
        .join(runs, runs.c.job_id == jobs.c.id)
        .where(runs.c.name == run)
        .order_by(jobs.c.id)
    )
    return list(found.scalars())


def job_runs(conn: Connection, job: Job) -> list[Run]:
    """Every run of the job, oldest first, without summaries."""
    rows = conn.execute(select(runs).where(runs.c.job_id == job.id).order_by(runs.c.id))
    return [run_of(row, job) for row in rows]


def metrics_with_points(conn: Connection, job: Job) -> list[str]:
    """The names of the job's metrics with points in some run, sorted."""
    rows = conn.execute(
        select(run_metrics.c.name)
        .distinct()
        .join(runs, runs.c.id == run_metrics.c.run_id)
        .where(runs.c.job_id == job.id, run_metrics.c.count > 0)
        .order_by(run_metrics.c.name)
    )
    return list(rows.scalars())


def summaries(conn: Connection, run_ids: Sequence[int]) -> dict[int, tuple[MetricSummary, ...]]:
    """Each run's metric summaries, in the order the metrics first appeared."""
    if not run_ids:
        return {}
    found: dict[int, list[MetricSummary]] = {}
    rows = conn.execute(
        select(run_metrics.c.run_id, *SUMMARY_SELECT)
        .where(run_metrics.c.run_id.in_(run_ids))
        .order_by(run_metrics.c.run_id, run_metrics.c.id)
    )
    # Positional: a leaderboard page reads hundreds of these, and by-name access to
    # a row's columns cost more than the query.
    for run_id, *columns in rows:
        found.setdefault(run_id, []).append(summary_of(columns))
    return {run_id: tuple(metrics) for run_id, metrics in found.items()}


def list_runs(conn: Connection, job: Job, query: RunQuery) -> RunPage:
    descending = query.order == "desc"
    keys: list[Any]
    computed: list[Any] = []  # keys that are no column, selected for the cursor
    if query.sort_by == "objective" and query.ranked:
        # Ranked runs first (section 0), by value; then the others (section 1), whose
        # value reads 0 so that they tie on it and go oldest first.
        is_ranked = and_(
            runs.c.status.in_([s.value for s in query.ranked]),
            runs.c.objective_value.is_not(None),
        )
        section = case((is_ranked, 0), else_=1).label("section")
        value = case((is_ranked, runs.c.objective_value), else_=0.0).label("ranked_value")
        computed = [section, value]
        keys = [*computed, runs.c.created_at, runs.c.id]
        types: tuple[type, ...] = (int, float, float, int)
        directions = [False, descending, False, False]
    else:
        if query.sort_by == "objective":
            keys = [runs.c.objective_value, runs.c.created_at, runs.c.id]
            types = (float, float, int)
            ascending_ties = True  # ties: earliest created first, whatever the order
        elif query.sort_by == "created_at":
            keys, types, ascending_ties = [runs.c.created_at, runs.c.id], (float, int), False
        else:  # "name": RunQuery refuses any other key
            keys, types, ascending_ties = [runs.c.name], (str,), False
        directions = [descending] + [descending and not ascending_ties] * (len(keys) - 1)
    statement = select(runs, *computed).where(runs.c.job_id == job.id)
    if query.sort_by == "objective" and not computed:
        statement = statement.where(runs.c.objective_value.is_not(None))
    if query.statuses:
        statement = statement.where(runs.c.status.in_([s.value for s in query.statuses]))
    if query.cursor is not None:
        after = decode_cursor(query.cursor, types)
        statement = statement.where(_after(keys, directions, after))
    statement = statement.order_by(
        *(key.desc() if down else key.asc() for key, down in zip(keys, directions, strict=True))
    ).limit(query.limit + 1)
    rows = conn.execute(statement).all()
    page = rows[: query.limit]
    found = summaries(conn, [row.id for row in page])
    next_cursor = None
    if len(rows) > query.limit:
        last = page[-1]
        next_cursor = encode_cursor([getattr(last, key.name) for key in keys])
    return RunPage(tuple(run_of(r, job, found.get(r.id, ())) for r in page), next_cursor)


def best_run(conn: Connection, job: Job, statuses: Sequence[RunStatus]) -> Run | None:
    value = runs.c.objective_value
    row = conn.execute(
        select(runs)
        .where(
            runs.c.job_id == job.id,
            runs.c.status.in_([s.value for s in statuses]),
            value.is_not(None),
        )
        .order_by(
            value.desc() if job.objective_type is ObjectiveType.MAXIMIZE else value.asc(),
            runs.c.created_at.asc(),
            runs.c.id.asc(),
        )
        .limit(1)
    ).first()
    if row is None:
        return None
    return run_of(row, job, summaries(conn, [row.id]).get(row.id, ()))


def _after(keys: Sequence[Any], directions: Sequence[bool], after: Sequence[Any]) -> Any:
    """Rows that sort strictly after the key `after` (keyset pagination)."""
    clauses = []
    for i, (key, descending) in enumerate(zip(keys, directions, strict=True)):
        beyond = key < after[i] if descending else key > after[i]
        equal = [keys[j] == after[j] for j in range(i)]
        clauses.append(and_(*equal, beyond))
    return or_(*clauses)
