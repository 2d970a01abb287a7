"""An OTLP/HTTP logs request's body to OpenTelemetry's own `ExportLogsServiceRequest`.

Protobuf is parsed by the generated message; OTLP/JSON by protobuf's JSON mapping, after
the one rule where OTLP/JSON departs from it: trace and span ids are hex, not base64.
Camel-case and proto field names, enums as integers or names, and 64-bit integers as
strings or numbers are all accepted, as the mapping does; unknown fields are ignored, as
OTLP asks of a receiver.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from google.protobuf import json_format  # type: ignore[import-untyped]
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from app.otlp.encoding import Encoding
from app.otlp.errors import (
    MalformedRequest,
    RequestTooLarge,
    TooManyMessages,
    UnsupportedEncoding,
)

__all__ = ["MAX_MESSAGES", "decode_request", "inflate"]

# AnyValue nests (arrays, key-value lists): deeper than this is refused, not recursed.
_MAX_DEPTH = 64
# A request's messages (records, attributes, values), each a few bytes on the wire and a
# hundred or more decoded: the Collector's default batch of 8,192 records with a few
# attributes each holds under 100,000.
MAX_MESSAGES = 250_000
_IDS = ("traceId", "spanId", "trace_id", "span_id")


def inflate(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """The body as sent before compression.

    Args:
        content_encoding: the Content-Encoding header: none, `identity` or `gzip`.
        limit: most bytes the body may inflate to; inflating stops there, so a small
            body that would inflate to gigabytes costs `limit` bytes of memory at most.

    Raises: UnsupportedEncoding (another encoding), MalformedRequest (not gzip),
        RequestTooLarge.
    """
    coding = (content_encoding or "identity").strip().lower()
    if coding == "identity":
        return body
    if coding != "gzip":
        raise UnsupportedEncoding(
            f"Content-Encoding {coding[:100]!r} is not supported: send gzip, or nothing"
        )
    out = bytearray()
    rest = body
    # A gzip body may be several members one after another (RFC 1952): each is inflated.
    while True:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(rest, limit + 1 - len(out))
        except zlib.error as exc:
            raise MalformedRequest(f"the body is not gzip data: {exc}") from exc
        if len(out) > limit:
            raise RequestTooLarge(limit)
        if not inflater.eof:
            if inflater.unconsumed_tail:  # stopped at the limit with input left
                raise RequestTooLarge(limit)
            raise MalformedRequest("the gzip data ends before its end")
        rest = inflater.unused_data
        if not rest:
            return bytes(out)


def decode_request(body: bytes, encoding: Encoding) -> ExportLogsServiceRequest:
    """The request `body` holds, in `encoding`.

    Raises: MalformedRequest, saying where the body is not an ExportLogsServiceRequest.
    """
    request = ExportLogsServiceRequest()
    if encoding is Encoding.PROTOBUF:
        try:
            request.ParseFromString(body)
        except DecodeError as exc:
            raise MalformedRequest(f"the body is not an ExportLogsServiceRequest: {exc}") from exc
        # Counted by the parsed message's lengths (C's work), before Python's per record.
        if _messages(request) > MAX_MESSAGES:
            raise TooManyMessages(MAX_MESSAGES)
        return request
    if body.count(b"{") > MAX_MESSAGES:
        # Every message of OTLP/JSON is an object: refused before json.loads makes them.
        raise TooManyMessages(MAX_MESSAGES)
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise MalformedRequest(f"the body is not JSON text: {exc}") from exc
    if not isinstance(document, dict):
        raise MalformedRequest("an OTLP/JSON body is an object (ExportLogsServiceRequest)")
    _check_depth(document, 0)
    try:
        json_format.ParseDict(_hex_ids_dropped(document), request, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, AttributeError) as exc:
        raise MalformedRequest(f"the body is not OTLP/JSON: {exc}") from exc
    return request


def _messages(request: ExportLogsServiceRequest) -> int:
    """The request's resource, scope and record messages and their attributes (values
    nested in arrays and lists are bounded by the body's size and depth)."""
    found = 0
    for resource_logs in request.resource_logs:
        found += 1 + len(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            found += 1 + len(scope_logs.scope.attributes) + len(scope_logs.log_records)
            if found > MAX_MESSAGES:
                return found
            found += sum(len(record.attributes) for record in scope_logs.log_records)
    return found


def _check_depth(value: Any, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise MalformedRequest(f"the body nests deeper than {_MAX_DEPTH} levels")
    if isinstance(value, dict):
        for item in value.values():
            _check_depth(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_depth(item, depth + 1)


def _hex_ids_dropped(document: dict[str, Any]) -> dict[str, Any]:
    """`document` without log records' trace and span ids: OTLP/JSON writes them in hex,
    which protobuf's mapping would read as base64 and refuse, and no run needs them."""
    for resource_logs in _objects(document.get("resourceLogs", document.get("resource_logs"))):
        for scope_logs in _objects(resource_logs.get("scopeLogs", resource_logs.get("scope_logs"))):
            records = scope_logs.get("logRecords", scope_logs.get("log_records"))
            for record in _objects(records):
                for key in _IDS:
                    record.pop(key, None)
    return document


def _objects(value: Any) -> list[dict[str, Any]]:
    # A wrong shape is left for the mapping to refuse, with its own message.
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
