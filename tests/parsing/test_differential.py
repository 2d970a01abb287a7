"""Every parsing path against the naive oracle, on generated logs and definitions.

The oracle (bench/naive.py) is written from the parsing contract alone: every line,
every definition, `regex.search`. The parser takes other roads (a literal scan picks
lines, line-bound regexes run once over a region, chunks split anywhere, two renderings
share one framing), and each must give exactly the oracle's points.
"""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from app.parsing import LogFormat, MetricDefinition, Parser, ParserLimits, compile_definitions
from app.parsing.dry_run import number_points
from app.parsing.prefilter import hyperscan_available
from app.records import StreamState
from bench.naive import naive_parse

SCANNERS = ["auto", "regex", "none"] if hyperscan_available() else ["regex", "none"]
# Generous: a time-out would make a point depend on the machine's load.
LIMITS = ParserLimits(max_line_bytes=96, regex_timeout=1.0, cpu_floor=60.0)

PREFIXES = [
    "loss=",
    "Loss = ",
    "acc:",
    "(?:loss|cost)=",
    "(?i)ppl ",
    "précision=",
    "#011auc:",
    r"\[(?P<step>\d+)\]\s*loss=",
    r"^step \d+ loss=",
    r"\bval_loss\s*[=:]\s*",
    "[lL]oss=",
    "",
]
CAPTURES = [
    "(.*?);",
    "([-+0-9.eE]+)",
    r"(\S+)",
    "([^;]*)",
    r"(\d+)",
    "([^ ]+)$",
    r"([-+]?[0-9]*\.?[0-9]+)(?=[,;\s])",
    "(?P<value>[0-9.]+)%",
]
RENDERINGS = [None, None, None, LogFormat.TEXT, LogFormat.CLOUDWATCH]
FRAGMENTS = [
    b"loss=",
    b"Loss = ",
    b"LOSS=",
    b"cost=",
    b"acc:",
    b"ppl ",
    b"PPL ",
    b"pr\xc3\xa9cision=",
    b"val_loss: ",
    b"[12] ",
    b"step 3 ",
    b"auc:",
    b"0.5",
    b"-1e-3",
    b"42",
    b"nan",
    b"93.3%",
    b";",
    b",",
    b" ",
    b"\t",
    b"x",
    b"\xe2\x82\xac",  # a character of three bytes
    b"\xf0\x9f\x98\x80",  # and of four
    b"\xff",  # not UTF-8
    b"\x1b[31m",
    b"\x1b[0m",
    b"\x1b]0;title\x07",
    b"\x00",
    b"\x7f",
    b"\r",
    b"\n",
    b"\r\n",
]


@st.composite
def definitions(draw: st.DrawFn) -> list[MetricDefinition]:
    count = draw(st.integers(1, 5))
    found = []
    for index in range(count):
        regex = draw(st.sampled_from(PREFIXES)) + draw(st.sampled_from(CAPTURES))
        found.append(MetricDefinition(f"m{index}", regex, draw(st.sampled_from(RENDERINGS))))
    return found


logs = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map(b"".join)


def parsed(definitions, log, log_format, scanner, cuts):
    """(metric, value, step, line, offset) of every point, fed in the pieces `cuts` make."""
    parser = Parser(compile_definitions(definitions, log_format), log_format, LIMITS, scanner)
    state, points = StreamState(), []
    bounds = [0, *sorted(cuts), len(log)]
    for start, stop in itertools.pairwise(bounds):
        result = parser.feed(state, log[start:stop])
        state = result.state
        points += result.points
    points += parser.finish(state).points
    return [(p.metric, p.value, p.step, p.line, p.offset) for p in number_points(points, {})]


@settings(max_examples=300, deadline=None)
@given(
    definitions=definitions(),
    log=logs,
    log_format=st.sampled_from(list(LogFormat)),
    data=st.data(),
)
def test_every_path_gives_the_oracles_points(definitions, log, log_format, data):
    expected = naive_parse(definitions, log, log_format, LIMITS.max_line_bytes).points
    cuts = data.draw(st.lists(st.integers(0, len(log)), max_size=6))
    for scanner in SCANNERS:
        assert parsed(definitions, log, log_format, scanner, []) == expected, scanner
        assert parsed(definitions, log, log_format, scanner, cuts) == expected, (scanner, cuts)


# What metric lines are made of: the prefixes' literals, numbers and separators.
METRIC_FRAGMENTS = [b"loss=", b"Loss = ", b"cost=", b"acc:", b"ppl ", b"val_loss: "]
METRIC_FRAGMENTS += [b"[12] ", b"step 3 ", b"auc:", b"0.5", b"-1e-3", b"42", b"93.3%"]
METRIC_FRAGMENTS += [b";", b",", b" ", b"\t"]


@settings(max_examples=150, deadline=None)
@given(definitions=definitions(), repeats=st.integers(70, 140), data=st.data())
def test_a_dense_region_run_once_over_its_lines_gives_the_oracles_points(
    definitions, repeats, data
):
    # Many lines carrying the literals: line-bound definitions run over the whole region.
    line = data.draw(st.lists(st.sampled_from(METRIC_FRAGMENTS), min_size=2, max_size=8))
    log = (b"".join(line) + b"\n") * repeats
    expected = naive_parse(definitions, log, LogFormat.TEXT, LIMITS.max_line_bytes).points
    for scanner in SCANNERS:
        assert parsed(definitions, log, LogFormat.TEXT, scanner, []) == expected, scanner
