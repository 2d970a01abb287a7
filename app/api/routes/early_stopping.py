"""Why a run was stopped early: its objective against the median the rule compared it with."""

from __future__ import annotations

from fastapi import APIRouter

from app.analysis.early_stopping import explain_run
from app.api.deps import CanRead, JobDep, StorageDep
from app.api.schemas.common import error_responses
from app.api.schemas.early_stopping import EarlyStoppingPublic

router = APIRouter(prefix="/v1/jobs/{job}/runs/{run}", tags=["runs"], dependencies=[CanRead])


@router.get("/early-stopping", responses=error_responses(404))
def read_early_stopping(job: JobDep, run: str, storage: StorageDep) -> EarlyStoppingPublic:
    """Why the run was (or was not) stopped early: its objective by step against the median."""
    found = explain_run(job, storage.get_run(job, run), storage.objective_curves(job, run))
    return EarlyStoppingPublic.model_validate(found, from_attributes=True)
