"""Where lines end, by log format: `LineFramer` alone, then across a stream's chunks."""

import pytest

from app.parsing import LogFormat, MetricDefinition, Parser, compile_definitions
from app.parsing.framing import LineFramer
from app.records import StreamState

TEXT = LineFramer(LogFormat.TEXT)
CLOUDWATCH = LineFramer(LogFormat.CLOUDWATCH)


@pytest.mark.parametrize(
    ("framer", "data", "ends"),
    [
        (TEXT, b"a\nb\r\nc\rd", 3),
        (CLOUDWATCH, b"a\nb\r\nc\rd", 2),
        (TEXT, b"\r\r\n\n", 3),
        (CLOUDWATCH, b"\r\r\n\n", 2),
        (TEXT, b"", 0),
        (TEXT, b"a\nb\n", 2),
    ],
)
def test_a_crlf_is_one_line_end_and_a_lone_cr_ends_a_text_line_only(framer, data, ends):
    assert framer.count(data) == ends
    assert framer.count(data, framer.with_lf_ends(data)) == ends
    assert len(framer.pieces(data[: framer.region_end(data)])) == ends


@pytest.mark.parametrize(
    ("framer", "log", "lines"),
    [
        (TEXT, b"a\nb\r\nc\rd", [b"a", b"b", b"c", b"d"]),
        (CLOUDWATCH, b"a\nb\r\nc\rd", [b"a", b"b\r", b"c\rd"]),
        (TEXT, b"a\n\n", [b"a", b""]),
        (CLOUDWATCH, b"a\n\n", [b"a", b""]),
        (CLOUDWATCH, b"", []),
    ],
)
def test_a_whole_logs_lines_lose_their_line_ends(framer, log, lines):
    assert framer.lines(log) == lines
    pieces = framer.pieces(log[: framer.region_end(log)])
    assert [framer.strip_end(piece) for piece in pieces] == lines[: len(pieces)]


@pytest.mark.parametrize(
    ("framer", "chunk", "first", "after", "region_end"),
    [
        (TEXT, b"ab\r\ncd\ref", 2, 4, 7),
        (CLOUDWATCH, b"ab\r\ncd\ref", 3, 4, 4),
        (TEXT, b"no end", -1, None, 0),
    ],
)
def test_where_the_first_line_ends_and_the_last_whole_one(framer, chunk, first, after, region_end):
    assert framer.first_end(chunk) == first
    if after is not None:
        assert framer.after_end(chunk, first) == after
    assert framer.region_end(chunk) == region_end


def test_a_text_chunk_ending_in_cr_waits_for_the_lf_that_may_open_the_next():
    assert TEXT.ends_with_cr(b"loss=1\r", 7)
    assert not TEXT.ends_with_cr(b"loss=1\r\n", 8)
    assert not CLOUDWATCH.ends_with_cr(b"loss=1\r", 0)


@pytest.mark.parametrize(
    ("log_format", "chunks", "lines"),
    [
        # The `\r\n` split across chunks is one line end: two lines, not three.
        (LogFormat.TEXT, [b"loss=1\r", b"\nloss=2\n"], [1, 2]),
        # In a CloudWatch log the `\r` is text, and `loss=1#015` is no number.
        (LogFormat.CLOUDWATCH, [b"loss=1\r", b"\nloss=2\n"], [2]),
    ],
)
def test_a_crlf_cut_between_chunks_ends_one_line(log_format, chunks, lines):
    definitions = compile_definitions([MetricDefinition("loss", r"loss=(\S+)")], log_format)
    parser = Parser(definitions, log_format)
    state, points = StreamState(), []
    for chunk in chunks:
        result = parser.feed(state, chunk)
        state, points = result.state, points + list(result.points)
    assert [point.line for point in points if point.value in (1.0, 2.0)] == lines
    assert state.lines == 2
