"""PutLogEvents' batches as the chunks they are stored as: literal events in, pieces out."""

from __future__ import annotations

import pytest

from app.cloudwatch_logs.batches import Batch, Piece, read_batch
from app.cloudwatch_logs.errors import LogsError
from app.intake import MAX_BATCH_CHUNKS

NOW = 1_796_515_200_000  # 2026-12-06T00:00:00Z
DAY = 86_400_000


def test_one_piece_per_second_at_its_last_events_time():
    batch = read_batch(
        [
            {"timestamp": NOW - 5000, "message": "a"},
            {"timestamp": NOW - 4001, "message": "b\n"},
            {"timestamp": NOW - 4000, "message": "c\r"},
            {"timestamp": NOW - 4000, "message": "d"},
            {"timestamp": NOW + 1, "message": "e"},
        ],
        NOW,
    )
    assert batch == Batch(
        (
            Piece(b"a\nb\n", NOW - 4001),
            Piece(b"c\r\nd\n", NOW - 4000),
            Piece(b"e\n", NOW + 1),
        ),
        None,
        None,
    )
    assert batch.data == b"a\nb\nc\r\nd\ne\n"
    assert batch.rejected_info() == {}


def test_a_backlog_is_at_most_max_pieces_chunks():
    events = [{"timestamp": NOW - DAY + i * 1000, "message": str(i)} for i in range(250)]
    pieces = read_batch(events, NOW).pieces
    assert len(pieces) == MAX_BATCH_CHUNKS - 16  # 250 seconds, 3 in each piece
    assert pieces[0] == Piece(b"0\n1\n2\n", NOW - DAY + 2000)
    assert pieces[-1] == Piece(b"249\n", NOW - DAY + 249_000)


def test_too_old_and_too_new_events_are_rejected_and_the_rest_kept():
    batch = read_batch(
        [
            {"timestamp": NOW - 14 * DAY - 1, "message": "old"},
            {"timestamp": NOW - 1, "message": "kept"},
            {"timestamp": NOW + 7_200_000, "message": "newest kept"},
            {"timestamp": NOW + 7_200_001, "message": "new"},
        ],
        NOW,
    )
    assert batch.rejected_info() == {"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 3}
    assert batch.data == b"kept\nnewest kept\n"
    assert read_batch(batch_of(NOW - 14 * DAY), NOW).data == b"x\n"
    # Kept events may not span over 24 hours.
    with pytest.raises(LogsError) as caught:
        read_batch(batch_of(NOW - DAY - 1, NOW), NOW)
    assert caught.value.message == (
        "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
    )
    assert read_batch(batch_of(NOW - DAY, NOW), NOW).rejected_info() == {}
    everything_old = read_batch(batch_of(0, 1), NOW)
    assert everything_old.pieces == ()
    assert everything_old.rejected_info() == {"tooOldLogEventEndIndex": 2}


def batch_of(*times):
    return [{"timestamp": time, "message": "x"} for time in times]
