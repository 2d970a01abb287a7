"""Log records to runs' chunks (app.otlp.records): from literal records to chunks."""

from __future__ import annotations

from datetime import UTC, datetime

from app.intake import MAX_BATCH_CHUNKS
from app.otlp.records import Batch, Piece, StreamLines, Unplaced, batch_of
from tests.otlp.messages import record, request

T0 = 1_765_000_000_000_000_000  # 2025-12-06T05:46:40Z in nanoseconds
AT_T0 = datetime(2025, 12, 6, 5, 46, 40, tzinfo=UTC)
SECOND = 10**9


def lines(batch: Batch, by: str) -> list[tuple[str, bytes]]:
    """Each run's stream's lines, by its `run` or its `stream`."""
    return [
        (getattr(stream, by), b"".join(piece.data for piece in stream.pieces))
        for stream in batch.streams
    ]


def pieces(batch: Batch) -> list[tuple[bytes, int, datetime | None]]:
    """The chunks of the batch's one stream."""
    (stream,) = batch.streams
    return [(piece.data, piece.records, piece.timestamp) for piece in stream.pieces]


def test_resource_attributes_name_the_run_and_a_record_line_is_its_body():
    batch = batch_of(
        request(
            record("loss=0.5", T0),
            record("loss=0.4", T0),
            logmetrics_job="gan",
            logmetrics_run="r1",
        )
    )

    assert batch == Batch(
        streams=(StreamLines("gan", "r1", "stdout", (Piece(b"loss=0.5\nloss=0.4\n", 2, AT_T0),)),),
        unplaced=(),
        records=2,
    )


def test_a_records_attributes_override_its_scopes_which_override_its_resources():
    batch = batch_of(
        request(
            record("a", T0),
            record("b", T0, logmetrics_run="r3"),
            scope={"logmetrics_run": "r2"},
            logmetrics_job="gan",
            logmetrics_run="r1",
        )
    )

    assert lines(batch, "run") == [("r2", b"a\n"), ("r3", b"b\n")]


def test_the_stream_is_logmetrics_stream_else_log_iostream_else_stdout():
    batch = batch_of(
        request(
            record("a", T0),
            record("b", T0, log_iostream="stderr"),
            record("c", T0, log_iostream="stderr", logmetrics_stream="algo-2-stdout"),
            logmetrics_job="gan",
            logmetrics_run="r1",
        )
    )

    assert lines(batch, "stream") == [
        ("stdout", b"a\n"),
        ("stderr", b"b\n"),
        ("algo-2-stdout", b"c\n"),
    ]


def test_bodies_of_every_kind_are_lines():
    bodies = [
        "caf\u00e9 loss=1",
        b"\xff\xfe raw bytes",  # not UTF-8: kept as sent
        7,
        0.25,
        True,
        ["a", 1, b"\x01"],
        {"loss": 0.5, "epoch": 3},
        "ends with its own newline\n",
        "",
        None,
    ]
    batch = batch_of(
        request(*(record(b, T0) for b in bodies), logmetrics_job="gan", logmetrics_run="r1")
    )

    assert lines(batch, "run") == [
        (
            "r1",
            (
                b"caf\xc3\xa9 loss=1\n"
                b"\xff\xfe raw bytes\n"
                b"7\n"
                b"0.25\n"
                b"true\n"
                b'["a", 1, "01"]\n'
                b'{"loss": 0.5, "epoch": 3}\n'
                b"ends with its own newline\n"
                b"\n"
                b"\n"
            ),
        )
    ]
    assert batch.streams[0].records == 10


def test_a_line_is_at_its_records_time_else_its_observed_time_else_its_arrival():
    batch = batch_of(
        request(
            record("timed", T0, observed=T0 + 5 * SECOND),
            record("observed", 0, observed=T0 + 7 * SECOND),
            record("untimed"),
            logmetrics_job="gan",
            logmetrics_run="r1",
        )
    )

    assert pieces(batch) == [
        (b"timed\n", 1, AT_T0),
        (b"observed\n", 1, datetime(2025, 12, 6, 5, 46, 47, tzinfo=UTC)),
        (b"untimed\n", 1, None),
    ]


def test_a_chunk_holds_the_consecutive_lines_of_one_second_at_the_last_ones_time():
    times = [T0 + 1000, T0 + 300_000_000, T0 + SECOND - 1, T0 + SECOND, T0 + SECOND + 5, T0]
    batch = batch_of(
        request(
            *(record(f"line {i}", t) for i, t in enumerate(times)),
            logmetrics_job="gan",
            logmetrics_run="r1",
        )
    )

    assert pieces(batch) == [
        (b"line 0\nline 1\nline 2\n", 3, datetime(2025, 12, 6, 5, 46, 40, 999999, tzinfo=UTC)),
        (b"line 3\nline 4\n", 2, datetime(2025, 12, 6, 5, 46, 41, tzinfo=UTC)),
        (b"line 5\n", 1, AT_T0),  # a second already left: a chunk of its own
    ]


def test_a_thousand_records_over_three_seconds_are_three_chunks():
    records = [record(f"loss={i}", T0 + i * 3_000_000) for i in range(1000)]

    batch = batch_of(request(*records, logmetrics_job="gan", logmetrics_run="r1"))

    assert [records for _, records, _ in pieces(batch)] == [334, 333, 333]
    assert b"".join(data for data, _, _ in pieces(batch)) == b"".join(
        f"loss={i}\n".encode() for i in range(1000)
    )


def test_a_backlog_of_more_seconds_than_max_pieces_is_max_pieces_chunks():
    records = [record(f"loss={i}", T0 + i * SECOND) for i in range(1000)]

    batch = batch_of(request(*records, logmetrics_job="gan", logmetrics_run="r1"))

    assert MAX_BATCH_CHUNKS == 100
    found = pieces(batch)
    assert [records for _, records, _ in found] == [10] * 100
    assert found[0][0] == b"".join(f"loss={i}\n".encode() for i in range(10))
    assert found[0][2] == datetime(2025, 12, 6, 5, 46, 49, tzinfo=UTC)  # the tenth line's


def test_records_naming_no_run_are_unplaced_with_the_reason():
    batch = batch_of(
        request(
            record("no job", T0, logmetrics_run="r1"),
            record("no run", T0, logmetrics_job="gan"),
            record("a run that is a number", T0, logmetrics_job="gan", logmetrics_run=7),
            record("an empty job", T0, logmetrics_job="", logmetrics_run="r1"),
            record(
                "a bad stream", T0, logmetrics_job="gan", logmetrics_run="r1", log_iostream="../x"
            ),
            record("placed", T0, logmetrics_job="gan", logmetrics_run="r1"),
        )
    )

    assert batch.unplaced == (
        Unplaced(
            2,
            "no logmetrics.job attribute (a non-empty string) "
            "on the record, its scope or its resource",
        ),
        Unplaced(
            2,
            "no logmetrics.run attribute (a non-empty string) "
            "on the record, its scope or its resource",
        ),
        Unplaced(
            1,
            "log.iostream is not a stream name (1 to 255 letters, digits, '.', '_', '/' "
            "and '-', starting with a letter or digit)",
        ),
    )
    assert lines(batch, "run") == [("r1", b"placed\n")]
    assert batch.records == 6
