"""The cost of a regex, judged from its text before it is compiled."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import InvalidMetricDefinition
from app.parsing import MetricDefinition, compile_definitions
from app.parsing.patterns import MAX_PATTERN_COST, pattern_cost
from app.parsing.unroll import unroll_lazy_dots


@pytest.mark.parametrize(
    ("pattern", "cost"),
    [
        ("Loss = (.*?);", 9),
        (r"[0-9]{4}-(\d{2})", 7),  # a class and an escape are one atom each
        ("(a{1000007})", 1_000_007),
        ("((?:ab|cd){1000000})", 6_000_000),  # `?:` counts one: never less than real
        ("((a{10}){10}){10}", 1000),  # nested counts multiply
        ("(x{3,})", 4),  # {n,} is n copies and a loop
        ("(a{,5})", 5),
        (r"\p{L}{2}(x)", 3),  # \p{L} is an atom, not a repeat of `p`
        ("([{}])", 1),  # braces in a class are characters
        ("(a){", 2),  # a `{` that is no repeat is a character
        ("(a)(?#{1000000})", 1),  # a comment counts nothing
        (r"(a\{1000000\})", 10),  # escaped braces are characters
        ("(a){99999999999999999999}", 99_999_999_999_999_999_999),
    ],
)
def test_the_cost_of_a_pattern(pattern, cost):
    assert pattern_cost(pattern) == cost


@pytest.mark.parametrize("pattern", ["((?:ab|cd){1000000})", "(a{1000007})", "(a{100}){100}"])
def test_a_pattern_that_would_expand_too_far_is_refused_before_compiling(pattern):
    with pytest.raises(InvalidMetricDefinition) as refused:
        compile_definitions([MetricDefinition("x", pattern)])

    assert refused.value.message.startswith(
        f"metric definition 0 ('x'): the regex would expand to {pattern_cost(pattern)} atoms"
    )
    assert refused.value.message.endswith(f"at most {MAX_PATTERN_COST} are allowed")


def test_sagemakers_own_regexes_cost_little():
    xgboost = r".*\[[0-9]+\].*#011validation-auc:([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?).*"
    assert pattern_cost(xgboost) < 100
    assert compile_definitions([MetricDefinition("auc", xgboost)])[0].name == "auc"


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("ab()[]{}|*+?.,\\^$:#-0123456789pPN<>=!")),
        min_size=1,
        max_size=60,
    )
)
def test_any_pattern_text_compiles_or_is_refused_with_a_reason(pattern):
    # Never a crash, never another exception: only a definition or a clear refusal.
    try:
        compiled = compile_definitions([MetricDefinition("x", pattern)])
    except InvalidMetricDefinition as refused:
        assert refused.message.startswith("metric definition 0 ('x'): ")
    else:
        assert compiled[0].regex == pattern
        assert compiled[0].pattern.pattern == unroll_lazy_dots(pattern)
        assert pattern_cost(pattern) <= MAX_PATTERN_COST
