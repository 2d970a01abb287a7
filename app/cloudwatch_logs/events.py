"""A stream's events: one per line of its stored log, read from the run's chunks.

A line's time (`timestamp` and `ingestionTime`) is its arrival: the time of the chunk
that brought its line end, in milliseconds. A line is an event once it has ended: the
partial line a live run holds is not one yet (it would change under a reader), and an
ended run's last, unended line is. Lines end as the parser ends them (`LineFramer` of the
job's log format); a `\\r` at the very end of a live text stream waits for the next chunk,
which may complete it as `\\r\\n`.

Each event has a position, its stream (`source`) and the offset of its first byte, which
tokens carry: a live stream only grows, so a position read once stays where it was.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from app.cloudwatch_logs.batches import EVENT_OVERHEAD, MAX_EVENT_BYTES
from app.cloudwatch_logs.streams import LogStream
from app.parsing import LogFormat
from app.parsing.framing import LineFramer
from app.parsing.lines import render_lines
from app.storage import Storage
from app.storage.records import StoredChunk

__all__ = ["LogEvent", "StreamLog", "milliseconds", "read_events"]

# CloudWatch Logs' largest event (1 MB, as PutLogEvents takes), less its 26 bytes of
# overhead: an event written reads back whole.
MAX_MESSAGE_BYTES = MAX_EVENT_BYTES - EVENT_OVERHEAD
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class LogEvent(NamedTuple):
    """One line: where it starts (`source`, `offset`) and where the next one does (`next`),
    its arrival in milliseconds, and its text."""

    timestamp: int
    source: str
    offset: int
    next: int
    message: str


@dataclass(frozen=True)
class StreamLog:
    """A stream's events in time order (ties by source, then offset), and where each
    source's next line will start (`ends`)."""

    stream: LogStream
    events: Sequence[LogEvent]
    ends: Mapping[str, int]


def milliseconds(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def read_events(storage: Storage, stream: LogStream) -> StreamLog:
    """The stream's events as stored now. Raises: RunNotFound (deleted since listed)."""
    log = storage.read_run_log(stream.job, stream.run.name)
    ended = log.run.ended_at is not None
    framer = LineFramer(stream.job.log_format)
    events: list[LogEvent] = []
    ends: dict[str, int] = {}
    for source in stream.sources:
        chunks = [chunk for chunk in log.chunks if chunk.stream == source]
        found, ends[source] = _lines(chunks, framer, ended, stream.cloudwatch, source)
        events += found
    events.sort()
    return StreamLog(stream, events, ends)


def _lines(
    chunks: list[StoredChunk], framer: LineFramer, ended: bool, cloudwatch: bool, source: str
) -> tuple[list[LogEvent], int]:
    """One source's events, and where its next line starts."""
    chunks.sort(key=lambda chunk: chunk.offset)
    if not chunks:
        return [], 0
    base = chunks[0].offset
    data = b"".join(chunk.data for chunk in chunks)
    # Where each chunk ends in `data`, and its time: a line takes its end's chunk's time.
    chunk_ends = []
    total = 0
    for chunk in chunks:
        total += len(chunk.data)
        chunk_ends.append(total)
    times = [milliseconds(chunk.timestamp) for chunk in chunks]

    found = []
    position = 0
    while (end := framer.first_end(data, position)) >= 0:
        if not ended and framer.cr_ends and end == len(data) - 1 and data[end:] == b"\r":
            break  # a `\r\n` may be arriving in two chunks
        after = framer.after_end(data, end)
        time = times[bisect.bisect_right(chunk_ends, end)]
        found.append(
            _event(time, source, base + position, base + after, data[position:end], cloudwatch)
        )
        position = after
    if ended and position < len(data):
        found.append(
            _event(
                times[-1], source, base + position, base + len(data), data[position:], cloudwatch
            )
        )
        position = len(data)
    return found, base + position


def _event(
    time: int, source: str, offset: int, after: int, raw: bytes, cloudwatch: bool
) -> LogEvent:
    # A SageMaker training job's line as CloudWatch holds it (the parser's own rendering);
    # any other line as it was sent, undecodable bytes as U+FFFD.
    if cloudwatch:
        message = render_lines([raw], LogFormat.CLOUDWATCH, MAX_MESSAGE_BYTES)
    else:
        message = raw[:MAX_MESSAGE_BYTES].decode("utf-8", "replace")
    return LogEvent(time, source, offset, after, message)
