from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.api import schemas
from app.api.deps import JobDep, StorageDep
from app.errors import InvalidInput, MetricNotFound

router = APIRouter(prefix="/v1/jobs/{job}/runs/{run}/metrics", tags=["metrics"])


@router.get("/{metric}", responses=schemas.error_responses(404, 422))
def read_metric_series(
    job: JobDep,
    run: Annotated[str, Path(max_length=63)],
    metric: Annotated[str, Path(max_length=255)],
    storage: StorageDep,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
) -> schemas.SeriesPublic:
    """A metric's points in arrival order, a page at a time."""
    if metric not in {name for name, _regex in job.metric_definitions}:
        raise MetricNotFound(job.name, metric)
    after = _cursor_seq(cursor)
    found, last_seq = storage.metric_series(job, run, metric, after, limit)
    return schemas.SeriesPublic(
        metric_name=metric,
        points=[
            schemas.SeriesPoint(
                step=p.step, value=p.value, timestamp=p.timestamp, stream=p.stream, line=p.line
            )
            for p in found
        ],
        next_cursor=str(last_seq) if last_seq is not None else None,
    )


def _cursor_seq(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit():
        raise InvalidInput(f"invalid cursor {cursor!r}: pass a next_cursor as given")
    return int(cursor)
