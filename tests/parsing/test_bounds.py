"""Which regexes can run once over many lines: `line_bound` and what it promises."""

from __future__ import annotations

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from app.parsing.bounds import line_bound, stays_in_line


def test_regexes_that_cannot_reach_a_line_end_run_as_they_are():
    for pattern in (
        r"Loss = (.*?);",
        r"^(\d+)$",
        r"\bppl[ =:]+([0-9.]+)",
        r"(?<=a)b(\d)",
        r"(?i)acc=(\S+)",
        r".*\[[0-9]+\].*#011validation-auc:([0-9.]+).*",
        r"(a)(?(1)b|c)(\d)",
        r"[^\n]x(\d)",
    ):
        assert stays_in_line(pattern), pattern
        assert line_bound(pattern) == pattern


def test_classes_that_hold_a_line_end_get_a_guard():
    assert line_bound(r"val_loss=([^;]+);") == r"val_loss=((?:(?!\n)[^;])+);"
    assert line_bound(r"x\s+(\d)") == r"x(?:(?!\n)\s)+(\d)"
    assert line_bound(r"a(\W)(?=[,\s])") == r"a((?:(?!\n)\W))(?=(?:(?!\n)[,\s]))"
    # A set without a line end keeps its speed: no guard.
    assert line_bound(r"a([0-9]+)[^;\s]") == r"a([0-9]+)[^;\s]"


def test_what_cannot_be_proven_is_searched_line_by_line():
    for pattern in (
        r"(?s)a(.*)",  # `.` takes `\n`
        r"a\n(\d)",  # a line end itself
        r"\Aa(\d)",  # the text's start is not each line's
        r"a(\d)\Z",
        r"a[[b]](\d)",  # a nested set: `regex` and `re` read it differently
        r"a(?-m:^)(\d)",
        r"a{e<=1}(\d)",  # fuzzy matching: `regex` only
        r"\Qa.b\E(\d)",
    ):
        assert line_bound(pattern) is None, pattern


PIECES = [
    "a",
    "b",
    ";",
    " ",
    r"\s",
    r"\S+",
    r"\W",
    r"\d+",
    "[^;]*",
    "[^;]+?",
    "[a ]+",
    ".*",
    ".*?",
    "^",
    "$",
    r"\b",
    "(?=[; ])",
    r"(?!\s)",
    r"(?<=\s)",
    r"(?<![a;])",
    "(?:a|b;)",
]


@settings(max_examples=400, deadline=None)
@given(
    pieces=st.lists(st.sampled_from(PIECES), min_size=1, max_size=6),
    lines=st.lists(st.text(alphabet="ab; 1\t", max_size=8), min_size=1, max_size=6),
)
def test_one_search_of_the_joined_lines_finds_each_lines_own_first_match(pieces, lines):
    pattern = "".join(pieces[:1]) + "(" + "".join(pieces[1:]) + ")"
    bound = line_bound(pattern)
    if bound is None:
        return
    alone = [
        None if (m := regex.search(pattern, line)) is None else (m.span(), m.group(1))
        for line in lines
    ]
    text = "\n".join(lines)
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    together: list[tuple[tuple[int, int], str] | None] = [None] * len(lines)
    for match in regex.compile(bound, regex.MULTILINE).finditer(text):
        index = max(i for i, start in enumerate(starts) if start <= match.start())
        if together[index] is None:
            start = starts[index]
            span = (match.start() - start, match.end() - start)
            together[index] = (span, match.group(1))
    assert together == alone, (pattern, bound, lines)
