from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from app.api import schemas
from app.api.deps import (
    CanIngest,
    CanManage,
    CanRead,
    JobDep,
    StorageDep,
    TokensDep,
    TunerDep,
)
from app.api.views import run_detail_public, run_public
from app.auth import hash_token, new_run_token
from app.diagnostics import unmatched_hints
from app.errors import JobEnded, SearchStartsRuns
from app.jobs import run_hyperparameters
from app.objective import best_first_order, qualifying_statuses
from app.records import JobStatus, RunStatus
from app.storage import RunQuery

router = APIRouter(prefix="/v1/jobs/{job}/runs", tags=["runs"])

RunName = str


@router.post(
    "",
    status_code=201,
    dependencies=[CanManage],
    responses=schemas.error_responses(404, 409, 422),
)
def create_run(
    job: JobDep, body: schemas.RunCreate, storage: StorageDep, tokens: TokensDep
) -> schemas.RunCreatedPublic:
    """Start a run of the job with its hyperparameters (and its ingest token, if tokens are on)."""
    if job.search is not None:
        raise SearchStartsRuns(job.name)
    state = storage.job_state(job)
    if state.status is not JobStatus.IN_PROGRESS:
        raise JobEnded(job.name, state.status.value)
    issued: list[str] = []

    def ingest_token(run_id: int) -> str:
        issued.append(new_run_token(run_id))
        return hash_token(issued[-1])

    hyperparameters = run_hyperparameters(job, body.hyperparameters)
    run = storage.create_run(
        job, body.name, hyperparameters, ingest_token if tokens.enabled else None
    )
    return schemas.RunCreatedPublic(
        **run_detail_public(run, job).model_dump(), ingest_token=issued[-1] if issued else None
    )


@router.get("", dependencies=[CanRead], responses=schemas.error_responses(404, 422))
def read_runs(
    job: JobDep,
    storage: StorageDep,
    sort_by: Literal["objective", "created_at", "name"] = "objective",
    order: Literal["asc", "desc"] | None = Query(
        None, description="Default: best first by objective, else ascending."
    ),
    status: Annotated[list[RunStatus] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> schemas.RunsPublic:
    """The leaderboard: by objective the runs `/best` ranks, then the rest; or by name or age."""
    default = best_first_order(job.objective_type) if sort_by == "objective" else "asc"
    query = RunQuery(
        sort_by,
        order or default,
        tuple(status or ()),
        limit,
        cursor,
        ranked=qualifying_statuses(include_in_progress=False),
    )
    page = storage.list_runs(job, query)
    return schemas.RunsPublic(
        runs=[run_public(r, job) for r in page.runs], next_cursor=page.next_cursor
    )


@router.get("/{run}", dependencies=[CanRead], responses=schemas.error_responses(404))
def read_run(job: JobDep, run: RunName, storage: StorageDep) -> schemas.RunDetailPublic:
    """A run: status, hyperparameters, objective, final metrics, streams, diagnostics."""
    found = storage.get_run(job, run)
    return run_detail_public(found, job, unmatched_hints(storage, job, found))


@router.delete(
    "/{run}", status_code=204, dependencies=[CanManage], responses=schemas.error_responses(404)
)
def delete_run(job: JobDep, run: RunName, storage: StorageDep) -> None:
    """Delete a run and all it holds: its points, summaries and raw logs."""
    storage.delete_run(job, run)


@router.post(
    "/{run}/complete", dependencies=[CanIngest], responses=schemas.error_responses(404, 409, 422)
)
def complete_run(
    job: JobDep, run: RunName, body: schemas.RunUpdate, tuner: TunerDep, storage: StorageDep
) -> schemas.RunDetailPublic:
    """End a run: parse each stream's held last line and set its status. A run the
    service asked to stop that did not complete ends Stopped, with the service's reason."""
    ended = tuner.complete_run(
        job,
        run,
        RunStatus(body.status),
        body.failure_reason,
        body.infrastructure_failure,
        body.attempt,
    )
    return run_detail_public(ended, job, unmatched_hints(storage, job, ended))


@router.post(
    "/{run}/heartbeat",
    dependencies=[CanIngest],
    responses=schemas.error_responses(404, 409, 422),
)
def create_heartbeat(
    job: JobDep, run: RunName, body: schemas.HeartbeatCreate, tuner: TunerDep
) -> schemas.HeartbeatPublic:
    """The worker holding the run's lease is alive: the lease goes on; the answer says
    whether the service asks the run to stop. Another worker, or a run no worker
    leased, is refused (409)."""
    found = tuner.heartbeat(job, run, body.worker, body.gpus, body.attempt)
    return schemas.HeartbeatPublic(status=found.status, stop_requested=found.stop_reason)
