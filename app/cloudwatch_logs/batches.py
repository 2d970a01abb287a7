"""PutLogEvents' batch rules, and a batch's events as the chunks they are stored as.

The rules are CloudWatch Logs' own: at most 10,000 events (botocore's model checks that),
at most 1,048,576 bytes (each message's UTF-8 bytes plus 26 per event), no event over
1 MB, events in time order, the accepted events spanning 24 hours at most. An event more
than 2 hours ahead of the service's clock, or more than 14 days behind it, is not stored
and is answered in `rejectedLogEventsInfo`; the rest are.

Each event is one line: its message and a `\\n` (none added to a message that already
ends with one). The lines are stored as one chunk per second of the events' times, each
at its last event's time: a line reads back (GetLogEvents), and its points are timed, at
a time of its own second at most 999 ms after its own, and a batch that a shipper
gathered over five seconds is five appends, not one per event. A batch whose events fall
in more than 100 seconds (a backlog) is stored as 100 chunks of
consecutive seconds, each again at its last event's time.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.cloudwatch_logs.errors import invalid_parameter
from app.intake import second_runs

__all__ = [
    "EVENT_OVERHEAD",
    "MAX_BATCH_BYTES",
    "MAX_EVENT_BYTES",
    "Batch",
    "Piece",
    "read_batch",
]

MAX_BATCH_BYTES = 1_048_576
MAX_EVENT_BYTES = 1_048_576
EVENT_OVERHEAD = 26
# Each piece is an append (a parse and a transaction): a batch of a shipper's backlog,
# 10,000 events a second apart, is 100 appends, not 10,000 (seconds, not a tenth of one).
_SECOND = 1000
_TOO_NEW = 2 * 3600 * _SECOND
_TOO_OLD = 14 * 24 * 3600 * _SECOND
_MAX_SPAN = 24 * 3600 * _SECOND


@dataclass(frozen=True)
class Piece:
    """A chunk of the batch: the lines of its events of one second, and the time (in
    milliseconds) of the last of them."""

    data: bytes
    timestamp: int


@dataclass(frozen=True)
class Batch:
    """The chunks of a batch's accepted events, in order, and what was rejected: the
    index of the first event too new, and the index after the last one too old (None
    where no event is)."""

    pieces: tuple[Piece, ...]
    too_new_start: int | None
    too_old_end: int | None

    @property
    def data(self) -> bytes:
        return b"".join(piece.data for piece in self.pieces)

    def rejected_info(self) -> dict[str, int]:
        """`rejectedLogEventsInfo` as CloudWatch Logs answers it (empty: none rejected)."""
        found = {}
        if self.too_new_start is not None:
            found["tooNewLogEventStartIndex"] = self.too_new_start
        if self.too_old_end is not None:
            found["tooOldLogEventEndIndex"] = self.too_old_end
        return found


def read_batch(events: Sequence[dict[str, Any]], now: int) -> Batch:
    """A PutLogEvents batch (`logEvents`, already checked against botocore's model: each
    event a `timestamp` and a non-empty `message`) as the chunks to store.

    Args:
        now: the service's clock, in milliseconds since the epoch.

    Raises: LogsError (InvalidParameterException) for a batch CloudWatch Logs refuses:
        too large, an event too large, out of time order, or spanning over 24 hours.
    """
    lines = [_line(event["message"]) for event in events]
    times = [int(event["timestamp"]) for event in events]
    total = 0
    for event in events:
        size = len(_bytes(event["message"])) + EVENT_OVERHEAD
        if size > MAX_EVENT_BYTES:
            raise invalid_parameter(
                f"Log event too large: {size} bytes exceeds limit of {MAX_EVENT_BYTES}"
            )
        total += size
    if total > MAX_BATCH_BYTES:
        raise invalid_parameter(
            f"Upload too large: {total} bytes exceeds limit of {MAX_BATCH_BYTES}"
        )
    if any(later < earlier for earlier, later in itertools.pairwise(times)):
        raise invalid_parameter(
            "Log events in a single PutLogEvents request must be in chronological order."
        )
    # In time order, the events too old are the first ones and those too new the last.
    first = next((i for i, time in enumerate(times) if time >= now - _TOO_OLD), len(times))
    after = next((i for i, time in enumerate(times) if time > now + _TOO_NEW), len(times))
    after = max(after, first)
    if first < after and times[after - 1] - times[first] > _MAX_SPAN:
        raise invalid_parameter(
            "The batch of log events in a single PutLogEvents request cannot span more "
            "than 24 hours."
        )
    return Batch(
        _pieces(lines[first:after], times[first:after]),
        after if after < len(times) else None,
        first if first > 0 else None,
    )


def _line(message: str) -> bytes:
    data = _bytes(message)
    # A message a shipper kept its newline on is still one line, not a line and an
    # empty one.
    return data if data.endswith(b"\n") else data + b"\n"


def _pieces(lines: Sequence[bytes], times: Sequence[int]) -> tuple[Piece, ...]:
    """One piece per second of the events' times, as `second_runs` cuts a batch."""
    return tuple(
        Piece(b"".join(lines[run.start : run.stop]), times[run.stop - 1])
        for run in second_runs([time // _SECOND for time in times])
    )


def _bytes(message: str) -> bytes:
    """A message's UTF-8 bytes; a lone surrogate (JSON's `\\ud800`, which no UTF-8 holds)
    as the three bytes UTF-8's scheme gives it, so a log keeps it rather than refuse it."""
    return message.encode("utf-8", "surrogatepass")
