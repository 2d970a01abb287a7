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
ingest takes one time per chunk, so a run's stream's lines are stored as one chunk per
second of their times (consecutive lines, in the request's order, of one second), each
at its last line's time, as CloudWatch Logs' PutLogEvents stores its events: a point is
timed within its line's own second, and a batch of 1,000
records written over a few seconds is a few appends, not 1,000. A batch whose lines fall
in more than 100 seconds (a backlog) is stored as 100 chunks of
consecutive seconds, each again at its last line's time. Lines without any time are a
chunk of their own, at their arrival.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord

from app.intake import second_runs
from app.records import STREAM_NAME_RULE, is_stream_name

__all__ = [
    "JOB_ATTRIBUTE",
    "RUN_ATTRIBUTE",
    "STREAM_ATTRIBUTES",
    "Batch",
    "Piece",
    "StreamLines",
    "Unplaced",
    "batch_of",
]

JOB_ATTRIBUTE = "logmetrics.job"
RUN_ATTRIBUTE = "logmetrics.run"
STREAM_ATTRIBUTES = ("logmetrics.stream", "log.iostream")  # the first one set wins
_DEFAULT_STREAM = "stdout"
_SECOND_NS = 1_000_000_000
# Each piece is an append (a parse and a transaction): a backlog of 1,000 records a
# second apart is 100 appends, not 1,000.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Piece:
    """Consecutive lines of a run's stream, stored as one chunk at one time (None: when
    it arrives)."""

    data: bytes
    records: int
    timestamp: datetime | None


@dataclass(frozen=True)
class StreamLines:
    """A request's lines for one run's stream, in the request's order, as chunks."""

    job: str
    run: str
    stream: str
    pieces: tuple[Piece, ...]

    @property
    def records(self) -> int:
        return sum(piece.records for piece in self.pieces)


@dataclass(frozen=True)
class Unplaced:
    """Records that name no run this service could write, and why."""

    records: int
    reason: str


@dataclass(frozen=True)
class Batch:
    """A request's records: the lines of each run's stream they name, and those unplaced."""

    streams: tuple[StreamLines, ...]
    unplaced: tuple[Unplaced, ...]
    records: int


@dataclass(frozen=True)
class _Line:
    text: bytes
    nanos: int  # 0: none given


def batch_of(request: ExportLogsServiceRequest) -> Batch:
    """The lines `request`'s records make, run by run and stream by stream.

    Args:
        request: a decoded ExportLogsServiceRequest.

    Returns: each run's stream's lines, in chunks, with one `Unplaced` per reason a
        record names no run.
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
    return Batch(
        tuple(
            StreamLines(job, run, stream, _pieces(stream_lines))
            for (job, run, stream), stream_lines in lines.items()
        ),
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
            if not value.HasField("string_value") or not is_stream_name(value.string_value):
                return f"{key} is not a stream name ({STREAM_NAME_RULE})"
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


def _pieces(lines: list[_Line]) -> tuple[Piece, ...]:
    """One piece per second of the lines' times, as `second_runs` cuts a batch."""
    return tuple(
        Piece(
            b"".join(line.text for line in lines[run.start : run.stop]),
            len(run),
            _time(lines[run.stop - 1].nanos),
        )
        for run in second_runs([_second(line) for line in lines])
    )


def _second(line: _Line) -> int:
    # Lines without a time (0) are a second of their own: -1 is no line's.
    return line.nanos // _SECOND_NS if line.nanos else -1


def _time(nanos: int) -> datetime | None:
    return _EPOCH + timedelta(microseconds=nanos // 1000) if nanos else None
