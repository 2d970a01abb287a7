"""Log records to runs' chunks: which run and stream each record is for, its line, its
time, and the chunks `Intake.take` is given. Pure: no storage, no HTTP.

A record names its run by attributes, a record's own overriding its scope's, and those
its resource's: `logmetrics.job` and `logmetrics.run` (strings), and the stream by
`logmetrics.stream`, else `log.iostream` (the Collector's container parser sets it to
stdout or stderr), else stdout.

Each record is one line. A string body is the line's text (UTF-8); a bytes body is the
line's bytes as they are (logs are data); any other body (number, bool, array, map) is
the JSON text of its value, so structured logs reach metric definitions as text; no body
is an empty line. A newline ends the line unless the body already ends with one.

A line's time is the record's time, else its observed time, else its arrival. The
ingest takes one time per chunk, so a chunk holds the consecutive lines of one run and
stream (in the request's order) whose times lie within one second of its first line's,
and has that first line's time: a point is at most a second early, and a batch of
1,000 records written within a few seconds is a few chunks, not 1,000.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord

__all__ = [
    "JOB_ATTRIBUTE",
    "RUN_ATTRIBUTE",
    "STREAM_ATTRIBUTES",
    "Batch",
    "RunChunk",
    "Unplaced",
    "batch_of",
]

JOB_ATTRIBUTE = "logmetrics.job"
RUN_ATTRIBUTE = "logmetrics.run"
STREAM_ATTRIBUTES = ("logmetrics.stream", "log.iostream")  # the first one set wins
_DEFAULT_STREAM = "stdout"
# /v1's rule for a stream's name, so a stream written here can be read there.
_STREAM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,254}")
_CHUNK_SPAN_NS = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class RunChunk:
    """Lines for one run's stream, in order, with one time (None: when it arrives)."""

    job: str
    run: str
    stream: str
    data: bytes
    records: int
    timestamp: datetime | None


@dataclass(frozen=True)
class Unplaced:
    """Records that name no run this service could write, and why."""

    records: int
    reason: str


@dataclass(frozen=True)
class Batch:
    """A request's records: as chunks in the order to take them, and those unplaced.

    A run's stream's chunks follow one another in `chunks` in the request's order.
    """

    chunks: tuple[RunChunk, ...]
    unplaced: tuple[Unplaced, ...]
    records: int


@dataclass(frozen=True)
class _Line:
    text: bytes
    nanos: int  # 0: none given


def batch_of(request: ExportLogsServiceRequest) -> Batch:
    """The chunks `request`'s records make, run by run and stream by stream.

    Args:
        request: a decoded ExportLogsServiceRequest.

    Returns: the chunks, with one `Unplaced` per reason a record names no run.
    """
    lines: dict[tuple[str, str, str], list[_Line]] = {}
    unplaced: dict[str, int] = {}
    records = 0
    for resource_logs in request.resource_logs:
        resource = _attributes(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            scoped = {**resource, **_attributes(scope_logs.scope.attributes)}
            for record in scope_logs.log_records:
                records += 1
                attributes = {**scoped, **_attributes(record.attributes)}
                placed = _place(attributes)
                if isinstance(placed, str):
                    unplaced[placed] = unplaced.get(placed, 0) + 1
                    continue
                nanos = record.time_unix_nano or record.observed_time_unix_nano
                lines.setdefault(placed, []).append(_Line(_line(record), nanos))
    chunks = tuple(
        chunk
        for (job, run, stream), run_lines in lines.items()
        for chunk in _chunks(job, run, stream, run_lines)
    )
    return Batch(
        chunks,
        tuple(Unplaced(count, reason) for reason, count in unplaced.items()),
        records,
    )


def _attributes(pairs: Iterable[KeyValue]) -> dict[str, AnyValue]:
    # Only the attributes read here are kept: a record may carry hundreds of others.
    return {
        pair.key: pair.value
        for pair in pairs
        if pair.key in (JOB_ATTRIBUTE, RUN_ATTRIBUTE, *STREAM_ATTRIBUTES)
    }


def _place(attributes: Mapping[str, AnyValue]) -> tuple[str, str, str] | str:
    """(job, run, stream) the attributes name, or why they name none."""
    named: list[str] = []
    for key in (JOB_ATTRIBUTE, RUN_ATTRIBUTE):
        value = attributes.get(key)
        if value is None or not value.HasField("string_value") or not value.string_value:
            return (
                f"no {key} attribute (a non-empty string) on the record, its scope or its resource"
            )
        named.append(value.string_value)
    stream = _DEFAULT_STREAM
    for key in STREAM_ATTRIBUTES:
        value = attributes.get(key)
        if value is not None:
            if not value.HasField("string_value") or not _STREAM_NAME.fullmatch(value.string_value):
                return (
                    f"{key} is not a stream name (1 to 255 letters, digits and ._/-, "
                    "starting with a letter or digit)"
                )
            stream = value.string_value
            break
    return named[0], named[1], stream


def _line(record: LogRecord) -> bytes:
    body = record.body
    kind = body.WhichOneof("value")
    if kind == "string_value":
        text = body.string_value.encode("utf-8", "surrogatepass")
    elif kind == "bytes_value":
        text = body.bytes_value
    elif kind is None:
        text = b""
    else:
        text = json.dumps(_plain(body), ensure_ascii=False).encode("utf-8", "surrogatepass")
    return text if text.endswith(b"\n") else text + b"\n"


def _plain(value: AnyValue) -> object:
    """An AnyValue as a JSON-able value: bytes as lowercase hex (JSON has no bytes)."""
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_plain(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {pair.key: _plain(pair.value) for pair in value.kvlist_value.values}
    if kind == "bytes_value":
        return value.bytes_value.hex()
    if kind is None:
        return None
    return getattr(value, kind)


def _chunks(job: str, run: str, stream: str, lines: list[_Line]) -> Iterator[RunChunk]:
    start = 0
    for end in range(1, len(lines) + 1):
        if end < len(lines) and _same_chunk(lines[start].nanos, lines[end].nanos):
            continue
        taken = lines[start:end]
        yield RunChunk(
            job,
            run,
            stream,
            b"".join(line.text for line in taken),
            len(taken),
            _time(taken[0].nanos),
        )
        start = end


def _same_chunk(first: int, later: int) -> bool:
    if not first or not later:
        return first == later  # lines without a time go together, at their arrival
    return 0 <= later - first < _CHUNK_SPAN_NS


def _time(nanos: int) -> datetime | None:
    return _EPOCH + timedelta(microseconds=nanos // 1000) if nanos else None
