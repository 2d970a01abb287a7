from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api import schemas
from app.api.deps import (
    CanManage,
    CanRead,
    JobDep,
    PresetsDep,
    SettingsDep,
    StorageDep,
    TunerDep,
)
from app.api.routes.webhooks import webhook_specs
from app.api.views import completion_public, job_public, run_detail_public
from app.diagnostics import unmatched_hints
from app.errors import NoBestRun
from app.jobs import check_warm_start, job_spec
from app.objective import qualifying_statuses

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.post(
    "", status_code=201, dependencies=[CanManage], responses=schemas.error_responses(409, 422)
)
def create_job(
    body: schemas.JobCreate, storage: StorageDep, presets: PresetsDep, settings: SettingsDep
) -> schemas.JobPublic:
    """Create a tuning job: its objective and metric definitions (or a preset's)."""
    spec = job_spec(
        name=body.name,
        objective_metric=body.objective.metric_name,
        objective_type=body.objective.type.value,
        strategy=body.objective.strategy.value,
        definitions=schemas.definitions_of(body.metric_definitions, presets),
        log_format=body.log_format,
        environment=body.environment,
        search=body.search,
    )
    check_warm_start(storage, spec)
    # Every URL is checked before the job is made: a refused one makes no job.
    hooks = webhook_specs(body.webhooks, settings.webhook_allow_loopback)
    job = storage.create_job(spec)
    if hooks:
        storage.replace_webhooks(job, hooks)
    return job_public(storage.job_overview(job))


@router.get("", dependencies=[CanRead])
def read_jobs(storage: StorageDep) -> schemas.JobsPublic:
    """Every job, newest first, with run counts and the best run so far."""
    return schemas.JobsPublic(jobs=[job_public(overview) for overview in storage.list_jobs()])


@router.get("/{job}", dependencies=[CanRead], responses=schemas.error_responses(404))
def read_job(job: JobDep, storage: StorageDep) -> schemas.JobPublic:
    """A job with its run counts by status and its best run so far."""
    return job_public(storage.job_overview(job))


@router.delete(
    "/{job}", status_code=204, dependencies=[CanManage], responses=schemas.error_responses(404)
)
def delete_job(job: JobDep, storage: StorageDep) -> None:
    """Delete a job and all it holds: its runs, their points and raw logs."""
    storage.delete_job(job)


@router.get("/{job}/best", dependencies=[CanRead], responses=schemas.error_responses(404))
def read_best_run(
    job: JobDep,
    storage: StorageDep,
    include_in_progress: Annotated[bool, Query()] = False,
) -> schemas.RunDetailPublic:
    """The run with the best objective value among completed and stopped runs."""
    best = storage.best_run(job, qualifying_statuses(include_in_progress))
    if best is None:
        counted = (
            "completed, stopped or in-progress" if include_in_progress else "completed or stopped"
        )
        raise NoBestRun(
            f"no {counted} run of job {job.name!r} has a value of its objective metric "
            f"{job.objective_metric!r} yet",
            job=job.name,
        )
    found = storage.get_run(job, best.name)
    return run_detail_public(found, job, unmatched_hints(storage, job, found))


@router.post("/{job}/stop", dependencies=[CanManage], responses=schemas.error_responses(404, 409))
def stop_job(job: JobDep, tuner: TunerDep) -> schemas.JobStatePublic:
    """Stop a job: it starts no more runs, asks its running runs to stop, then is Stopped."""
    state = tuner.stop_job(job)
    return schemas.JobStatePublic(
        name=job.name, status=state.status, completion=completion_public(state)
    )


@router.get("/{job}/median", dependencies=[CanRead], responses=schemas.error_responses(404))
def read_median_curve(job: JobDep, tuner: TunerDep) -> schemas.MedianCurvePublic:
    """The median of the runs' running averages of the objective, by step: what early
    stopping compares a running run's value against."""
    return schemas.MedianCurvePublic(
        metric_name=job.objective_metric,
        points=[
            schemas.MedianPointPublic(step=p.step, median=p.median, runs=p.runs)
            for p in tuner.median_curve(job)
        ],
    )
