"""The literal scanners and the screen: the one without hyperscan finds what hyperscan
finds, and the screen picks the lines that may match."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.parsing import LogFormat, MetricDefinition, compile_definitions
from app.parsing.lines import dirty_lines
from app.parsing.literals import Literal
from app.parsing.prefilter import FindScanner, build_scanner, hyperscan_available
from app.parsing.screening import LiteralScreen

LITERALS = (
    Literal(b"loss=", False),
    Literal(b"oss", False),  # inside the one above: overlapping occurrences
    Literal(b"aa", False),  # overlaps itself in "aaa"
    Literal(b"ppl", True),
    Literal("é=".encode(), False),
)
_PIECES = [b"loss=", b"LOSS=", b"aaa", b"PpL", b"ppl", "é=".encode(), b"\n", b"x", b"\xff"]


def test_every_occurrence_is_reported_overlapping_and_caseless_ones_too():
    data = b"aaa loss= PPL\n\xc3\xa9="
    assert sorted(FindScanner(LITERALS).scan(data)) == [
        (0, 2),
        (1, 2),
        (4, 0),
        (5, 1),
        (10, 3),
        (14, 4),
    ]


@pytest.mark.skipif(not hyperscan_available(), reason="hyperscan is not installed")
@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30))
def test_the_find_scanner_and_hyperscan_find_the_same_occurrences(pieces):
    data = b"".join(pieces)
    by_find = FindScanner(LITERALS).scan(data)
    by_hyperscan = build_scanner(LITERALS, "hyperscan").scan(data)
    # Hyperscan reports an occurrence by its last byte, the find scanner by its first.
    assert sorted((p + len(LITERALS[i].text) - 1, i) for p, i in by_find) == sorted(by_hyperscan)


_OLD_DIRTY_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f][^\n]*")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([b"a", b"\n", b"\x1b[1m", b"\x00", b"\t", b"\x0b", b"\x7f"])))
def test_dirty_lines_are_the_lines_holding_a_control_byte_but_tab(pieces):
    hay = b"".join(pieces)
    expected = [
        (hay.rfind(b"\n", 0, m.start()) + 1, m.end()) for m in _OLD_DIRTY_BYTES.finditer(hay)
    ]
    assert dirty_lines(hay) == expected


@pytest.mark.parametrize("engine", ["auto", "find"])
def test_definitions_searched_over_the_whole_region_are_left_out_of_the_screen(engine):
    definitions = compile_definitions(
        [
            MetricDefinition("loss", r"loss=([0-9.]+)"),
            MetricDefinition("acc", r"acc=([0-9.]+)"),
            MetricDefinition("both", r"(?:loss|acc)=([0-9.]+)!"),
        ]
    )
    screen = LiteralScreen(definitions, LogFormat.TEXT, engine)
    region = b"loss=1\nacc=2\nloss=3 acc=4\nx\x1b[0m acc=5\n"

    def screened(skip):
        found = screen.candidates(region, region, False, 65537, 65536, frozenset(skip))
        return {start: sorted(candidate.definitions) for start, candidate in found.items()}

    assert screened(()) == {0: [0, 2], 7: [1, 2], 13: [0, 1, 2], 26: [1, 2]}
    assert screened({0}) == {0: [2], 7: [1, 2], 13: [1, 2], 26: [1, 2]}
    assert screened({0, 2}) == {7: [1], 13: [1], 26: [1]}
    assert screened({0, 1, 2}) == {}


def test_the_find_scanner_is_named_find_and_still_answers_to_regex_for_a_release():
    assert isinstance(build_scanner(LITERALS, "find"), FindScanner)
    assert isinstance(build_scanner(LITERALS, "regex"), FindScanner)
    with pytest.raises(ValueError, match="unknown literal scanner 'bytes'"):
        build_scanner(LITERALS, "bytes")
