"""The compiled core against the naive oracle and the `regex` module, on generated regexes.

Hypothesis writes regexes from a grammar of what `app.parsing.core_patterns` accepts:
literals (ASCII, Latin-1, Greek, Cyrillic, CJK, emoji, and the characters case folding
treats specially: K U+212A, long s U+017F, sharp s and its capital, dotted and dotless i,
the three sigmas), classes and negated classes with ranges and `\\d \\w \\s \\D \\W \\S`,
`.`, the flags `(?i) (?s) (?a)` and scoped `(?i:...)`, alternation, capturing,
non-capturing and named groups (`step` and `value` among them), greedy and lazy
`* + ? {m,n}`, the anchors `^ $ \\A \\Z \\b`, look-aheads and fixed-width look-behinds.
Each regex comes with texts its parts match, and logs are built from those, from numbers
in many spellings and from the characters that tell engines apart (case folding, Unicode
digits and spaces, combining marks, ANSI sequences, control characters, bytes that are
not UTF-8, `\\r` and `\\r\\n`, lines over a small line limit).

A job holds one to three such definitions, some with a rendering of their own (or
CloudWatch's `#011` in their regex), and now and then a back-reference that the `regex`
module matches beside them. The core must take every generated definition
(`Parser.matched_by()`); the few regexes it refuses are left out (`assume`), and a test
checks the grammar mostly writes regexes it takes. Then `Parser(scanner="auto")` must
give the oracle's points and line count, whole and in chunks split anywhere, on both log
formats, and the same points, rejections and line count as `Parser(scanner="none")`,
which never uses the core.
"""

# ruff: noqa: RUF001 (the characters that look like others are what this test is about)
from __future__ import annotations

import dataclasses
import itertools
import re
from collections import Counter
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app.errors import InvalidMetricDefinition
from app.parsing import (
    LogFormat,
    MetricDefinition,
    Parser,
    ParserLimits,
    compile_definitions,
    number_points,
)
from app.parsing.core import core_status
from app.records import Point, StreamState
from tests.parsing.naive import naive_parse, rows_of
from tests.parsing.test_differential import cuts

pytestmark = pytest.mark.skipif(
    core_status().startswith("pure Python"), reason=f"no compiled core: {core_status()}"
)

# As test_differential's: no clock decides (a search may take seconds, a definition a
# minute a chunk), and every rejection is kept so that two paths' can be compared.
LIMITS = ParserLimits(regex_timeout=5.0, cpu_floor=60.0, rejections_kept=100_000)
CORE = "compiled core"
NAMES = ["loss", "acc", "損失", "précision", "lr"]

# A part of a regex: its source, and texts it matches (or nearly).
Part = tuple[str, tuple[str, ...]]

# Characters written as literals, each with texts that case folding may take for it.
LITERALS: dict[str, tuple[str, ...]] = {
    "a": ("a", "A"),
    "k": ("k", "K", "\u212a"),
    "s": ("s", "S", "\u017f"),
    "i": ("i", "I", "\u0130", "\u0131"),
    "x": ("x", "X"),
    "=": ("=",),
    ":": (":",),
    " ": (" ", "\u00a0"),
    "-": ("-",),
    "_": ("_",),
    ".": (".",),
    "/": ("/",),
    "é": ("é", "É", "e\u0301"),
    "ß": ("ß", "\u1e9e", "ss"),
    "ÿ": ("ÿ", "Ÿ"),
    "σ": ("σ", "ς", "Σ"),
    "д": ("д", "Д"),
    "損": ("損",),
    "失": ("失",),
    "😀": ("😀",),
    "\u212a": ("\u212a", "k", "K"),
    "\u017f": ("\u017f", "s", "S"),
    "\u0131": ("\u0131", "I", "i"),
    "\u0130": ("\u0130", "i"),
    "\u1e9e": ("\u1e9e", "ß"),
}
# Character classes and what they may match.
CLASSES: dict[str, tuple[str, ...]] = {
    r"\d": ("7", "٣", "３"),
    r"\w": ("w", "é", "_", "٣", "\u0301", "損"),
    r"\s": (" ", "\t", "\u00a0", "\u3000", "\u2028", "\u0085"),
    r"\D": ("x", "٣", ";"),
    r"\W": (";", " ", "\u0301", "😀"),
    r"\S": ("x", "\u00a0", "損"),
    ".": ("x", "\t", " ", "😀"),
    "[a-z]": ("q", "Q", "\u212a", "\u017f"),
    "[A-Z]": ("Q", "q", "\u212a", "\u0130"),
    "[^;,]": ("x", ";", ","),
    "[^\\s;]": ("x", " ", ";"),
    "[α-ω]": ("λ", "Λ", "ς", "Σ"),
    "[а-яё]": ("ж", "Ж", "ё", "Ё"),
    "[\\d.]": ("5", ".", "٣"),
    "[\\w-]": ("w", "-", "é"),
    "[^\\d]": ("x", "5", "٣"),
    "[kK]": ("k", "K", "\u212a"),
    "[ßs]": ("ß", "s", "\u1e9e", "\u017f"),
    "[^a-z]": ("Q", "q", "5"),
    "[\\W\\d]": ("5", ";", "x"),
    "[😀-😎]": ("😀", "😎"),
}
# What a value group captures, and how logs write numbers.
VALUE_BODIES = [
    r"[\d.eE+-]+",
    r"\S+",
    r"[^;\s]+?",
    r"-?\d+(?:\.\d+)?",
    r"[0-9.]+|nan|inf",
    r".*?",
    r"\w+",
    r"[^,;]*",
    r"(?:\d|[.])+",
    r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?",
    r"\d{1,3}",
    r"[\d_]+",
]
NUMBERS = ["0.5", "1e5", "+.5", "5.", "-3", "7", "1_0", "١٢", "１２", "nan", "NaN", "inf"]
NUMBERS += ["1e999", "-2.5e-3", " 4 ", "", "0x1F", "1.2.3", "93.3%", "9" * 20, "n/a"]
STEP_BODIES = [r"\d+", r"[-+]?\d+", r"\S+?", r"[^\s]+", r"\d{1,20}"]
STEPS = ["7", "007", "9223372036854775808", "-9223372036854775808", "+5", "١", "x", ""]
# Between the regex's parts, and on lines of their own.
NOISE = [
    "",
    " ",
    "\t",
    "K",
    "\u212a",
    "\u017f",
    "ß",
    "\u1e9e",
    "\u0130",
    "\u0131",
    "σ",
    "ς",
    "Σ",
    "٣",
    "３",
    "\u0301",
    "\u00a0",
    "\u2003",
    "\u3000",
    "\x1b[31m",
    "\x1b[0m",
    "\x1b]0;title\x07",
    "\x1b]8;;http://x\x1b\\",
    "\x1b",
    "\x00",
    "\x07",
    "\x0b",
    "\x7f",
    "\x85",
    "\r",
    "😀",
    "損",
    ";",
    ",",
]
INVALID_UTF8 = [b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\x80"]
LINE_ENDS = [b"\n", b"\n", b"\n", b"\r\n", b"\r"]
# How a regex ends, and what its lines have there.
ENDS = {
    "": ("", ";", " "),
    "$": ("",),
    r"\Z": ("",),
    r"\b": ("", " ", ";"),
    ";": (";",),
    r"\s*$": ("", " ", "\t"),
}
# Groups around an alternation. Not `(?a:`, which the core refuses: the `regex` module
# applies it to some classes in the group and not others (test_core.py).
OPENERS = ["(?:", "(?:", "(?i:", "(?s:", "(?-i:", "(?is:"]
# A definition's own rendering: mostly the job's.
RENDERINGS = [None, None, None, None, LogFormat.TEXT, LogFormat.CLOUDWATCH]
FLAGS = ["", "", "", "(?i)", "(?s)", "(?a)", "(?i)(?a)", "(?is)"]


def sample_of(texts: Sequence[str]) -> st.SearchStrategy[tuple[str, ...]]:
    """Some of `texts`, mostly the first (which the part surely matches)."""
    return st.lists(st.sampled_from([texts[0]] * 3 + list(texts)), min_size=1, max_size=3).map(
        tuple
    )


@st.composite
def atom(draw: st.DrawFn) -> Part:
    """One character's worth: a literal or a class."""
    if draw(st.booleans()):
        char = draw(st.sampled_from(sorted(LITERALS)))
        return re.escape(char), draw(sample_of(LITERALS[char]))
    source = draw(st.sampled_from(sorted(CLASSES)))
    return source, draw(sample_of(CLASSES[source]))


def literal_run(draw: st.DrawFn, size: int) -> Part:
    """Literals in a row (a look-behind's fixed width among them)."""
    chars = draw(st.lists(st.sampled_from(sorted(LITERALS)), min_size=size, max_size=size))
    source = "".join(re.escape(char) for char in chars)
    texts = tuple("".join(draw(sample_of(LITERALS[char]))[0] for char in chars) for _ in range(2))
    return source, texts


def quantified(draw: st.DrawFn, part: Part) -> Part:
    """`part` repeated: greedy or lazy `* + ? {m,n}` (the part never matches empty)."""
    source, texts = part
    low, high, spelled = draw(
        st.sampled_from(
            [(0, 3, "*"), (1, 3, "+"), (0, 1, "?"), (2, 3, "{2,3}"), (1, 2, "{1,2}"), (3, 3, "{3}")]
        )
    )
    lazy = "?" if draw(st.booleans()) else ""
    wrapped = source if source in CLASSES else f"(?:{source})"
    count = draw(st.integers(low, high))
    return wrapped + spelled + lazy, tuple(
        "".join(draw(st.sampled_from(texts)) for _ in range(count)) for _ in range(2)
    )


@st.composite
def part(draw: st.DrawFn, depth: int = 0, capturing: bool = True) -> Part:
    """A piece of a regex outside its value group; with `capturing`, it may hold a
    capturing group (not in a look-around: the core refuses those)."""
    kind = draw(st.integers(0, (9 if capturing else 8) if depth < 2 else 3))
    if kind == 0:
        if draw(st.integers(0, 9)) == 0:  # CloudWatch's tab: matched in its rendering
            return "#011", ("\t", "#011")
        return literal_run(draw, draw(st.integers(1, 4)))
    if kind in (1, 2):
        return draw(atom())
    if kind == 3:
        return quantified(draw, draw(atom()))
    if kind == 4:  # an alternation in a group of some kind
        branches = draw(st.lists(part(depth + 1, capturing), min_size=2, max_size=3))
        opener = draw(st.sampled_from(OPENERS))
        source = opener + "|".join(source for source, _ in branches) + ")"
        return source, tuple(text for _, texts in branches for text in texts)
    if kind == 5:  # a run of parts, repeated, one of them never empty (else refused)
        solid = literal_run(draw, 2) if draw(st.booleans()) else draw(atom())
        inner = [solid, *draw(st.lists(part(depth + 1, capturing), max_size=2))]
        inner = draw(st.permutations(inner))
        source = "".join(source for source, _ in inner)
        texts = tuple("".join(draw(st.sampled_from(t)) for _, t in inner) for _ in range(2))
        return quantified(draw, (f"(?:{source})", texts))
    if kind == 6:  # a word boundary
        return r"\b", ("",)
    if kind == 7:  # a look-ahead
        source, texts = draw(part(depth + 1, capturing=False))
        if draw(st.booleans()):
            return f"(?={source}){source}", texts
        return f"(?!{source})", ("",)
    if kind == 8:  # a fixed-width look-behind: literals and classes, one character each
        width = draw(st.integers(1, 3))
        run, texts = literal_run(draw, width)
        behind = "".join(draw(atom())[0] for _ in range(width))
        if draw(st.booleans()):
            behind = run
        if draw(st.booleans()):
            return f"{run}(?<={behind})", texts
        return f"(?<!{behind}){run}", texts
    # a capturing group (the value group is then named)
    inner, texts = draw(part(depth + 1, capturing))
    return f"({inner})", texts


@dataclasses.dataclass(frozen=True)
class Definition:
    """A generated definition and the texts its parts match, in order."""

    definition: MetricDefinition
    parts: tuple[tuple[str, ...], ...]


@st.composite
def definition(draw: st.DrawFn, name: str) -> Definition:
    flags = draw(st.sampled_from(FLAGS))
    start = draw(st.sampled_from(["", "", "", "^", r"\A", r"\b"]))
    prefix = draw(st.lists(part(), max_size=3))
    captures = any("(" in source.replace("(?", "") for source, _ in prefix)
    value = draw(st.sampled_from(VALUE_BODIES))
    named = captures or draw(st.booleans())
    value_group = f"(?P<value>{value})" if named else f"({value})"
    if draw(st.integers(0, 5)) == 0:  # a value group that may be unset: rejected with ""
        value_group = f"(?:{value_group}|n/a)"
    suffix = draw(st.lists(part(), max_size=2))
    end = draw(st.sampled_from(sorted(ENDS)))
    parts: list[Part] = [(flags + start, ("",)), *prefix]
    if draw(st.integers(0, 3)) == 0:  # a step before the value
        step = f"step(?P<step>{draw(st.sampled_from(STEP_BODIES))})[ =:]"
        parts.append((step, tuple(f"step{s} " for s in STEPS)))
    parts += [(value_group, tuple(NUMBERS)), *suffix, (end, ENDS[end])]
    regex = "".join(source for source, _ in parts)
    rendering = draw(st.sampled_from(RENDERINGS))
    return Definition(MetricDefinition(name, regex, rendering), tuple(texts for _, texts in parts))


# The core refuses back-references: this one goes by the regex module in every job.
BY_REGEX = Definition(
    MetricDefinition("bref", r"(\w)\1=(?P<value>\S+)"), (("xx=", "aa=", "ab="), tuple(NUMBERS))
)
BY_REGEX_WAY = "regex module: a back-reference"


@st.composite
def jobs(draw: st.DrawFn) -> list[Definition]:
    """One to three generated definitions, and now and then one the core refuses (a
    back-reference) among them: its points fall in line order between the core's."""
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
    job = [draw(definition(name)) for name in names]
    if draw(st.integers(0, 3)) == 0:
        job.insert(draw(st.integers(0, len(job))), BY_REGEX)
    return job


@st.composite
def logs(draw: st.DrawFn, job: Sequence[Definition]) -> bytes:
    """Lines that follow a definition's parts (a number in its value's place), some with
    noise spliced in, and noise lines; line ends of every kind."""
    noise = st.sampled_from([text.encode() for text in NOISE]) | st.sampled_from(INVALID_UTF8)

    def following(parts: tuple[tuple[str, ...], ...]) -> bytes:
        pieces = [draw(st.sampled_from([texts[0], *texts])).encode() for texts in parts]
        if draw(st.integers(0, 3)) == 0:
            at = draw(st.integers(0, len(pieces)))
            pieces.insert(at, draw(noise))
        return b"".join(pieces)

    lines = []
    for _ in range(draw(st.integers(1, 10))):
        if draw(st.integers(0, 4)) == 0:
            line = b"".join(draw(st.lists(noise, max_size=4)))
        else:
            chosen = draw(st.lists(st.sampled_from(job), min_size=1, max_size=2))
            line = b"".join(following(d.parts) for d in chosen)
        lines.append(line + draw(st.sampled_from(LINE_ENDS)))
    log = b"".join(lines)
    if draw(st.booleans()):
        log = log.rstrip(b"\r\n")  # the last line without its end
    return log


@dataclasses.dataclass(frozen=True)
class Parsed:
    points: tuple[Point, ...]
    rejections: tuple[tuple[str, int, int, str | None, str], ...]
    rejected: dict[str, int]
    lines: int


def parse(parser: Parser, log: bytes, cut_at: Sequence[int] = ()) -> Parsed:
    """The log fed in the pieces `cut_at` makes, then ended."""
    state, points, rejections, rejected = StreamState(), list[Point](), [], Counter[str]()
    for start, stop in itertools.pairwise([0, *cut_at, len(log)]):
        result = parser.feed(state, log[start:stop])
        state = result.state
        points += result.points
        rejections += result.rejections
        rejected.update(result.rejected)
        assert not result.timeouts, result.timeouts
    tail = parser.finish(state)
    assert not tail.timeouts, tail.timeouts
    rejected.update(tail.rejected)
    return Parsed(
        (*points, *tail.points),
        tuple(map(tuple, [*rejections, *tail.rejections])),
        dict(rejected),
        tail.state.lines,
    )


def check_core(
    job: Sequence[Definition],
    log: bytes,
    log_format: LogFormat,
    cut_at: Sequence[int],
    limits: ParserLimits = LIMITS,
) -> None:
    definitions = [d.definition for d in job]
    try:
        compiled = compile_definitions(definitions, log_format)
    except InvalidMetricDefinition:  # too long a regex, or too costly
        compiled = None
    assume(compiled is not None)
    core = Parser(compiled, log_format, limits, "auto")
    ways = core.matched_by()
    assert ways.pop(BY_REGEX.definition.name, BY_REGEX_WAY) == BY_REGEX_WAY
    # The few the core refuses (`test_the_grammar_mostly_writes_regexes_the_core_takes`).
    assume(all(way == CORE for way in ways.values()))
    plain = Parser(compiled, log_format, limits, "none")
    naive = naive_parse(definitions, log, log_format, limits.max_line_bytes)
    expected = parse(plain, log)
    assert (rows_of(number_points(expected.points, {})), expected.lines) == (
        naive.points,
        naive.lines,
    )
    for pieces in ((), cut_at):
        got = parse(core, log, pieces)
        assert got == expected, pieces
        assert (rows_of(number_points(got.points, {})), got.lines) == (naive.points, naive.lines)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(jobs(), st.sampled_from(list(LogFormat)), st.data())
def test_the_core_gives_the_oracles_points_and_the_regex_modules_rejections(job, log_format, data):
    log = data.draw(logs(job), label="log")
    check_core(job, log, log_format, data.draw(cuts(log), label="cuts"))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(jobs(), st.sampled_from(list(LogFormat)), st.integers(4, 40), st.data())
def test_lines_over_a_small_limit_give_the_oracles_points(job, log_format, limit, data):
    log = data.draw(logs(job), label="log")
    limits = dataclasses.replace(LIMITS, max_line_bytes=limit)
    check_core(job, log, log_format, data.draw(cuts(log), label="cuts"), limits)


def test_the_grammar_mostly_writes_regexes_the_core_takes():
    counts: Counter[str] = Counter()

    @settings(max_examples=300, deadline=None, database=None)
    @given(jobs())
    def count(job):
        try:
            compiled = compile_definitions([d.definition for d in job])
        except InvalidMetricDefinition:
            counts.update(["invalid"])
            return
        ways = Parser(compiled).matched_by()
        ways.pop(BY_REGEX.definition.name, None)
        counts.update(way if way != CORE else "taken" for way in ways.values())

    count()
    taken = counts["taken"] / sum(counts.values())
    assert taken >= 0.9, counts.most_common()


@pytest.mark.parametrize(
    ("regex", "reason"),
    [
        (r"(\w)\1=(?P<value>\d+)", "a back-reference"),
        (r"x\B(\d+)", "\\B"),
        (r"(?>a+)=(\d+)", "an atomic group"),
        (r"a++=(\d+)", "a possessive repeat"),
        (r"(?:a?)*=(\d+)", "a repeat of what can match the empty string"),
        (r"(?:x|)+=(\d+)", "a repeat of what can match the empty string"),
        (r"(?<=a|bc)(\d+)", "a look-behind of varying width"),
        (r"(?=(\d))(\d+)", "a group inside a look-around"),
        (r"(?<=(a))(\d+)", "a group inside a look-around"),
        (r"(a)?(?(1)b|c)(\d+)", "a conditional group"),
        (r"d=(\d+)(?a:\W)", "a scoped (?a:...) group"),
        # `regex` reads a POSIX class where the standard parser sees a set and a `]`.
        (r"[[:alpha:]]=(\d)", "a POSIX class"),
        (r"[[:^alpha:]]=(\d)", "a POSIX class"),
        (r"id=[a[:digit:]]+ loss=(\S+)", "a POSIX class"),
        # Which non-ASCII characters VERBOSE skips as white space, the two parsers may differ.
        ("(?x)loss\u3000=(\\d+)", "VERBOSE with non-ASCII characters"),
    ],
)
def test_constructs_the_core_does_not_take_are_left_to_the_regex_module(regex, reason):
    parser = Parser(compile_definitions([MetricDefinition("m", regex)]))
    assert parser.matched_by() == {"m": f"regex module: {reason}"}
