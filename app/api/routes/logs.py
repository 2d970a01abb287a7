from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator, BeforeValidator

from app.api import schemas
from app.api.deps import (
    CanIngest,
    CanRead,
    IngestPoolDep,
    IntakeDep,
    JobDep,
    SettingsDep,
    StorageDep,
)
from app.api.limits import read_limited
from app.errors import ChunkTooLarge
from app.protocol.ranges import DECIMAL_TEXT

router = APIRouter(prefix="/v1/jobs/{job}/runs/{run}/logs", tags=["logs"])

_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
_LAST_SECOND = 253402300800  # 10000-01-01T00:00:00Z


def _unix_seconds(value: object) -> object:
    """A number is Unix seconds, whatever its size: pydantic alone reads one above 2e10
    as milliseconds, so 253402300799 (9999-12-31) became 1978. ISO 8601 text passes on.

    Raises: ValueError for seconds outside 1970 to 9999 (FastAPI answers it 422).
    """
    if not isinstance(value, str) or not DECIMAL_TEXT.fullmatch(value.strip()):
        return value
    seconds = float(value)
    if not 0 <= seconds < _LAST_SECOND:
        raise ValueError(
            f"{value.strip()} Unix seconds is outside 1970-01-01 to 9999-12-31 (UTC); "
            "a time in milliseconds goes as seconds with a fraction, or as ISO 8601"
        )
    return datetime.fromtimestamp(seconds, UTC)


def _in_window(timestamp: datetime) -> datetime:
    """The time in UTC (one without a zone is UTC), if within 1970 to 9999.

    Raises: ValueError for a time outside that window: stored, it could not be read.
    """
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    try:
        utc = timestamp.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not _EARLIEST <= utc <= _LATEST:
        raise ValueError(f"{timestamp.isoformat()} is outside 1970-01-01 to 9999-12-31 (UTC)")
    return utc


# A chunk's time: ISO 8601 or Unix seconds, always in UTC, within 1970 to 9999.
ChunkTime = Annotated[datetime, BeforeValidator(_unix_seconds), AfterValidator(_in_window)]

RunName = str
StreamName = Annotated[
    str,
    Query(
        min_length=1,
        max_length=255,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$",
        description="The stream: stdout, stderr, algo-2-stdout, ...",
    ),
]


@router.post(
    "",
    dependencies=[CanIngest],
    # `stop_requested` appears only when the service asks the run to stop.
    response_model_exclude_none=True,
    responses=schemas.error_responses(404, 409, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def create_log_chunk(
    request: Request,
    job: JobDep,
    run: RunName,
    intake: IntakeDep,
    pool: IngestPoolDep,
    settings: SettingsDep,
    stream: StreamName = "stdout",
    offset: Annotated[
        int | None,
        Query(
            ge=0, description="Where the bytes start in the stream; bytes already had are skipped."
        ),
    ] = None,
    timestamp: Annotated[
        ChunkTime | None,
        Query(
            description="The points' time: ISO 8601 (UTC unless it says) or Unix seconds "
            "(always seconds, a fraction allowed), within 1970 to 9999. "
            "Default: when the chunk arrives."
        ),
    ] = None,
) -> schemas.ChunkPublic:
    """Append raw log bytes (any content type, chunked transfer works) to a run's stream."""
    body = await _read_body(request, settings.max_chunk_bytes)
    taken = await pool.run(intake.take, job, run, stream, body, offset, timestamp)
    appended = taken.appended
    return schemas.ChunkPublic(
        stream=appended.stream,
        next_offset=appended.next_offset,
        lines=appended.lines,
        points=appended.points,
        stop_requested=taken.stop_reason,
    )


@router.get(
    "",
    dependencies=[CanRead],
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}},
        **schemas.error_responses(404, 422),
    },
)
def read_log(
    job: JobDep,
    run: RunName,
    storage: StorageDep,
    stream: StreamName = "stdout",
    offset: Annotated[int, Query(ge=0, description="The first byte to send.")] = 0,
    limit: Annotated[int | None, Query(ge=0, description="At most this many bytes.")] = None,
    tail: Annotated[
        int | None, Query(ge=0, description="The last this many bytes (instead of offset).")
    ] = None,
) -> StreamingResponse:
    """A stream's raw bytes as received, whole or a byte range of them."""
    stop = None if limit is None else offset + limit
    found = storage.read_log(job, run, stream, offset, stop, tail)
    headers = {
        "X-Log-Start": str(found.start),
        "X-Log-Stop": str(found.stop),
        "X-Log-Length": str(found.length),
    }
    return StreamingResponse(found.pieces, media_type="application/octet-stream", headers=headers)


async def _read_body(request: Request, limit: int) -> bytes:
    body = await read_limited(request, limit)
    if body is None:
        raise ChunkTooLarge(limit)
    return body
