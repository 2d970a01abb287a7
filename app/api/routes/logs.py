from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import AfterValidator, BeforeValidator, TypeAdapter, ValidationError

from app.api import schemas
from app.api.deps import (
    CanIngest,
    CanRead,
    IngestPoolDep,
    IntakeDep,
    JobDep,
    SettingsDep,
    StorageDep,
    get_principal,
    require_ingest,
)
from app.api.fast_route import FastPathRoute
from app.api.limits import read_limited
from app.errors import ChunkTooLarge
from app.intake import Intake, Taken
from app.protocol.ranges import DECIMAL_TEXT
from app.records import STREAM_NAME_MAX_LENGTH, STREAM_NAME_PATTERN, Job, is_stream_name
from app.storage import Storage
from app.workpool import WorkPool

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
        max_length=STREAM_NAME_MAX_LENGTH,
        pattern=STREAM_NAME_PATTERN,
        description="The stream: stdout, stderr, algo-2-stdout, ...",
    ),
]


async def _take_plain_chunk(request: Request) -> Response | None:
    """`create_log_chunk` for a chunk whose query holds at most `stream`, `offset` and
    `timestamp`, once each and each valid: the same checks in the same order (the
    caller's token, the job, the run's token; then the body's size, then `Intake.take`),
    the same errors, and the same answer, without FastAPI's dependency machinery. None
    for any other request, unread, so that FastAPI answers it (a 422, say) as before.
    """
    plain = _plain_query(request)
    if plain is None:
        return None
    stream, offset, timestamp = plain
    state = request.app.state
    storage: Storage = state.storage
    intake: Intake = state.intake
    pool: WorkPool = state.ingest_pool
    limit: int = state.settings.max_chunk_bytes
    job_name: str = request.path_params["job"]
    run: str = request.path_params["run"]
    principal = await get_principal(request, storage)
    if principal is None:
        # No tokens: nothing to check before the body, so the job is looked up on the
        # pool thread that takes the chunk (one hop, not two). Its 404 still comes
        # before a 413, as FastAPI resolves the job before the endpoint reads the body.
        body = await read_limited(request, limit)
        taken = await pool.run(
            _take, storage, intake, job_name, run, stream, body, limit, offset, timestamp
        )
    else:
        job = await pool.run(storage.get_job, job_name)
        await require_ingest(principal, job, run, storage)
        body = await _read_body(request, limit)
        taken = await pool.run(intake.take, job, run, stream, body, offset, timestamp)
    return Response(_answer(taken), media_type="application/json")


_PLAIN_PARAMETERS = frozenset({"stream", "offset", "timestamp"})
_OFFSET_DIGITS = 18  # int() of more is still exact, but FastAPI's limits are its own
_CHUNK_TIME: TypeAdapter[datetime] = TypeAdapter(ChunkTime)


def _plain_query(request: Request) -> tuple[str, int | None, datetime | None] | None:
    """The chunk's stream, offset and time if its query is one `create_log_chunk`
    takes as it stands; None for anything else (other or repeated parameters, a value
    FastAPI would refuse or convert)."""
    query = request.query_params
    if not query.keys() <= _PLAIN_PARAMETERS or len(query) != len(query.multi_items()):
        return None
    stream = query.get("stream", "stdout")
    if not is_stream_name(stream):
        return None
    offset_text = query.get("offset")
    offset = None
    if offset_text is not None:
        if not (offset_text.isascii() and offset_text.isdigit()):
            return None
        if len(offset_text) > _OFFSET_DIGITS:
            return None
        offset = int(offset_text)
    timestamp_text = query.get("timestamp")
    timestamp = None
    if timestamp_text is not None:
        try:
            timestamp = _CHUNK_TIME.validate_python(timestamp_text)
        except ValidationError:
            return None
    return stream, offset, timestamp


def _take(
    storage: Storage,
    intake: Intake,
    job_name: str,
    run: str,
    stream: str,
    body: bytes | None,
    limit: int,
    offset: int | None,
    timestamp: datetime | None,
) -> Taken:
    """On the ingest pool: the job, then the chunk (None: it was too large)."""
    job: Job = storage.get_job(job_name)
    if body is None:
        raise ChunkTooLarge(limit)
    return intake.take(job, run, stream, body, offset, timestamp)


def _answer(taken: Taken) -> bytes:
    """`ChunkPublic`'s JSON, as FastAPI writes it (compact, `stop_requested` only when
    set), without building and validating the model."""
    appended = taken.appended
    answer: dict[str, object] = {
        "stream": appended.stream,
        "next_offset": appended.next_offset,
        "lines": appended.lines,
        "points": appended.points,
    }
    if taken.stop_reason is not None:
        answer["stop_requested"] = taken.stop_reason
    return json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()


class _ChunkRoute(FastPathRoute):
    fast_path = _take_plain_chunk


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


router.add_api_route(
    "",
    create_log_chunk,
    methods=["POST"],
    route_class_override=_ChunkRoute,
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
