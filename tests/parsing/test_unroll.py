"""`.*?` spelled to skip to where its continuation can start: same matches, fewer steps."""

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from app.parsing.unroll import unroll_lazy_dots

SKIP_TAB_AND_HASH = r"(?>[^\u0009\u0023\n]*)(?:[\u0009\u0023](?>[^\u0009\u0023\n]*))*?"


def test_sagemakers_xgboost_regex_skips_to_each_tab_and_hash():
    xgboost = r"\[(?<step>[0-9]+)\].*?(?:\t|#011)validation-error:(?<value>[0-9.]+)"
    assert unroll_lazy_dots(xgboost) == (
        r"\[(?<step>[0-9]+)\]"
        + SKIP_TAB_AND_HASH
        + r"(?:\t|#011)validation-error:(?<value>[0-9.]+)"
    )


@pytest.mark.parametrize(
    ("pattern", "unrolled"),
    [
        (r"a.*?b", r"a(?>[^\u0062\n]*)(?:[\u0062](?>[^\u0062\n]*))*?b"),
        (r".*?\[x", r"(?>[^\u005b\n]*)(?:[\u005b](?>[^\u005b\n]*))*?\[x"),
        (
            r"x.*?(b|cd)+",
            r"x(?>[^\u0062\u0063\n]*)(?:[\u0062\u0063](?>[^\u0062\u0063\n]*))*?(b|cd)+",
        ),
        (r"x.*?(?<n>é)", r"x(?>[^\u00e9\n]*)(?:[\u00e9](?>[^\u00e9\n]*))*?(?<n>é)"),
        # SageMaker's own example: the group the `.*?` ends is followed by `;`
        (r"Loss = (.*?);", r"Loss = ((?>[^\u003b\n]*)(?:[\u003b](?>[^\u003b\n]*))*?);"),
        (r"(?:a(.*?))b", r"(?:a((?>[^\u0062\n]*)(?:[\u0062](?>[^\u0062\n]*))*?))b"),
        (r"(a|.*?)b", r"(a|(?>[^\u0062\n]*)(?:[\u0062](?>[^\u0062\n]*))*?)b"),
        # a word boundary matches no character: the `I` after it starts the continuation
        (
            r"=(?<v>[0-9]+);.*?\bIteration",
            r"=(?<v>[0-9]+);(?>[^\u0049\n]*)(?:[\u0049](?>[^\u0049\n]*))*?\bIteration",
        ),
        (r"a.*?\B-", r"a(?>[^\u002d\n]*)(?:[\u002d](?>[^\u002d\n]*))*?\B-"),
    ],
)
def test_a_continuation_that_starts_with_known_characters_is_skipped_to(pattern, unrolled):
    assert unroll_lazy_dots(pattern) == unrolled


@pytest.mark.parametrize(
    "pattern",
    [
        r"a.*?",  # nothing follows
        r"(.*?)+;",  # the group the `.*?` ends is repeated: it may follow itself
        r"(.*?)?;",
        r"(.*?){2};",
        r"(?>.*?);",  # an atomic group: its `.*?` is never tried further
        r"(?=.*?);",  # a look-ahead
        r"(?|(.*?));",  # a branch reset, which the module does not read
        r"(.*?)",  # nothing follows the group
        r"a.*?\b",  # nothing follows the word boundary
        r"a.*?\bb?c",  # what follows the word boundary may match nothing
        r"a.*?b?c",  # the continuation may match nothing
        r"a.*?b*c",
        r"a.*?b{0,2}c",
        r"a.*?(?:b|)c",  # an empty alternative
        r"a.*?(?:b|c)?d",  # an optional group
        r"a.*?[bc]",  # a class
        r"a.*?\d",
        r"a.*?\x41",
        r"a.*?(?=b)b",  # a look-ahead
        r"(?i)a.*?b",  # inline flags: case folding, or `.` matching `\n`
        r"(?s)a.*?b",
        r"a(?i:x).*?b",
        r"(?<=a.*?b)c",  # inside a look-behind, matched backwards
        r"\.*?b",  # an escaped dot
        r"[.]*?b",  # a dot in a set
        r"a.*?\nb",  # a `\n` continuation
    ],
)
def test_anything_it_cannot_read_for_certain_is_left_as_it_is(pattern):
    assert unroll_lazy_dots(pattern) == pattern


# (continuation, whether `.*?` before it is rewritten)
CONTINUATIONS = [
    ("b", True),
    (r"\t", True),
    ("#0", True),
    (r"(?:\t|#011)x", True),
    ("(b|#)+", True),
    ("(?<v>b[0-9]*)", True),
    ("bb?", True),
    ("b?#", False),  # may start with `#` as well: must be left alone
    ("(?:b|#)?x", False),
    ("b*;", False),
]
PREFIXES = ["", "a", r"\[(?<s>[0-9]+)\]", "(?:a|#)", "^", r"\b"]
SUFFIXES = ["", "([0-9]+)", "$", "x", r"(?:;|$)"]
# How the `.*?` stands before its continuation: (opening, closing, whether the
# continuation is still read). A group it ends is looked through when matched once.
SPELLINGS = [
    ("", "", True),
    ("(", ")", True),
    ("(?:", ")", True),
    ("(?<g>", ")", True),
    ("(b|", ")", True),
    ("", r"\b", True),
    ("(", r")\B", True),
    # (`(.*?)+` is left alone too, but backtracks exponentially on a text without a match)
    ("(", "){2}", False),
    ("(", ")?", False),
    ("(?>", ")", False),
]


@settings(max_examples=600, deadline=None)
@given(
    prefix=st.sampled_from(PREFIXES),
    spelling=st.sampled_from(SPELLINGS),
    continuation=st.sampled_from(CONTINUATIONS),
    suffix=st.sampled_from(SUFFIXES),
    wrapped=st.booleans(),
    text=st.text(alphabet="ab#0119x;[]\t\n é", max_size=60),
    flags=st.sampled_from([0, regex.MULTILINE]),
)
def test_the_unrolled_pattern_finds_exactly_what_the_lazy_one_finds(
    prefix, spelling, continuation, suffix, wrapped, text, flags
):
    opening, closing, read = spelling
    continuation, rewritten = continuation
    lazy = (
        f"{prefix}{'(?:' if wrapped else ''}{opening}.*?{closing}{continuation}"
        f"{')' if wrapped else ''}{suffix}"
    )
    unrolled = unroll_lazy_dots(lazy)
    assert (unrolled != lazy) == (rewritten and read)
    old, new = regex.compile(lazy, flags), regex.compile(unrolled, flags)
    assert [(m.span(), m.groups()) for m in new.finditer(text)] == [
        (m.span(), m.groups()) for m in old.finditer(text)
    ]
    assert [(m.span(), m.groups()) for m in new.finditer(text, overlapped=True)] == [
        (m.span(), m.groups()) for m in old.finditer(text, overlapped=True)
    ]
    for line in text.split("\n"):  # searched a line at a time, as the parser does
        found, expected = new.search(line), old.search(line)
        assert (found and (found.span(), found.groups())) == (
            expected and (expected.span(), expected.groups())
        )
