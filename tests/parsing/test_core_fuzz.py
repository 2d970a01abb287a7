"""The compiled core's entry points under hostile input: `_core.Core(...)` and `.scan(...)`.

Hypothesis hands the extension what no definition would: pattern bytes that are not
PCRE2 syntax or not UTF-8, group numbers and literal owners out of range, regions of any
bytes (NUL, invalid UTF-8, lone `\\r`, lines far over the limit), budgets that are zero,
negative or NaN, arguments of the wrong length or type, and one Core scanned by many
threads at once. Each must end in a Python exception or a result; a region's result is
checked against what Python itself computes from the same bytes (tests/parsing/naive.py's
rules, spelled here for one call of the core).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.parsing.core import MATCH_LIMIT, core_status
from app.parsing.definitions import LogFormat
from app.parsing.lines import line_text
from app.parsing.values import parse_step, parse_value
from app.records import Point

pytestmark = pytest.mark.skipif(
    core_status().startswith("pure Python"), reason=f"no compiled core: {core_status()}"
)

if not core_status().startswith("pure Python"):
    from app.parsing._core import Core, CoreError

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces of PCRE2 syntax, hostile ones among them: verbs that set limits or newline
# conventions, recursion, callouts, `\K`, huge counts, code points past Unicode's end.
SYNTAX = [
    "(",
    ")",
    "(?:",
    "(?<n>",
    "(?P<step>",
    "(?=",
    "(?!",
    "(?<=",
    "(?<!",
    "(?>",
    "(?|",
    "[",
    "]",
    "[^",
    "\\",
    "\\d",
    "\\w",
    "\\s",
    "\\b",
    "\\B",
    "\\K",
    "\\p{L}",
    "\\X",
    "\\R",
    ".",
    "^",
    "$",
    "\\A",
    "\\z",
    "|",
    "*",
    "+",
    "?",
    "*?",
    "++",
    "{2,3}",
    "{65536}",
    "{0,}",
    "a",
    "é",
    "損",
    "😀",
    "=",
    "(?R)",
    "(?1)",
    "(?C1)",
    "(*FAIL)",
    "(*ACCEPT)",
    "(*LIMIT_MATCH=1)",
    "(*LIMIT_MATCH=999999999)",
    "(*NO_JIT)",
    "(*CR)",
    "(*ANY)",
    "(*UCP)",
    "(?i)",
    "(?s)",
    "(?x)",
    "\\x{110000}",
    "\\x{d800}",
    "\\1",
    "\\g{-1}",
    "(a|a)+b",
    "(?:a+)+$",
    "\\Q",
    "\\E",
    "#",
    "\n",
    "\x00",
]
# Byte sequences that are not UTF-8, and one that is (a surrogate's) only to CESU-8.
NOT_UTF8 = [b"\xff", b"\xfe", b"\xc3", b"\xe2\x82", b"\xf0\x9f", b"\xed\xa0\x80", b"\x80"]
NOT_UTF8 += [b"\xc0\xaf", b"\xf4\x90\x80\x80"]

syntax = st.sampled_from([piece.encode() for piece in SYNTAX])
patterns = st.one_of(
    st.binary(max_size=40),
    st.lists(syntax | st.sampled_from(NOT_UTF8), max_size=12).map(b"".join),
    st.lists(syntax, min_size=1, max_size=12).map(b"".join),
)

# Region bytes: the framing's and the rendering's own bytes, and any others.
REGION_TOKENS = [
    b"v=1.5",
    b"v=",
    b"v=+.5",
    b"v=1e999",
    b"v=",
    b"s=7 x",
    b"s=-9223372036854775809 y",
    b"s=\xd9\xa1 z",
    b"\n",
    b"\n",
    b"\r",
    b"\r\n",
    b"\x00",
    b"\t",
    b"\x7f",
    b"\x1b",
    b"\x1b[31m",
    b"\x1b]0;t\x07",
    b"\x1b]8;;u\x1b\\",
    b"\x1b[",
    b" ",
    b"\xc3\xa9",
    b"\xe6\x90\x8d",
    b"\xf0\x9f\x98\x80",
    *NOT_UTF8,
    b"v" * 70,
    b"v=" + b"9" * 90,
]
regions = st.one_of(
    st.binary(max_size=200),
    st.lists(st.sampled_from(REGION_TOKENS) | st.binary(max_size=3), max_size=40).map(b"".join),
)

# Two definitions whose PCRE2 and `regex` syntax mean the same here: ASCII classes alone.
DEFINITIONS = [
    (b"v=([0-9.e+-]*)", 1, 0, False),
    (b"s=(?<step>[0-9+-]+) ([a-z0-9.]+)", 2, 1, True),
]
REGEXES = [regex.compile(r"v=([0-9.e+-]*)"), regex.compile(r"s=(?P<step>[0-9+-]+) ([a-z0-9.]+)")]
LITERALS = [(b"v=", False, [0])]
NAMES = ("v", "s")


def make_core(
    definitions: Sequence[tuple[bytes, int, int, bool]] = DEFINITIONS,
    literals: Sequence[tuple[bytes, bool, Sequence[int]]] = LITERALS,
    cr_ends: bool = True,
    cloudwatch: bool = False,
    max_line_bytes: int = 64,
) -> Any:
    return Core(
        list(definitions), list(literals), cr_ends, cloudwatch, max_line_bytes, MATCH_LIMIT, 10
    )


def lines_of(region: bytes, cr_ends: bool) -> list[tuple[int, bytes]]:
    """Each line's start and raw bytes without its end, as the framing cuts them."""
    pieces = region.splitlines(keepends=True) if cr_ends else region.split(b"\n")
    if not cr_ends:
        pieces = [piece + b"\n" for piece in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
    lines, start = [], 0
    for piece in pieces:
        stripped = piece.rstrip(b"\n")
        if cr_ends:
            stripped = piece.removesuffix(b"\r\n").removesuffix(b"\n").removesuffix(b"\r")
        lines.append((start, stripped))
        start += len(piece)
    return lines


def is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


Lines = tuple[dict[tuple[int, int], Any], set[tuple[int, int]], set[tuple[int, int, int, int]], int]


def expected_scan(
    region: bytes, base: int, first: int, cr_ends: bool, cloudwatch: bool, limit: int
) -> Lines:
    """What one scan must give, computed in Python: per (line, definition) the point's
    (value, step) or the rejected capture; the (line, definition) pairs Python must match
    itself (lines not UTF-8 or over the limit, where the definition's regex matches the
    line's text); those lines' (number, offset, start, end); the line count."""
    rendering = LogFormat.CLOUDWATCH if cloudwatch else LogFormat.TEXT
    found: dict[tuple[int, int], Any] = {}
    handed: set[tuple[int, int]] = set()
    deferred = set()
    lines = lines_of(region, cr_ends)
    for number, (start, raw) in enumerate(lines, first):
        text = line_text(raw, rendering, limit)
        left = len(raw) > limit or not is_utf8(raw)
        if left:
            deferred.add((number, base + start, start, start + len(raw)))
        for position, pattern in enumerate(REGEXES):
            match = pattern.search(text)
            if match is not None and left:
                handed.add((number, position))
            elif match is not None:
                found[number, position] = read(match[1] if position == 0 else match[2], match)
    return found, handed, deferred, len(lines)


def read(capture: str | None, match: regex.Match[str]) -> Any:
    value = parse_value(capture) if capture is not None else None
    if value is None:
        return ("rejected", capture)
    step = parse_step(match.group("step")) if "step" in match.re.groupindex else None
    return (value, step)


def scanned(
    scanner: Scanner,
    region: bytes,
    base: int,
    first: int,
    budgets: Sequence[float] = (60.0, 60.0),
) -> Lines:
    """A scan's result in `expected_scan`'s terms (raw captures read as Python reads
    them); of the pairs handed back, those where the regex matches (the core may hand
    back more: its literal screen picks the lines)."""
    points, raws, deferred, spent, limits_hit, count = scanner.core.scan(
        region, base, first, list(budgets), NAMES, Point
    )
    assert len(spent) == len(limits_hit) == len(NAMES)
    assert all(seconds >= 0 for seconds in spent)
    lines = lines_of(region, scanner.cr_ends)
    offsets = {number: base + start for number, (start, _) in enumerate(lines, first)}
    found: dict[tuple[int, int], Any] = {}
    for point in points:
        assert type(point) is Point
        assert offsets[point.line] == point.offset
        found[point.line, NAMES.index(point.metric)] = (point.value, point.step)
    for position, number, offset, capture, step in raws:
        assert offsets[number] == offset
        value = parse_value(capture) if capture is not None else None
        found[number, position] = (
            (value, parse_step(step) if position == 1 else None)
            if value is not None
            else ("rejected", capture)
        )
    assert all(position in (-1, 0, 1) for *_, position in deferred)
    assert deferred == sorted(deferred, key=lambda item: (item[0], item[4]))
    spans = {(n, o, s, e) for n, o, s, e, _ in deferred}
    rendering = LogFormat.CLOUDWATCH if scanner.cloudwatch else LogFormat.TEXT
    handed = set()
    for number, _, start, end, position in deferred:
        text = line_text(region[start:end], rendering, scanner.limit)
        for index in (0, 1) if position < 0 else (position,):
            if REGEXES[index].search(text):
                handed.add((number, index))
    return found, handed, spans, count


def assert_same_scan(actual: Lines, expected: Lines) -> None:
    """The same points and rejections and line count; every match Python must make on a
    line handed back is handed back; only lines Python must match are handed back."""
    found, handed, spans, count = actual
    assert (found, handed, count) == (expected[0], expected[1], expected[3])
    assert spans <= expected[2]


class Scanner:
    """A Core over `DEFINITIONS`, with the framing and limit it was built with."""

    def __init__(self, cr_ends: bool, cloudwatch: bool, limit: int) -> None:
        self.core = make_core(cr_ends=cr_ends, cloudwatch=cloudwatch, max_line_bytes=limit)
        self.cr_ends = cr_ends
        self.cloudwatch = cloudwatch
        self.limit = limit


# Patterns.


@FUZZ
@given(patterns, st.integers(0, 4), st.integers(0, 4), st.booleans(), regions)
def test_hostile_patterns_compile_or_raise_core_error_and_scan_any_region(
    pattern, value_group, step_group, always, region
):
    try:
        core = Core([(pattern, value_group, step_group, always)], [], True, False, 64, 1000, 3)
    except CoreError:
        return
    points, raws, deferred, spent, limits_hit, count = core.scan(
        region, 0, 1, [60.0], ("p",), Point
    )
    assert count == len(lines_of(region, True))
    assert len(points) + len(raws) <= count
    numbers = [item[0] for item in deferred] + [point.line for point in points]
    assert all(1 <= number <= count for number in numbers + [raw[1] for raw in raws])
    assert spent[0] >= 0
    assert 0 <= limits_hit[0] <= count


@pytest.mark.parametrize(
    "pattern", [b"(\xff\xfe)", b"(a\xc3", b"(\xf4", b"(\xed\xa0\x80)", b"(\xc0\xaf)"]
)
def test_a_pattern_that_is_not_utf8_is_refused_at_its_first_bad_byte(pattern):
    # PCRE2 checks the pattern: without that check it read past the end of `(\xff\xfe)`.
    with pytest.raises(CoreError, match="UTF-8 error") as refused:
        Core([(pattern, 1, 0, True)], [], True, False, 64, 1000, 3)
    with pytest.raises(UnicodeDecodeError) as undecodable:
        pattern.decode()
    assert f"PCRE2 refused it at {undecodable.value.start}:" in str(refused.value)


@FUZZ
@given(st.integers(0, 3), st.integers(0, 6), st.integers(0, 6))
def test_group_numbers_beyond_the_patterns_groups_are_refused(groups, value_group, step_group):
    pattern = b"x" + b"(a)" * groups
    definition = (pattern, value_group, step_group, True)
    if max(value_group, step_group) > groups:
        named = value_group if value_group > groups else step_group
        with pytest.raises(CoreError, match=f"^definition 0: no group {named}$"):
            Core([definition], [], True, False, 64, 1000, 3)
    else:
        core = Core([definition], [], True, False, 64, 1000, 3)
        assert core.scan(b"xaaa\n", 0, 1, [1.0], ("p",), Point)[5] == 1


@FUZZ
@given(st.integers(-(2**70), 2**70).filter(lambda owner: not 0 <= owner < 2))
def test_literal_owners_out_of_range_are_refused(owner):
    with pytest.raises((ValueError, OverflowError)):
        make_core(literals=[(b"v=", False, [0, owner])])


@pytest.mark.parametrize(
    ("literals", "error"),
    [
        ([(b"v=", False, ["0"])], TypeError),
        ([(b"v=", False, 0)], TypeError),
        ([("v=", False, [0])], TypeError),
        ([(b"v=", False)], TypeError),
        ([[b"v=", False, [0]]], TypeError),  # a list, not a tuple
    ],
)
def test_literals_of_the_wrong_shape_are_refused(literals, error):
    with pytest.raises(error):
        make_core(literals=literals)


# Regions.


@FUZZ
@given(
    regions,
    st.integers(0, 2**40),
    st.integers(1, 2**40),
    st.booleans(),
    st.booleans(),
    st.integers(0, 80),
)
def test_any_region_gives_what_python_computes_from_its_bytes(
    region, base, first, cr_ends, cloudwatch, limit
):
    scanner = Scanner(cr_ends, cloudwatch, limit)
    expected = expected_scan(region, base, first, cr_ends, cloudwatch, limit)
    assert_same_scan(scanned(scanner, region, base, first), expected)


def test_huge_lines_and_control_bytes_alone_are_handed_back_or_matched():
    scanner = Scanner(True, False, 64 * 1024)
    region = b"v=1" + b"0" * (1 << 20) + b"\n" + b"\x00" * 1000 + b"v=2\r" + b"\xff" * 10
    found, handed, spans, count = scanned(scanner, region, 0, 1)
    assert count == 3
    assert found == {(2, 0): (2.0, None)}
    # The long line is matched by Python on its first 64 KiB: `v=1000...`.
    assert handed == {(1, 0)}
    third = (1 << 20) + 1008
    assert spans <= {(1, 0, 0, (1 << 20) + 3), (3, third, third, third + 10)}
    assert (1, 0, 0, (1 << 20) + 3) in spans


# Budgets, names and the point type.


@FUZZ
@given(st.sampled_from([0.0, -1.0, -math.inf, -1e-300]), regions)
def test_no_budget_hands_every_searched_line_back(budget, region):
    scanner = Scanner(True, False, 64)
    points, raws, deferred, *_ = scanner.core.scan(region, 0, 1, [budget, budget], NAMES, Point)
    assert points == []
    assert raws == []
    # Each (line, definition) the core would have searched comes back for Python.
    found, must, _, _ = expected_scan(region, 0, 1, True, False, 64)
    handed = {(number, position) for number, _, _, _, position in deferred if position >= 0}
    whole = {number for number, _, _, _, position in deferred if position < 0}
    assert {pair for pair in {*found, *must} if pair[0] not in whole} <= handed


@FUZZ
@given(regions)
def test_a_nan_or_infinite_budget_does_not_stop_the_search(region):
    scanner = Scanner(True, False, 64)
    expected = expected_scan(region, 0, 1, True, False, 64)
    assert_same_scan(scanned(scanner, region, 0, 1, [math.nan, math.inf]), expected)


@pytest.mark.parametrize(
    ("budgets", "names", "point_type", "error"),
    [
        ([1.0], NAMES, Point, ValueError),
        ([1.0, 1.0, 1.0], NAMES, Point, ValueError),
        ([1.0, "1"], NAMES, Point, TypeError),
        (None, NAMES, Point, TypeError),
        ([1.0, 1.0], ("v",), Point, TypeError),
        ([1.0, 1.0], ["v", "s"], Point, TypeError),
        ([1.0, 1.0], NAMES, dict, TypeError),
        ([1.0, 1.0], NAMES, Point(0, 0, 0, 0, 0), TypeError),
    ],
)
def test_arguments_of_the_wrong_length_or_type_raise_clear_errors(
    budgets, names, point_type, error
):
    with pytest.raises(error):
        make_core().scan(b"v=1\n", 0, 1, budgets, names, point_type)


@pytest.mark.parametrize(
    ("region", "base", "first"),
    [("v=1\n", 0, 1), (b"v=1\n", 2**63, 1), (b"v=1\n", 0, -(2**64)), (None, 0, 1)],
)
def test_regions_and_positions_out_of_range_raise_clear_errors(region, base, first):
    with pytest.raises((TypeError, OverflowError)):
        make_core().scan(region, base, first, [1.0, 1.0], NAMES, Point)


# Threads.


def test_many_threads_scanning_one_core_get_one_threads_results():
    scanner = Scanner(True, False, 64)
    lines = [b"v=%d.5 s=%d x%d" % (i, i, i) for i in range(3000)]
    lines += [b"\x1b[31mv=7\x1b[0m", b"\xff v=8", b"s=1 " + b"z" * 100]
    region = b"\n".join(lines * 3) + b"\n"
    expected = scanned(scanner, region, 0, 1)
    assert len(expected[0]) > 9000
    results: list[Any] = []
    errors: list[BaseException] = []

    def scan_often() -> None:
        try:
            for _ in range(5):
                results.append(scanned(scanner, region, 0, 1))
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=scan_often) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 40
    assert all(result == expected for result in results)
