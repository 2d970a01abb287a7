"""OTLP/HTTP logs: `POST /v1/logs`, as OpenTelemetry's exporters and Collector send them.

A face of its own: a request refused for its body is answered with a google.rpc.Status
in the request's encoding (OTLP's error body), through the one table below. Access is
/v1's: no token or a wrong one is 401, a read token 403, answered as /v1 answers them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from app.api.deps import IngestPoolDep, IntakeDep, PrincipalDep, SettingsDep, StorageDep
from app.api.limits import read_limited
from app.auth import Action, Role
from app.otlp.answers import export_response, status
from app.otlp.decoding import decode_request, inflate
from app.otlp.delivery import deliver
from app.otlp.encoding import Encoding, encoding_of
from app.otlp.errors import (
    MalformedRequest,
    OtlpRefusal,
    RequestTooLarge,
    Unavailable,
    UnsupportedEncoding,
)
from app.otlp.records import Batch, batch_of

__all__ = ["router"]

router = APIRouter(tags=["otlp"])

# The one place this face's refusals become an HTTP status and a google.rpc.Code.
_STATUS_BY_REFUSAL: dict[type[OtlpRefusal], tuple[int, int]] = {
    MalformedRequest: (400, 3),  # INVALID_ARGUMENT: OTLP says not to retry
    RequestTooLarge: (413, 8),  # RESOURCE_EXHAUSTED
    UnsupportedEncoding: (415, 12),  # UNIMPLEMENTED
    Unavailable: (503, 14),  # UNAVAILABLE: OTLP exporters retry it
}

_BINARY = {"schema": {"type": "string", "format": "binary"}}
_STATUS_JSON = {
    "schema": {
        "type": "object",
        "description": "google.rpc.Status",
        "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
    }
}
_REFUSAL = {
    "content": {"application/x-protobuf": _BINARY, "application/json": _STATUS_JSON},
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "ExportLogsServiceResponse; partialSuccess counts the records refused "
        "(no job or run attribute, an unknown job, a run that ended, ...) and says why",
        "content": {
            "application/x-protobuf": _BINARY,
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "partialSuccess": {
                            "type": "object",
                            "properties": {
                                "rejectedLogRecords": {"type": ["string", "integer"]},
                                "errorMessage": {"type": "string"},
                            },
                        }
                    },
                }
            },
        },
    },
    400: {"description": "Not an ExportLogsServiceRequest (do not retry)", **_REFUSAL},
    413: {
        "description": "Above LOGMETRICS_MAX_OTLP_BYTES, compressed or inflated, or more "
        "messages than one request may hold",
        **_REFUSAL,
    },
    415: {"description": "Not protobuf or JSON, or not gzip", **_REFUSAL},
    503: {
        "description": "A run's stream kept moving under other writes: send it again",
        **_REFUSAL,
    },
}


@router.post(
    "/v1/logs",
    response_class=Response,
    responses=_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": False,
            "description": "OTLP/HTTP's ExportLogsServiceRequest: protobuf (Content-Type: "
            "application/x-protobuf) or OTLP/JSON (application/json), either of them "
            "gzipped with Content-Encoding: gzip. The answer is in the request's encoding.",
            "content": {
                "application/x-protobuf": _BINARY,
                "application/json": {
                    "schema": {"type": "object", "description": "ExportLogsServiceRequest"}
                },
            },
        }
    },
)
async def create_log_records(
    request: Request,
    storage: StorageDep,
    intake: IntakeDep,
    principal: PrincipalDep,
    pool: IngestPoolDep,
    settings: SettingsDep,
) -> Response:
    """Take OTLP/HTTP log records (protobuf or JSON, gzip or not) into the runs they name."""
    if principal is not None and principal.role is not Role.RUN:
        # A run token's records for other runs are refused one by one, in the answer.
        principal.authorize(Action.INGEST)
    headers = request.headers
    try:
        encoding = encoding_of(headers.get("content-type"))
    except UnsupportedEncoding as exc:
        return _refusal(exc, Encoding.JSON)
    try:
        body = await _read_body(request, settings.max_otlp_bytes)
        batch = await pool.run(
            _batch, body, encoding, headers.get("content-encoding"), settings.max_otlp_bytes
        )
    except OtlpRefusal as exc:
        return _refusal(exc, encoding)
    try:
        delivered = await pool.run(deliver, batch, principal, storage, intake)
    except Unavailable as exc:
        return _refusal(exc, encoding)
    return Response(
        export_response(delivered.rejected, delivered.error_message, encoding),
        media_type=encoding.value,
    )


async def _read_body(request: Request, limit: int) -> bytes:
    body = await read_limited(request, limit)
    if body is None:
        raise RequestTooLarge(limit)
    return body


def _batch(body: bytes, encoding: Encoding, content_encoding: str | None, limit: int) -> Batch:
    return batch_of(decode_request(inflate(body, content_encoding, limit), encoding))


def _refusal(exc: OtlpRefusal, encoding: Encoding) -> Response:
    http_status, code = next(
        _STATUS_BY_REFUSAL[c] for c in type(exc).__mro__ if c in _STATUS_BY_REFUSAL
    )
    return Response(
        status(code, exc.message, encoding), status_code=http_status, media_type=encoding.value
    )
