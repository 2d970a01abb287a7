"""The compiled core's behaviour on literal inputs, against the `regex` module's path.

Each test parses a literal log with `Parser(scanner="auto")`, whose definitions the
compiled core takes (checked through `Parser.matched_by()`), and states the points and
rejections it must give; where the result is the pure-Python path's by definition (lines
the core hands back, values Python reads) the test also parses with `scanner="none"`,
which never uses the core, and wants the same.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Sequence

import pytest

from app.parsing import (
    LogFormat,
    MetricDefinition,
    Parser,
    ParserLimits,
    compile_definitions,
)
from app.parsing.core import core_status
from app.parsing.matching import NOT_A_NUMBER, OVER_BUDGET, SUSPENDED, TIMED_OUT
from app.records import Point, Rejection, StreamState

needs_core = pytest.mark.skipif(
    core_status().startswith("pure Python"), reason=f"no compiled core: {core_status()}"
)

# Every rejection kept, and no clock deciding (as tests/parsing/test_differential.py).
LIMITS = ParserLimits(regex_timeout=5.0, cpu_floor=60.0, rejections_kept=1000)
CORE = "compiled core"


@dataclasses.dataclass(frozen=True)
class Parsed:
    points: tuple[Point, ...]
    rejections: tuple[Rejection, ...]
    lines: int


def parse(
    definitions: Sequence[MetricDefinition],
    log: bytes,
    log_format: LogFormat = LogFormat.TEXT,
    scanner: str = "auto",
    limits: ParserLimits = LIMITS,
) -> Parsed:
    """The log fed whole, then ended."""
    parser = Parser(compile_definitions(definitions, log_format), log_format, limits, scanner)
    result = parser.feed(StreamState(), log)
    tail = parser.finish(result.state)
    return Parsed(
        result.points + tail.points, result.rejections + tail.rejections, tail.state.lines
    )


def by_core(
    definitions: Sequence[MetricDefinition],
    log: bytes,
    log_format: LogFormat = LogFormat.TEXT,
    limits: ParserLimits = LIMITS,
) -> Parsed:
    """The core's result, checked to be the pure-Python path's."""
    compiled = compile_definitions(definitions, log_format)
    taken = Parser(compiled, log_format, limits, "auto").matched_by()
    assert taken == {definition.name: CORE for definition in definitions}
    core = parse(definitions, log, log_format, "auto", limits)
    assert core == parse(definitions, log, log_format, "none", limits)
    return core


def values(definition: MetricDefinition, captures: Sequence[str]) -> Parsed:
    log = "".join(f"v={capture};\n" for capture in captures).encode()
    return by_core([definition], log)


# Values and steps.


@needs_core
def test_values_are_read_as_python_reads_them():
    value = MetricDefinition("v", "v=([^;]*);")
    captures = [" 1.5 ", "+.5", "5.", "1e-3", "-0", "7", "1E+4", "\t2.5\x0b"]
    parsed = values(value, captures)
    assert [p.value for p in parsed.points] == [1.5, 0.5, 5.0, 0.001, -0.0, 7.0, 1e4, 2.5]
    assert [p.line for p in parsed.points] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert parsed.rejections == ()


@needs_core
def test_captures_that_are_no_finite_decimal_number_are_rejected_with_their_text():
    # `1_0`, Arabic-Indic and fullwidth digits are numbers to `float`, not to a metric's reader.
    value = MetricDefinition("v", "v=([^;]*);")
    captures = ["1e999", "nan", "inf", "1_0", "١٢", "\uff11\uff12", "0x1F", "", ".", "1.2.3"]
    parsed = values(value, captures)
    assert parsed.points == ()
    offsets = [0, 9, 16, 23, 30, 38, 48, 56, 60, 65]
    assert parsed.rejections == tuple(
        Rejection("v", line, offset, capture, NOT_A_NUMBER)
        for line, offset, capture in zip(range(1, 11), offsets, captures, strict=True)
    )


@needs_core
def test_an_unset_value_group_is_rejected_with_an_empty_capture():
    parsed = by_core([MetricDefinition("v", r"v=(?:(\d+)|none)")], b"v=none\nv=3\n")
    assert parsed.points == (Point("v", 3.0, None, 2, 7),)
    assert parsed.rejections == (Rejection("v", 1, 0, "", NOT_A_NUMBER),)


@needs_core
def test_steps_are_read_as_64_bit_integers_or_left_unset():
    step = MetricDefinition("v", r"step=(?P<step>\S+) v=(\S+)")
    log = b"".join(
        b"step=%s v=1\n" % text
        for text in [
            b"007",
            b"-9223372036854775808",
            b"9223372036854775807",
            b"9223372036854775808",
            b"+5",
            b"1.5",
            b"\xd9\xa1\xd9\xa2",  # Arabic-Indic digits: no step
            b"1_0",
        ]
    )
    parsed = by_core([step], log)
    assert [p.step for p in parsed.points] == [
        7,
        -(2**63),
        2**63 - 1,
        None,
        5,
        None,
        None,
        None,
    ]


def test_a_scoped_ascii_group_matches_as_the_regex_module_reads_it():
    # The `regex` module applies a scoped `(?a:...)` to the classes right inside it but
    # not inside a non-capturing group nested in it: `(?a:\W)` matches `ß`, and
    # `(?a:(?:\W))` does not. The core leaves such a definition to `regex`.
    definitions = [
        MetricDefinition("direct", r"d=(\d+)(?a:\W)"),
        MetricDefinition("nested", r"n=(\d+)(?a:(?:\W))"),
    ]
    log = "d=1ß d=2; n=3ß n=4;\n".encode()
    parsed = parse(definitions, log)
    assert [(p.metric, p.value) for p in parsed.points] == [("direct", 1.0), ("nested", 4.0)]
    assert parsed == parse(definitions, log, scanner="none")


# Rendering and framing.


@needs_core
def test_text_lines_lose_ansi_sequences_and_control_characters_before_matching():
    definition = MetricDefinition("loss", r"loss=(\d+(?:\.\d+)?)$")
    log = (
        b"\x1b[1;32mloss=\x1b[0m1.5\n"  # CSI colours
        b"\x1b]0;title\x07loss=2\n"  # OSC ended by BEL
        b"\x1b]8;;http://x\x1b\\loss=3\n"  # OSC ended by ESC backslash
        b"lo\x1bss=4\n"  # a lone ESC
        b"loss=\x005\x08\x7f\n"  # NUL and backspace go, DEL stays
        b"loss=6\x1b[\n"  # a CSI cut short: its ESC goes, `[` stays
        b"\tloss=7\n"
    )
    parsed = by_core([definition], log)
    assert [(p.value, p.line) for p in parsed.points] == [
        (1.5, 1),
        (2.0, 2),
        (3.0, 3),
        (4.0, 4),
        (7.0, 7),
    ]


@needs_core
def test_cloudwatch_lines_show_control_characters_in_octal():
    definitions = [
        MetricDefinition("tab", r"tab#011(\d+)"),
        MetricDefinition("cr", r"cr=(\d+)#015$"),
        MetricDefinition("del", r"del#177(\d+)"),
        MetricDefinition("esc", r"#033\[31mesc=(\d+)"),
    ]
    log = b"tab\t1\ncr=2\r\ndel\x7f3\n\x1b[31mesc=4\ntab#0115\n"
    parsed = by_core(definitions, log, LogFormat.CLOUDWATCH)
    assert [(p.metric, p.value, p.line) for p in parsed.points] == [
        ("tab", 1.0, 1),
        ("cr", 2.0, 2),
        ("del", 3.0, 3),
        ("esc", 4.0, 4),
        ("tab", 5.0, 5),
    ]


@needs_core
def test_line_ends_frame_lines_as_the_log_format_says():
    definition = MetricDefinition("loss", r"loss=(\d+)$")
    log = b"loss=1\rloss=2\r\nloss=3\n\nloss=4"
    text = by_core([definition], log)
    assert [(p.value, p.line, p.offset) for p in text.points] == [
        (1.0, 1, 0),
        (2.0, 2, 7),
        (3.0, 3, 15),
        (4.0, 5, 23),
    ]
    assert text.lines == 5
    # CloudWatch ends lines at `\n` alone: `\r` is the line's text (`#015`).
    cloudwatch = by_core([definition], log, LogFormat.CLOUDWATCH)
    assert [(p.value, p.line, p.offset) for p in cloudwatch.points] == [
        (3.0, 2, 15),
        (4.0, 4, 23),
    ]
    assert cloudwatch.lines == 4


@needs_core
def test_lines_not_utf8_or_too_long_are_matched_as_pure_python_matches_them():
    # The core hands such lines back to the `regex` module: U+FFFD for bad bytes, a long
    # line cut to its first bytes between characters.
    definition = MetricDefinition("loss", r"loss=(\S+?)(?:\ufffd|;|$)")
    log = (
        b"loss=1\xff\n"  # not UTF-8: `1` then U+FFFD
        b"\xc3loss=2;\n"  # a character cut short before the metric
        b"loss=3\xed\xa0\x80\n"  # a surrogate's bytes
        b"loss=4" + b"0" * 40 + b";\n"  # over the limit: cut to its first 24 bytes
        b"loss=5;\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9;\n"
    )
    limits = dataclasses.replace(LIMITS, max_line_bytes=24)
    parsed = by_core([definition], log, limits=limits)
    assert [(p.value, p.line) for p in parsed.points] == [
        (1.0, 1),
        (2.0, 2),
        (3.0, 3),
        (4 * 10**18, 4),
        (5.0, 5),
    ]


# Order of points.


@needs_core
def test_points_come_in_line_order_then_in_the_order_of_the_definitions():
    # `b` (index 1) takes a back-reference: the regex module matches it, the core the
    # others; a line's points still follow the job's order of definitions.
    definitions = [
        MetricDefinition("a", r"a=(\d+)"),
        MetricDefinition("b", r"(\w)\1=(?P<value>\d+)"),
        MetricDefinition("c", r"c=(\d+)"),
        MetricDefinition("d", r"(?i)D=(\d+)"),
    ]
    log = b"c=1 a=2 xx=3 d=4\nd=5 c=6\nxx=7 a=8\n"
    parser = Parser(compile_definitions(definitions), LogFormat.TEXT, LIMITS)
    assert parser.matched_by() == {
        "a": CORE,
        "b": "regex module: a back-reference",
        "c": CORE,
        "d": CORE,
    }
    core = parse(definitions, log)
    assert [(p.metric, p.value, p.line) for p in core.points] == [
        ("a", 2.0, 1),
        ("b", 3.0, 1),
        ("c", 1.0, 1),
        ("d", 4.0, 1),
        ("c", 6.0, 2),
        ("d", 5.0, 2),
        ("a", 8.0, 3),
        ("b", 7.0, 3),
    ]
    assert core == parse(definitions, log, scanner="none")


@needs_core
def test_points_of_lines_the_core_hands_back_come_in_line_order():
    # Line 1 is not UTF-8: the core hands it back, and the regex module matches `loss`
    # there after it matched `bref` (the core does not take back-references) on both lines.
    definitions = [
        MetricDefinition("loss", r"loss=(\d+)"),
        MetricDefinition("bref", r"(\w)\1=(?P<value>\d+)"),
    ]
    log = b"loss=1 \xff\nxx=2\n"
    core = parse(definitions, log)
    assert [(p.metric, p.value, p.line) for p in core.points] == [
        ("loss", 1.0, 1),
        ("bref", 1.0, 1),
        ("bref", 2.0, 2),
    ]
    assert core == parse(definitions, log, scanner="none")


# The CPU-time budget.

CATASTROPHIC = MetricDefinition("x", r"x=((?:a|a)+b)")
CATASTROPHIC_LOG = b"x=" + b"a" * 30 + b"!b\n"


@needs_core
def test_a_catastrophic_regex_times_out_line_by_line_as_on_the_python_path():
    # PCRE2's match limit hands each line to the regex module, which times out on it:
    # ten time-outs, then the definition is suspended for the chunk, on both paths.
    limits = ParserLimits(regex_timeout=0.005, cpu_floor=60.0, rejections_kept=100)
    log = CATASTROPHIC_LOG * 20
    core = by_core([CATASTROPHIC], log, limits=limits)
    assert core.points == ()
    assert [(r.line, r.reason) for r in core.rejections] == [
        *((line, TIMED_OUT) for line in range(1, 11)),
        *((line, SUSPENDED) for line in range(11, 21)),
    ]
    assert {r.capture for r in core.rejections} == {None}


@needs_core
def test_a_catastrophic_regex_stays_within_its_cpu_budget():
    limits = ParserLimits(rejections_kept=1000)
    log = CATASTROPHIC_LOG * 200
    parser = Parser(compile_definitions([CATASTROPHIC]), LogFormat.TEXT, limits)
    assert parser.matched_by() == {"x": CORE}
    budget = limits.cpu_budget(len(log))
    started = time.thread_time()
    result = parser.feed(StreamState(), log)
    used = time.thread_time() - started
    # Every line is rejected, none matched, and the chunk cost its budget and at most
    # a few searches more (a time-out each; here the Python path overshoots as much).
    assert result.points == ()
    assert result.timeouts == {"x": 200}
    assert {r.reason for r in result.rejections} <= {TIMED_OUT, SUSPENDED, OVER_BUDGET}
    assert [r.line for r in result.rejections] == list(range(1, 201))
    assert used < budget + 4 * limits.regex_timeout, (used, budget)


# Which path parses.


@needs_core
def test_core_status_names_pcre2_and_hyperscan():
    status = core_status()
    assert status.startswith("compiled core (PCRE2 10.")
    assert "with JIT" in status
    assert "Hyperscan 5." in status


def test_with_the_core_off_every_definition_goes_by_the_regex_module():
    program = (
        "from app.parsing import Parser, MetricDefinition, compile_definitions\n"
        "from app.parsing.core import core_status\n"
        "print(core_status())\n"
        "print(Parser(compile_definitions([MetricDefinition('loss', r'loss=(\\S+)')]))"
        ".matched_by()['loss'])\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", program],
        env={**os.environ, "LOGMETRICS_CORE": "off"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert shown.splitlines() == [
        "pure Python: the compiled core is off (LOGMETRICS_CORE=off)",
        "regex module: the compiled core is off (LOGMETRICS_CORE=off)",
    ]


@needs_core
def test_slow_searches_under_the_match_limit_stop_near_the_budget():
    # Each line costs PCRE2 about 2^16 steps, under the match limit: a slow search that
    # is never handed to the regex module. Given a budget of five such searches, the core
    # must stop within a few more, as the regex module's path does (one search at most).
    definition = MetricDefinition("x", r"x=((?:a|a)+b)")
    line = b"x=" + b"a" * 16 + b"!b\n"
    parser = Parser(compile_definitions([definition]), LogFormat.TEXT, LIMITS)
    assert parser.matched_by() == {"x": CORE}
    measured = parser.feed(StreamState(), line * 20)
    assert measured.timeouts == {}
    one_search = measured.cpu_spent / 20
    result = parser.feed(StreamState(), line * 200, budget=5 * one_search)
    assert result.points == ()
    assert result.cpu_spent < 9 * one_search, result.cpu_spent / one_search


def test_a_posix_class_matches_as_the_regex_module_reads_it():
    # `[[:alpha:]]` is a POSIX class to `regex`; the standard parser, which the core's
    # translation starts from, reads a set `[[:alph]` and a literal `]`.
    definitions = [MetricDefinition("m", r"[[:alpha:]]=(\d)")]
    log = "a]=1\né=2\nb=3\n".encode()

    parsed = parse(definitions, log)

    assert [(p.value, p.line) for p in parsed.points] == [(2.0, 2), (3.0, 3)]
    assert parsed == parse(definitions, log, scanner="none")
