"""The tuning service's rows: a job's status, run leases and stop requests.

A lease is made in one transaction that locks the job's row (`FOR UPDATE SKIP LOCKED`
on PostgreSQL, so two workers asking at once take different jobs or wait their turn;
SQLite's one writer serialises them anyway), reads the job's runs, lets the caller plan
the next run from them, and inserts it. So a run is handed out once, and no more than
the search allows are ever in progress, however many workers and service processes ask.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, func, insert, or_, select, update

from app.errors import (
    JobNotFound,
    LeaseHeld,
    NotLeased,
    RunAwaitsAttempt,
    RunEnded,
    RunNotFound,
)
from app.records import (
    Job,
    JobState,
    JobStatus,
    ObjectiveCurve,
    Run,
    RunAttempt,
    RunStatus,
    StopCause,
    attempt_stream,
    is_earlier_attempt,
)
from app.storage.records import LeasePlan
from app.storage.schema import jobs, points, run_attempts, run_metrics, runs, streams
from app.storage.sql.rows import job_of, job_state_of, run_of, to_datetime
from app.storage.sql.runs import insert_run

__all__ = [
    "expired_leases",
    "job_state",
    "lease_given",
    "lease_run",
    "note_waiting",
    "objective_curves",
    "open_search_jobs",
    "renew_lease",
    "request_stop",
    "retry_run",
    "run_attempts_of",
    "runs_in_progress",
    "set_job_state",
    "tallies",
]

# A stream's name, as the schema holds it.
_STREAM_NAME_MAX = 255


def job_state(conn: Connection, job: Job) -> JobState:
    """Raises: JobNotFound if the job was deleted."""
    row = conn.execute(select(jobs).where(jobs.c.id == job.id)).first()
    if row is None:
        raise JobNotFound(job.name)
    return job_state_of(row)


def set_job_state(
    conn: Connection,
    job: Job,
    expected: Sequence[JobStatus],
    values: Mapping[str, Any],
) -> bool:
    """Change the job's state columns if its status is one of `expected`."""
    done = conn.execute(
        update(jobs)
        .where(jobs.c.id == job.id, jobs.c.status.in_([s.value for s in expected]))
        .values(**values)
    )
    return done.rowcount == 1


def lease_run(
    conn: Connection,
    names: Sequence[str] | None,
    worker: str,
    created: float,
    lease_until: float,
    plan: LeasePlan,
    ingest_token: Callable[[int], str | None] | None,
    request: str | None = None,
    *,
    wait_for: int | None = None,
) -> tuple[tuple[Job, Run] | None, list[int]]:
    """Start the next run of the first job (oldest first) that has one to start.

    Jobs another transaction holds are skipped, and their ids returned, so that the
    caller can try them again, one at a time and waiting (`wait_for`, a job id): in a
    transaction of its own, so it never waits while holding a job's lock.
    """
    candidates = (
        select(jobs)
        .where(
            jobs.c.search.is_not(None),
            jobs.c.status == JobStatus.IN_PROGRESS.value,
            jobs.c.completion_criterion.is_(None),
        )
        .order_by(jobs.c.created_at, jobs.c.id)
    )
    if names is not None:
        candidates = candidates.where(jobs.c.name.in_(list(names)))
    if wait_for is not None:
        candidates = candidates.where(jobs.c.id == wait_for)
        wanted = [wait_for]
        locked = conn.execute(candidates.with_for_update()).all()
    else:
        wanted = list(conn.execute(candidates.with_only_columns(jobs.c.id)).scalars())
        locked = conn.execute(candidates.with_for_update(skip_locked=True)).all()
    for row in locked:
        job = job_of(row)
        found = [
            run_of(r, job)
            for r in conn.execute(
                select(runs).where(runs.c.job_id == job.id).order_by(runs.c.id)
            ).all()
        ]
        planned = plan(job, job_state_of(row), found)
        if planned is None:
            continue
        if planned.again:
            waiting = next(run for run in found if run.name == planned.name)
            values: dict[str, Any] = {
                "worker": worker,
                "lease_expires_at": lease_until,
                "attempt_started_at": created,
                "lease_request": request,
            }
            if ingest_token is not None:
                # A new token: the lost attempt's no longer writes to the run.
                values["ingest_token_hash"] = ingest_token(waiting.id)
            conn.execute(update(runs).where(runs.c.id == waiting.id).values(**values))
            return (job, _run(conn, job, waiting.id)), []
        index = sum(1 for run in found if run.search_index is not None)
        run_id, _name = insert_run(
            conn, job, planned.name, planned.hyperparameters, created, ingest_token
        )
        conn.execute(
            update(runs)
            .where(runs.c.id == run_id)
            .values(
                search_index=index,
                worker=worker,
                lease_expires_at=lease_until,
                lease_request=request,
            )
        )
        return (job, _run(conn, job, run_id)), []
    held = {row.id for row in locked}
    return None, [job_id for job_id in wanted if job_id not in held]


def lease_given(
    conn: Connection,
    worker: str,
    request: str,
    lease_until: float,
    ingest_token: Callable[[int], str | None] | None,
) -> tuple[Job, Run] | None:
    """The run in progress a lease request of this id gave `worker`, leased again (its
    lease renewed, a new ingest token: the first answer's never reached the worker); None
    if there is none."""
    row = conn.execute(
        select(runs)
        .where(
            runs.c.lease_request == request,
            runs.c.worker == worker,
            runs.c.status == RunStatus.IN_PROGRESS.value,
        )
        .with_for_update()
    ).first()
    if row is None:
        return None
    values: dict[str, Any] = {"lease_expires_at": lease_until}
    if ingest_token is not None:
        values["ingest_token_hash"] = ingest_token(row.id)
    conn.execute(update(runs).where(runs.c.id == row.id).values(**values))
    job = job_of(conn.execute(select(jobs).where(jobs.c.id == row.job_id)).one())
    return job, _run(conn, job, row.id)


def renew_lease(
    conn: Connection,
    job: Job,
    run: str,
    worker: str,
    lease_until: float,
    gpus: Sequence[str] | None = None,
    attempt: int | None = None,
) -> Run:
    """Extend an in-progress run's lease, if `worker` holds it (it is alive), and note the
    GPUs it holds (None: the worker does not say). The run's row is locked first, so no
    other heartbeat or lease comes between check and write.

    Raises: RunNotFound; NotLeased; LeaseHeld.
    """
    if "\x00" in run:
        raise RunNotFound(job.name, run)
    row = conn.execute(
        select(runs).where(runs.c.job_id == job.id, runs.c.name == run).with_for_update()
    ).first()
    if row is None:
        raise RunNotFound(job.name, run)
    if attempt is not None and row.attempt != attempt:
        raise RunAwaitsAttempt(
            f"run {run!r} is in its attempt {row.attempt}: attempt {attempt} has ended, and "
            "its worker no longer holds the run",
            run=run,
            attempt=row.attempt,
        )
    if row.worker is None:
        raise NotLeased(run, worker)
    if row.worker != worker:
        raise LeaseHeld(run, worker, row.worker)
    if row.status != RunStatus.IN_PROGRESS.value:
        return run_of(row, job)  # ended: the worker learns so from the answer
    values: dict[str, Any] = {"lease_expires_at": lease_until}
    if gpus is not None:
        values["gpus"] = list(gpus)
    conn.execute(update(runs).where(runs.c.id == row.id).values(**values))
    return _run(conn, job, row.id)


def request_stop(conn: Connection, job: Job, run: Run | None, reason: str, cause: str) -> list[str]:
    """Ask in-progress runs (one, or all of the job's) to stop; a run asked already keeps
    its first reason. Returns the names of the runs asked now."""
    where = and_(
        runs.c.job_id == job.id,
        runs.c.status == RunStatus.IN_PROGRESS.value,
        runs.c.stop_reason.is_(None),
    )
    if run is not None:
        where = and_(where, runs.c.id == run.id)
    names = list(conn.execute(select(runs.c.name).where(where)).scalars())
    if names:
        conn.execute(update(runs).where(where).values(stop_reason=reason, stop_cause=cause))
    return names


def note_waiting(conn: Connection, job: Job, reason: str | None, kind: str) -> bool:
    """See `Storage.note_waiting`: one conditional UPDATE."""
    ours = or_(
        jobs.c.status_reason.is_(None),
        func.substr(jobs.c.status_reason, 1, len(kind)) == kind,
    )
    changed = conn.execute(
        update(jobs)
        .where(
            jobs.c.id == job.id,
            jobs.c.status == JobStatus.IN_PROGRESS.value,
            jobs.c.completion_criterion.is_(None),
            ours,
            jobs.c.status_reason.is_distinct_from(reason),
        )
        .values(status_reason=reason)
    )
    return bool(changed.rowcount)


def retry_run(
    conn: Connection,
    job: Job,
    run: Run,
    reason: str,
    ended_at: float,
    lapsed_by: float | None = None,
) -> Run:
    """End the run's current attempt, failed for `reason`, and make the run wait to be
    leased again (see `Storage.retry_run`). The run's row is locked first.

    Raises: RunNotFound; RunEnded if it has ended, its attempt is no longer `run`'s, or
        (`lapsed_by` given) it holds no lease, or one renewed to lapse after `lapsed_by`.
    """
    row = conn.execute(select(runs).where(runs.c.id == run.id).with_for_update()).first()
    if row is None or row.job_id != job.id:
        raise RunNotFound(job.name, run.name)
    # Reaped (`lapsed_by` given), the attempt must hold a lease that lapsed: not one
    # renewed meanwhile, nor none at all (a run waiting for its next attempt, which
    # another reaper read as lapsed and tried again first).
    unlapsed = lapsed_by is not None and (
        row.lease_expires_at is None or row.lease_expires_at >= lapsed_by
    )
    if row.status != RunStatus.IN_PROGRESS.value or row.attempt != run.attempt or unlapsed:
        raise RunEnded(
            f"run {run.name!r}'s attempt {run.attempt} has ended, or its lease was renewed",
            run=run.name,
            status=row.status,
        )
    conn.execute(
        insert(run_attempts).values(
            run_id=row.id,
            attempt=row.attempt,
            worker=row.worker,
            started_at=row.attempt_started_at or row.created_at,
            ended_at=ended_at,
            reason=reason,
        )
    )
    # The attempt's streams keep its log under names of their own; its points go.
    for stream in conn.execute(
        select(streams.c.id, streams.c.name).where(streams.c.run_id == row.id)
    ).all():
        if is_earlier_attempt(stream.name, row.attempt + 1):
            continue  # an earlier attempt's already
        kept = attempt_stream(row.attempt, stream.name)
        if len(kept) > _STREAM_NAME_MAX:
            kept = attempt_stream(row.attempt, f"stream-{stream.id}")
        conn.execute(update(streams).where(streams.c.id == stream.id).values(name=kept))
    conn.execute(delete(run_metrics).where(run_metrics.c.run_id == row.id))
    conn.execute(
        update(runs)
        .where(runs.c.id == row.id)
        .values(
            attempt=row.attempt + 1,
            worker=None,
            lease_expires_at=None,
            attempt_started_at=None,
            objective_value=None,
            gpus=None,
            # The ended attempt's token no longer writes; the next lease makes one.
            ingest_token_hash=None,
        )
    )
    return _run(conn, job, row.id)


def run_attempts_of(conn: Connection, run_id: int) -> tuple[RunAttempt, ...]:
    """The run's earlier attempts, first first."""
    rows = conn.execute(
        select(run_attempts).where(run_attempts.c.run_id == run_id).order_by(run_attempts.c.attempt)
    ).all()
    return tuple(
        RunAttempt(
            row.attempt,
            row.worker,
            to_datetime(row.started_at),
            to_datetime(row.ended_at),
            row.reason,
        )
        for row in rows
    )


def expired_leases(conn: Connection, now: float) -> list[tuple[str, str]]:
    """(job, run) of each in-progress run whose lease has lapsed."""
    rows = conn.execute(
        select(jobs.c.name, runs.c.name)
        .join(jobs, jobs.c.id == runs.c.job_id)
        .where(runs.c.lease_expires_at < now, runs.c.status == RunStatus.IN_PROGRESS.value)
        .order_by(runs.c.id)
    ).all()
    return [(job, run) for job, run in rows]


def objective_curves(conn: Connection, job: Job, run: str | None = None) -> list[ObjectiveCurve]:
    """Every run's points of the objective metric, runs oldest first; with `run`, only
    its own and those of the runs it is compared with (`Storage.objective_curves`)."""
    chosen = runs.c.job_id == job.id
    if run is not None:
        mine = conn.execute(
            select(runs.c.id, runs.c.search_index).where(
                runs.c.job_id == job.id, runs.c.name == run
            )
        ).one_or_none()
        if mine is None:
            return []
        only = runs.c.id == mine.id
        if mine.search_index is not None:
            earlier = and_(
                runs.c.search_index < mine.search_index,
                runs.c.status != RunStatus.FAILED.value,
            )
            only = or_(only, earlier)
        chosen = and_(chosen, only)
    run_rows = conn.execute(
        select(runs.c.id, runs.c.name, runs.c.search_index, runs.c.status)
        .where(chosen)
        .order_by(runs.c.id)
    ).all()
    found: dict[int, list[tuple[int, float]]] = {row.id: [] for row in run_rows}
    point_rows = conn.execute(
        select(run_metrics.c.run_id, points.c.step, points.c.value)
        .join(points, points.c.run_metric_id == run_metrics.c.id)
        .join(runs, runs.c.id == run_metrics.c.run_id)
        .where(chosen, run_metrics.c.name == job.objective_metric)
        .order_by(run_metrics.c.run_id, points.c.seq)
    )
    for run_id, step, value in point_rows:
        found[run_id].append((step, value))
    return [
        ObjectiveCurve(row.name, row.search_index, RunStatus(row.status), tuple(found[row.id]))
        for row in run_rows
    ]


def open_search_jobs(conn: Connection, names: Sequence[str] | None) -> int:
    """How many jobs with a search (among `names`, or all) have not ended."""
    ended = [JobStatus.COMPLETED.value, JobStatus.FAILED.value, JobStatus.STOPPED.value]
    statement = select(func.count()).where(jobs.c.search.is_not(None), jobs.c.status.not_in(ended))
    if names is not None:
        statement = statement.where(jobs.c.name.in_(list(names)))
    return int(conn.execute(statement).scalar_one())


def runs_in_progress(conn: Connection) -> tuple[int, int]:
    running, leased = conn.execute(
        select(func.count(), func.count(runs.c.lease_expires_at)).where(
            runs.c.status == RunStatus.IN_PROGRESS.value
        )
    ).one()
    return int(running), int(leased)


def tallies(conn: Connection, job: Job) -> dict[str, int]:
    """See `JobOverview.tallies`."""
    counted = [RunStatus.COMPLETED.value, RunStatus.STOPPED.value]
    in_progress = runs.c.status == RunStatus.IN_PROGRESS.value
    row = conn.execute(
        select(
            func.count().filter(runs.c.status.in_(counted), runs.c.objective_value.is_not(None)),
            func.count().filter(runs.c.search_index.is_not(None)),
            func.count().filter(in_progress, runs.c.lease_expires_at.is_not(None)),
            func.count().filter(
                runs.c.status == RunStatus.STOPPED.value,
                runs.c.stop_cause == StopCause.EARLY_STOPPING.value,
            ),
        ).where(runs.c.job_id == job.id)
    ).one()
    retried = conn.execute(
        select(func.count())
        .select_from(run_attempts)
        .join(runs, runs.c.id == run_attempts.c.run_id)
        .where(runs.c.job_id == job.id)
    ).scalar_one()
    found = dict(zip(("succeeded", "started", "leased", "stopped_early"), row, strict=True))
    return {**found, "retried": retried}


def _run(conn: Connection, job: Job, run_id: int) -> Run:
    """A run this transaction has just written (so it exists)."""
    row: Row[Any] = conn.execute(select(runs).where(runs.c.id == run_id)).one()
    return run_of(row, job)
