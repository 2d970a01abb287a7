"""Helpers for OTLP/HTTP's tests: records built as an exporter builds them."""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource


def value(of: Any) -> AnyValue:
    """An AnyValue of a str, bytes, bool, int, float, list or dict."""
    if isinstance(of, str):
        return AnyValue(string_value=of)
    if isinstance(of, bytes):
        return AnyValue(bytes_value=of)
    if isinstance(of, bool):
        return AnyValue(bool_value=of)
    if isinstance(of, int):
        return AnyValue(int_value=of)
    if isinstance(of, float):
        return AnyValue(double_value=of)
    if isinstance(of, list):
        found = AnyValue()
        found.array_value.values.extend(value(item) for item in of)
        return found
    found = AnyValue()
    found.kvlist_value.values.extend(KeyValue(key=k, value=value(v)) for k, v in of.items())
    return found


def attributes(**pairs: Any) -> list[KeyValue]:
    """`logmetrics_job="gan"` is the attribute logmetrics.job (`_` for `.`)."""
    return [KeyValue(key=key.replace("_", "."), value=value(v)) for key, v in pairs.items()]


def record(body: Any = None, time: int = 0, observed: int = 0, **pairs: Any) -> LogRecord:
    """A log record; `body=None` is a record without a body."""
    made = LogRecord(time_unix_nano=time, observed_time_unix_nano=observed)
    if body is not None:
        made.body.CopyFrom(value(body))
    made.attributes.extend(attributes(**pairs))
    return made


def request(
    *records: LogRecord, scope: dict[str, Any] | None = None, **resource: Any
) -> ExportLogsServiceRequest:
    """One resource (its attributes from `resource`) with one scope of `records`."""
    scoped = ScopeLogs(log_records=records)
    scoped.scope.attributes.extend(attributes(**(scope or {})))
    return ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(resource=Resource(attributes=attributes(**resource)), scope_logs=[scoped])
        ]
    )
