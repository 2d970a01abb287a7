"""OTLP/HTTP's answers, in the request's encoding: an ExportLogsServiceResponse (with
partial success when records were refused), or a google.rpc.Status for a refusal."""

from __future__ import annotations

import json

from google.protobuf import json_format  # type: ignore[import-untyped]
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsPartialSuccess,
    ExportLogsServiceResponse,
)

from app.otlp.encoding import Encoding

__all__ = ["export_response", "status"]


def export_response(rejected: int, error_message: str, encoding: Encoding) -> bytes:
    """An ExportLogsServiceResponse; partial success is set only when `rejected` or
    `error_message` says something, as OTLP asks."""
    response = ExportLogsServiceResponse()
    if rejected or error_message:
        response.partial_success.CopyFrom(
            ExportLogsPartialSuccess(rejected_log_records=rejected, error_message=error_message)
        )
    if encoding is Encoding.PROTOBUF:
        return bytes(response.SerializeToString())
    text: str = json_format.MessageToJson(response, indent=None)
    return text.encode()


def status(code: int, message: str, encoding: Encoding) -> bytes:
    """A google.rpc.Status with `code` (a google.rpc.Code) and `message`, no details.

    Written by hand: the message is two fields, and its generated class comes with a
    package (googleapis-common-protos) the service does not otherwise need.
    """
    if encoding is Encoding.JSON:
        return json.dumps({"code": code, "message": message}).encode()
    text = message.encode("utf-8", "replace")
    return bytes([0x08]) + _varint(code) + bytes([0x12]) + _varint(len(text)) + text


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)
