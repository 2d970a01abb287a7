"""Re-parse: a job's stored logs parsed again with new definitions, and its history."""

from __future__ import annotations

from fastapi import APIRouter

from app.api import schemas
from app.api.deps import CanManage, CanRead, JobDep, PresetsDep, ReparserDep, StorageDep
from app.api.views import definitions_public, reparse_public
from app.reparse import start_reparse

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.post(
    "/{job}/reparse",
    status_code=202,
    dependencies=[CanManage],
    responses=schemas.error_responses(404, 422),
)
def create_reparse(
    job: JobDep,
    body: schemas.ReparseCreate,
    storage: StorageDep,
    presets: PresetsDep,
    reparser: ReparserDep,
) -> schemas.ReparsePublic:
    """Give the job new definitions (and objective) and parse its stored logs again."""
    objective = body.objective
    job = start_reparse(
        storage,
        job,
        schemas.definitions_of(body.metric_definitions, presets),
        objective_metric=objective.metric_name if objective else None,
        objective_type=objective.type.value if objective else None,
        strategy=objective.strategy.value if objective else None,
    )
    reparser.wake()
    return reparse_public(job, storage.reparse_progress(job))


@router.get("/{job}/reparse", dependencies=[CanRead], responses=schemas.error_responses(404))
def read_reparse(job: JobDep, storage: StorageDep) -> schemas.ReparsePublic:
    """How far the job's latest re-parse has come."""
    return reparse_public(job, storage.reparse_progress(job))


@router.get("/{job}/definitions", dependencies=[CanRead], responses=schemas.error_responses(404))
def read_definitions(job: JobDep, storage: StorageDep) -> schemas.DefinitionsHistoryPublic:
    """Every version of the job's objective and metric definitions, the current one last."""
    return schemas.DefinitionsHistoryPublic(
        versions=[definitions_public(version) for version in storage.definitions_history(job)]
    )
