from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query

from app.api import schemas
from app.api.deps import CanRead, JobDep, StorageDep
from app.errors import InvalidInput, MetricNotFound

router = APIRouter(prefix="/v1/jobs/{job}", tags=["metrics"], dependencies=[CanRead])


@router.get("/runs/{run}/metrics/{metric:path}", responses=schemas.error_responses(404, 422))
def read_metric_series(
    job: JobDep,
    run: str,
    metric: str,
    storage: StorageDep,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
) -> schemas.SeriesPublic:
    """A metric's points in arrival order, a page at a time."""
    if metric not in job.metric_names:
        raise MetricNotFound(job.name, metric)
    after = _cursor_seq(cursor)
    found, last_seq = storage.metric_series(job, run, metric, after, limit)
    return schemas.SeriesPublic(
        metric_name=metric,
        points=[
            schemas.SeriesPointPublic(
                step=p.step,
                value=p.value,
                timestamp=p.timestamp,
                stream=p.stream,
                line=p.line,
                offset=p.offset,
            )
            for p in found
        ],
        next_cursor=str(last_seq) if last_seq is not None else None,
    )


@router.get("/series/{metric:path}", responses=schemas.error_responses(404, 422))
def read_job_series(
    job: JobDep,
    metric: str,
    storage: StorageDep,
    max_points: Annotated[int, Query(ge=2, le=10_000)] = 500,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> schemas.JobSeriesPublic:
    """A metric's points for every run of the job, thinned for an overview chart."""
    if metric not in job.metric_names:
        raise MetricNotFound(job.name, metric)
    return schemas.JobSeriesPublic(
        metric_name=metric,
        runs=[
            schemas.RunSeriesPublic(
                run=s.run,
                status=s.status,
                objective_value=s.objective_value,
                count=s.count,
                points=list(s.points),
            )
            for s in storage.job_series(job, metric, max_points, limit)
        ],
    )


def _cursor_seq(cursor: str | None) -> int:
    # ASCII digits only (str.isdigit() also takes '²'), and within a 64-bit column.
    if cursor is None:
        return 0
    if re.fullmatch(r"[0-9]{1,18}", cursor) is None:
        raise InvalidInput(f"invalid cursor {cursor!r}: pass a next_cursor as given")
    return int(cursor)
