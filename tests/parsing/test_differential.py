"""Every parsing path against the naive oracle, on generated logs and definitions.

The oracle (tests/parsing/naive.py, also the benchmark's baseline) is written from the
parsing contract alone: every line, every definition, `regex.search`. The parser takes
other roads (a literal scan picks the lines worth searching, line-bound regexes run once
over a region of lines, chunks split anywhere hold a partial line, two renderings share
one framing), and each must give exactly the oracle's points, in the oracle's order,
with its line count.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.parsing import (
    LogFormat,
    MetricDefinition,
    Parser,
    ParserLimits,
    compile_definitions,
    number_points,
)
from app.parsing.prefilter import hyperscan_available
from app.records import Point, StreamState
from tests.parsing.naive import PointRow, naive_parse, rows_of

SCANNERS = ["none", "find", "auto"] + (["hyperscan"] if hyperscan_available() else [])
# The defaults but the clocks: a time-out would make a point depend on the machine's
# load, so a search may take seconds (the generated regexes need microseconds), and a
# definition's CPU budget per chunk a minute. Each parse also checks that nothing timed out.
LIMITS = ParserLimits(regex_timeout=5.0, cpu_floor=60.0)

# Definitions: an optional prefix, a capture, an optional suffix. Prefixes hold literals
# (ASCII, Unicode, CJK), alternations, classes, anchors, look-behinds, `(?i)` and `(?s)`,
# `\s` and `\s+` that could reach over a line end, `step` groups, and CloudWatch's `#011`
# (which makes the regex match CloudWatch's rendering whatever the job's log format).
# Each prefix comes with what logs write where it may (or nearly) match: other cases,
# U+017F (long s) that `(?i)` matches as `s`, a decomposed `é`, steps that are not
# integers a point can hold (Arabic-Indic digits, beyond 64 bits).
PREFIXES = {
    "": ("",),
    "^": ("",),
    r"\A": ("",),
    r"\s": (" ", "\t"),
    "loss=": ("loss=", "LOSS="),
    "Loss = ": ("Loss = ", "Loss ="),
    r"(?:loss|Loss)\s*=\s*": ("loss = ", "Loss=\t", "LOSS="),
    "[lL]oss=": ("Loss=", "loss=", "lOss="),
    "(?i)loss=": ("LOSS=", "lo\u017fs=", "Loss="),
    r"(?i)acc:\s*": ("ACC: ", "acc:"),
    "acc:": ("acc:", "Acc:"),
    "val_loss: ": ("val_loss: ", "val_loss:"),
    "(?:val_)?loss: ": ("loss: ", "val_loss: "),
    "(?<!val_)loss: ": ("loss: ", "val_loss: "),
    "(?s)Loss = ": ("Loss = ",),
    "précision=": ("précision=", "pre\u0301cision="),
    "(?i)précision=": ("PRÉCISION=", "Précision="),
    "損失=": ("損失=", "損="),
    r"lr\s+": ("lr ", "lr"),
    r"\bppl\s": ("ppl ", "xppl "),
    r";\s*": ("; ",),
    r"\[(?P<step>\d+)\]\s*loss=": ("[12] loss=", "[١٢] loss=", "[99999999999999999999]loss="),
    r"(?i)epoch (?P<step>\d+):\s+acc=": ("epoch 3: acc=", "EPOCH 4:\tacc=", "epoch 5:acc="),
    r"^step (?P<step>\d+) ": ("step 7 ", "step -1 "),
    "#011auc:": ("\tauc:", "#011auc:"),
    r"\tauc:": ("\tauc:", " auc:"),
    "auc:": ("auc:", "AUC:"),
    r"(?<=\s)auc:": (" auc:", "auc:"),
}
CAPTURES = [
    "(.*?);",
    "(.*?)$",
    "(.+?)(?:;|,|$)",
    r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)",
    r"(\d+)",
    r"(\S+)",
    r"([^;,\s]+)",
    "([^;]*)",
    r"(\S+)\s*$",
    "(?P<value>[0-9.eE+-]+)%?",
    r"\s*(\S+)",
    r"([\d.]+)\s",
    "(.*)",
    "([0-9.]+|nan|inf)",
    r"(\S*?)(?=[;,\s]|$)",
    r"(\w+)",
]
SUFFIXES = ["", "", "", ";", r"\s*$", r"\s", r"\s+\S"]
RENDERINGS = [None, None, None, None, LogFormat.TEXT, LogFormat.CLOUDWATCH]
NAMES = ["loss", "Loss", "acc", "val/loss", "précision", "損失", "lr", "ppl", "auc", "step"]

# Logs: lines of tokens. Most tokens are a prefix's text, a number and a separator;
# the others are numbers of every kind, Unicode, ANSI sequences (CSI, OSC, cut short),
# control bytes, `\r` inside a line (a progress bar in a text log, `#015` in a CloudWatch
# one) and bytes that are not UTF-8.
NUMBER_TOKENS = ["0.5", "-1e-3", "1E+4", ".5", "5.", "+3", "7", "0", "-2.5e10", "1e999"]
NUMBER_TOKENS += ["nan", "NaN", "inf", "-inf", "93.3%", "1,5", "0x1F", "١٢", "1.2.3", " 7 "]
SEPARATOR_TOKENS = [";", "; ", ",", " ", "\t", " | ", "; ", ";", ""]
UNICODE_CHARACTERS = "éÉ損失😀İ\u017f\u212a\u2028\x85\ufffdß"
ANSI_TOKENS = ["\x1b[31m", "\x1b[0m", "\x1b[1;32m", "\x1b[2K", "\x1b[?25l"]
ANSI_TOKENS += ["\x1b]0;title\x07", "\x1b]8;;http://x\x1b\\", "\x1b", "\x1b["]
CONTROL_TOKENS = ["\x00", "\x07", "\x08", "\x0b", "\x0c", "\x7f", "\x1f", "\r"]
CONTROL_TOKENS += [" 45%|####  | loss=0.3\r"]
# A byte no character starts with, characters cut short, a surrogate, a stray continuation.
INVALID_UTF8_TOKENS = [b"\xff", b"\xfe", b"\xc3", b"\xe2\x82", b"\xf0\x9f", b"\xed\xa0\x80"]
INVALID_UTF8_TOKENS += [b"\x80"]
LINE_ENDS = [b"\n", b"\n", b"\r\n", b"\r"]
# Spliced into a third of the metric phrases: `lo\x1b[31mss=` matches `loss=` once cleaned.
SPLICE_TOKENS = [""] * 24 + ANSI_TOKENS + ["\x00", "\x07", "\x7f"]
ALL_PREFIX_TEXTS = sorted({text for texts in PREFIXES.values() for text in texts})

# Where a chunk boundary is most awkward: between `\r` and `\n`, inside a UTF-8
# character, inside an ANSI sequence (the oracle's own CSI and OSC patterns).
_ANSI_SEQUENCE = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def _encoded(tokens: Sequence[str]) -> st.SearchStrategy[bytes]:
    return st.sampled_from([token.encode() for token in tokens])


numbers = st.one_of(
    _encoded(NUMBER_TOKENS),
    st.integers(-(10**6), 10**25).map(lambda n: str(n).encode()),
    st.floats().map(lambda x: repr(x).encode()),
)
noise = st.one_of(
    numbers,
    st.text(st.sampled_from(UNICODE_CHARACTERS) | st.characters(codec="utf-8"), max_size=3).map(
        str.encode
    ),
    _encoded(ANSI_TOKENS),
    _encoded(CONTROL_TOKENS),
    st.sampled_from(INVALID_UTF8_TOKENS),
)


@st.composite
def definitions(draw: st.DrawFn) -> list[MetricDefinition]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=6, unique=True))
    return [
        MetricDefinition(
            name,
            draw(st.sampled_from(list(PREFIXES)))
            + draw(st.sampled_from(CAPTURES))
            + draw(st.sampled_from(SUFFIXES)),
            draw(st.sampled_from(RENDERINGS)),
        )
        for name in names
    ]


def _phrase(parts: tuple[bytes, bytes, bytes, bytes, int, bytes]) -> bytes:
    """A prefix's text and a number, sometimes with a sequence that cleaning removes (or
    CloudWatch shows as `#ooo`) spliced in, then a separator and maybe noise."""
    prefix, number, separator, after, at, splice = parts
    metric = prefix + number
    return metric[:at] + splice + metric[at:] + separator + after


def _prefix(regex: str) -> str:
    return max((prefix for prefix in PREFIXES if regex.startswith(prefix)), key=len)


@st.composite
def logs(draw: st.DrawFn, definitions: Sequence[MetricDefinition]) -> bytes:
    """Lines with their ends, the last one sometimes without; some logs repeat their
    lines many times, so that a definition's literals fill a region (a region search).
    Their prefixes' texts are mostly those of the definitions at hand."""
    texts = sorted({text for d in definitions for text in PREFIXES[_prefix(d.regex)]})
    own = _encoded(texts)
    prefix_texts = own | own | own | own | _encoded(ALL_PREFIX_TEXTS)
    some_noise = st.lists(noise, max_size=1).map(b"".join)
    splices = _encoded(SPLICE_TOKENS)
    phrases = st.tuples(
        prefix_texts, numbers, _encoded(SEPARATOR_TOKENS), some_noise, st.integers(0, 40), splices
    ).map(_phrase)
    # Some end with a prefix's text alone: a `\s+` after it must not reach the next line.
    metric_lines = st.tuples(
        st.lists(phrases, min_size=1, max_size=4).map(b"".join),
        st.lists(prefix_texts, max_size=1).map(b"".join),
    ).map(b"".join)
    lines = metric_lines | metric_lines | st.lists(noise, max_size=4).map(b"".join)
    body = draw(st.lists(st.tuples(lines, st.sampled_from(LINE_ENDS)), min_size=1, max_size=12))
    log = b"".join(line + end for line, end in body)
    if draw(st.booleans()):
        log += draw(lines)  # no final line end
    return log * draw(st.sampled_from([1, 1, 1, 1, 24]))


@st.composite
def cuts(draw: st.DrawFn, log: bytes) -> list[int]:
    """Chunk boundaries: some anywhere, some where they are most awkward; repeated ones
    (and 0 or `len(log)`) feed empty chunks. Now and then a short log goes byte by byte."""
    if len(log) <= 400 and draw(st.integers(0, 9)) == 0:
        return list(range(1, len(log)))
    awkward = [
        i
        for i in range(1, len(log))
        if log[i - 1 : i + 1] == b"\r\n" or 0x80 <= log[i] <= 0xBF  # inside a character
    ]
    for sequence in _ANSI_SEQUENCE.finditer(log):
        awkward += range(sequence.start() + 1, sequence.end())
    found = draw(st.lists(st.integers(0, len(log)), max_size=6))
    if awkward:
        found += draw(st.lists(st.sampled_from(awkward), max_size=4))
    return sorted(found)


def parsed(
    definitions: Sequence[MetricDefinition],
    log: bytes,
    log_format: LogFormat,
    scanner: str,
    cuts: Sequence[int] = (),
    limits: ParserLimits = LIMITS,
) -> tuple[list[PointRow], int]:
    """The points as the oracle's rows, steps numbered per metric where no `step` group
    gave one, and the line count; the log fed in the pieces `cuts` make, then ended."""
    parser = Parser(compile_definitions(definitions, log_format), log_format, limits, scanner)
    state, points = StreamState(), list[Point]()
    for start, stop in itertools.pairwise([0, *cuts, len(log)]):
        result = parser.feed(state, log[start:stop])
        assert not result.timeouts, (scanner, result.timeouts)
        state = result.state
        points += result.points
    tail = parser.finish(state)
    assert not tail.timeouts, (scanner, tail.timeouts)
    return rows_of(number_points([*points, *tail.points], {})), tail.state.lines


def check_every_path(
    definitions: Sequence[MetricDefinition],
    log: bytes,
    log_format: LogFormat,
    cuts: Sequence[int],
    limits: ParserLimits = LIMITS,
) -> None:
    naive = naive_parse(definitions, log, log_format, limits.max_line_bytes)
    expected = (naive.points, naive.lines)
    for scanner in SCANNERS:
        whole = parsed(definitions, log, log_format, scanner, (), limits)
        assert whole == expected, scanner
        split = parsed(definitions, log, log_format, scanner, cuts, limits)
        assert split == expected, (scanner, cuts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(definitions(), st.sampled_from(list(LogFormat)), st.data())
def test_every_parser_path_gives_the_oracles_points(definitions, log_format, data):
    log = data.draw(logs(definitions), label="log")
    check_every_path(definitions, log, log_format, data.draw(cuts(log), label="cuts"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(definitions(), st.sampled_from(list(LogFormat)), st.integers(4, 40), st.data())
def test_lines_cut_at_the_line_limit_give_the_oracles_points(
    definitions, log_format, max_line_bytes, data
):
    # A line longer than the limit is matched on its first bytes, cut between
    # characters, also when it is held across chunks as a partial line.
    log = data.draw(logs(definitions), label="log")
    limits = dataclasses.replace(LIMITS, max_line_bytes=max_line_bytes)
    check_every_path(definitions, log, log_format, data.draw(cuts(log), label="cuts"), limits)


def test_a_cloudwatch_line_shows_its_carriage_return_as_the_contract_says():
    # `\r\n` ends a CloudWatch line at its `\n`, and the `\r` before it is the line's
    # last character, shown as `#015`: the oracle and every path agree.
    definitions = [
        MetricDefinition("loss", r"loss=(\S+)$"),
        MetricDefinition("cr", r"loss=([0-9]+)#015$"),
    ]
    log = b"loss=1\r\nloss=2\nloss=3\r"
    assert naive_parse(definitions, log, LogFormat.CLOUDWATCH).points == [
        ("cr", 1.0, 1, 1, 0),
        ("loss", 2.0, 1, 2, 8),
        ("cr", 3.0, 2, 3, 15),
    ]
    check_every_path(definitions, log, LogFormat.CLOUDWATCH, [7, 8, 22])
