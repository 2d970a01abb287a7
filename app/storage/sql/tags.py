"""Tags: the keys and values users attach to a job or to one of its runs.

A job's tags are rows of `job_tags`, a run's of `run_tags`; either goes with its job or
run (ON DELETE CASCADE). A write locks the job's row first, so two requests that add tags
to the same job or run at once take turns, and the limit on how many a job or run may
hold is checked against what the other one committed.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Connection, Table, delete, insert, select, update

from app.errors import InvalidInput, JobNotFound, RunNotFound
from app.records import Job, Tag
from app.storage.schema import job_tags, run_tags, runs
from app.storage.sql.runs import is_current, lock_job

__all__ = ["add_tags", "delete_tags", "tags"]


def tags(conn: Connection, job: Job, run: str | None) -> list[Tag]:
    """The tags of the job, or of its run `run`, in the order they were first added.

    Raises: JobNotFound if the job was deleted; RunNotFound.
    """
    if not is_current(conn, job):
        raise JobNotFound(job.name)
    table, owner = _owner(conn, job, run)
    rows = conn.execute(
        select(table.c.key, table.c.value).where(_owned(table, owner)).order_by(table.c.position)
    )
    return [Tag(row.key, row.value) for row in rows]


def add_tags(
    conn: Connection, job: Job, run: str | None, given: Sequence[Tag], most: int
) -> list[Tag]:
    """Set the tags (a key held already takes the new value and keeps its place; of a
    key given twice, the last value); all tags after, in the order first added.

    Raises: InvalidInput if the job or run would hold more than `most`; JobNotFound;
        RunNotFound.
    """
    lock_job(conn, job)
    table, owner = _owner(conn, job, run)
    chosen = {tag.key: tag.value for tag in given}
    held = {
        row.key: row.position
        for row in conn.execute(select(table.c.key, table.c.position).where(_owned(table, owner)))
    }
    total = len(held.keys() | chosen.keys())
    if total > most:
        holder = f"training job {run!r}" if run is not None else repr(job.name)
        raise InvalidInput(
            f"{holder} would have {total} tags; a resource may have at most {most}",
            tags=total,
        )
    column = _owner_column(table)
    following = max(held.values(), default=0) + 1
    for key, value in chosen.items():
        if key in held:
            conn.execute(
                update(table).where(_owned(table, owner), table.c.key == key).values(value=value)
            )
        else:
            conn.execute(
                insert(table).values(
                    {column: owner, "key": key, "value": value, "position": following}
                )
            )
            following += 1
    return tags(conn, job, run)


def delete_tags(conn: Connection, job: Job, run: str | None, keys: Sequence[str]) -> None:
    """Remove the tags of those keys; a key not held is no error.

    Raises: JobNotFound; RunNotFound.
    """
    lock_job(conn, job)
    table, owner = _owner(conn, job, run)
    if keys:
        conn.execute(delete(table).where(_owned(table, owner), table.c.key.in_(list(keys))))


def _owner(conn: Connection, job: Job, run: str | None) -> tuple[Table, int]:
    """The table of the tags meant, and the id of the job or run holding them."""
    if run is None:
        return job_tags, job.id
    run_id = conn.execute(
        select(runs.c.id).where(runs.c.job_id == job.id, runs.c.name == run)
    ).scalar()
    if run_id is None:
        raise RunNotFound(job.name, run)
    return run_tags, int(run_id)


def _owner_column(table: Table) -> str:
    return "job_id" if table is job_tags else "run_id"


def _owned(table: Table, owner: int) -> ColumnElement[bool]:
    return table.c[_owner_column(table)] == owner
