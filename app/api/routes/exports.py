from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from app.api import schemas
from app.api.deps import CanRead, JobDep, StorageDep
from app.exports import POINT_COLUMNS, encode, point_rows, ranked_runs, run_columns, run_rows

router = APIRouter(prefix="/v1/jobs/{job}/export", tags=["exports"], dependencies=[CanRead])

_MEDIA = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
FormatQuery = Annotated[Literal["csv", "jsonl"], Query(description="csv or jsonl")]


@router.get(
    "/runs",
    response_class=StreamingResponse,
    responses={
        200: {"content": {m: {} for m in _MEDIA.values()}},
        **schemas.error_responses(404, 422),
    },
)
def export_runs(job: JobDep, storage: StorageDep, format: FormatQuery = "csv") -> StreamingResponse:
    """The leaderboard as a table: ranked runs best first, then the others; each run's
    status, objective, hyperparameters and final metrics."""
    runs = ranked_runs(storage, job)
    body = encode(run_rows(job, runs), run_columns(job, runs), format)
    return _download(body, format, f"{job.name}-runs")


@router.get(
    "/points",
    response_class=StreamingResponse,
    responses={
        200: {"content": {m: {} for m in _MEDIA.values()}},
        **schemas.error_responses(404, 422),
    },
)
def export_points(
    job: JobDep, storage: StorageDep, format: FormatQuery = "csv"
) -> StreamingResponse:
    """Every point of every run, streamed: run, metric, step, value, time, stream, line."""
    body = encode(point_rows(storage, job), POINT_COLUMNS, format)
    return _download(body, format, f"{job.name}-points")


def _download(body: object, form: str, stem: str) -> StreamingResponse:
    return StreamingResponse(
        body,  # type: ignore[arg-type]
        media_type=_MEDIA[form],
        headers={"Content-Disposition": f'attachment; filename="{stem}.{form}"'},
    )
