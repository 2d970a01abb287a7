"""A job's search at a glance, as JSON: its history, parallel coordinates and the importance
of its hyperparameters (what the job page draws, for notebooks and scripts too)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.analysis.history import history
from app.analysis.importance import Evaluator, importance
from app.analysis.parallel import parallel_coordinates
from app.api.deps import CanRead, JobDep, StorageDep
from app.api.schemas.analysis import (
    HistoryPublic,
    ImportancePublic,
    ImportanceRowPublic,
    ParallelCoordinatesPublic,
)
from app.api.schemas.common import error_responses
from app.objective import qualifying_statuses
from app.records import Job, Run
from app.storage import Storage
from app.storage.records import RunQuery
from app.tuning.tuner import search_of

router = APIRouter(prefix="/v1/jobs/{job}", tags=["analysis"], dependencies=[CanRead])

# One page of the leaderboard read: the most `list_runs` gives at once.
_PAGE = 1000


def _runs_with_metrics(storage: Storage, job: Job) -> list[Run]:
    """Every run of the job with its metric summaries, oldest first."""
    runs: list[Run] = []
    cursor: str | None = None
    while True:
        page = storage.list_runs(job, RunQuery("created_at", "asc", limit=_PAGE, cursor=cursor))
        runs.extend(page.runs)
        cursor = page.next_cursor
        if cursor is None:
            return runs


@router.get("/history", responses=error_responses(404))
def read_history(job: JobDep, storage: StorageDep) -> HistoryPublic:
    """Each run's objective value with the best so far, by run index and by time."""
    best = storage.best_run(job, qualifying_statuses(include_in_progress=False))
    found = history(job, storage.job_runs(job), best.name if best else None)
    return HistoryPublic.model_validate(found, from_attributes=True)


@router.get("/parallel-coordinates", responses=error_responses(404, 422))
def read_parallel_coordinates(
    job: JobDep,
    storage: StorageDep,
    dimension: Annotated[
        list[str] | None,
        Query(
            description="An axis, repeated: hyperparameter:<name> or metric:<name> (the "
            "objective's axis is always last). Default: the tuned hyperparameters (at "
            "most 12), then the objective."
        ),
    ] = None,
) -> ParallelCoordinatesPublic:
    """The runs over chosen hyperparameters and metrics, for parallel coordinates."""
    objective = f"metric:{job.objective_metric}"
    # A run holds its objective value; other metrics' values need every run's summaries,
    # which cost most of this read at 1,000 runs, so they are read only when asked for.
    summaries = any(k.startswith("metric:") and k != objective for k in dimension or ())
    runs = _runs_with_metrics(storage, job) if summaries else storage.job_runs(job)
    found = parallel_coordinates(
        job, search_of(job), runs, dimension or None, storage.metrics_with_points(job)
    )
    return ParallelCoordinatesPublic.model_validate(found, from_attributes=True)


@router.get("/importance", responses=error_responses(404, 422))
def read_importance(
    job: JobDep,
    storage: StorageDep,
    evaluator: Annotated[
        Evaluator, Query(description="fanova (default) or ped-anova: Optuna's evaluators.")
    ] = "fanova",
) -> ImportancePublic:
    """Which hyperparameters matter for the objective, from the job's finished runs."""
    found = importance(job, search_of(job), storage.job_runs(job), evaluator)
    return ImportancePublic(
        metric_name=found.metric_name,
        evaluator=found.evaluator,
        runs=found.runs,
        minimum_runs=found.minimum_runs,
        warning=found.warning,
        importances=[ImportanceRowPublic(name=n, importance=v) for n, v in found.importances],
    )
