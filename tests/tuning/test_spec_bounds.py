"""A search's ranges stay finite and in range, and numbers given as text are ASCII."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.protocol.ranges import ContinuousRange, IntegerRange, parse_integer, parse_number
from app.protocol.search import SearchSpec
from app.tuning.suggest import suggest


def search(**ranges):
    return SearchSpec.model_validate(
        {
            "strategy": "Random",
            "command": ["true"],
            "resource_limits": {"max_number_of_training_jobs": 5},
            "parameter_ranges": ranges,
        }
    )


def test_a_range_wider_than_any_float_is_refused():
    # Its draws were low + u * (high - low): lr="inf" (and Optuna's an OverflowError).
    with pytest.raises(ValidationError, match="lr: MaxValue - MinValue must be a finite number"):
        search(ContinuousParameterRanges=[{"Name": "lr", "MinValue": -1e308, "MaxValue": 1e308}])


@pytest.mark.parametrize("bound", ["inf", "-inf", "nan", "1e400", float("inf"), float("nan")])
def test_a_bound_that_is_not_finite_is_refused(bound):
    with pytest.raises(ValidationError, match=r"finite|not a number|too large"):
        ContinuousRange.model_validate({"Name": "lr", "MinValue": 0, "MaxValue": bound})


def test_the_widest_range_a_float_holds_hands_out_finite_values_within_it():
    low, high = -8e307, 8.9e307
    spec = search(ContinuousParameterRanges=[{"Name": "lr", "MinValue": low, "MaxValue": high}])
    for index in range(50):
        value = float(suggest(spec, index, [], maximize=True)["lr"])
        assert math.isfinite(value)
        assert low <= value <= high


FINITE = st.floats(allow_nan=False, allow_infinity=False)
SHARE = st.floats(min_value=0, max_value=1)


@settings(max_examples=500)
@given(bounds=st.tuples(FINITE, FINITE), share=SHARE)
def test_value_at_lies_in_a_linear_range_and_never_overflows(bounds, share):
    low, high = sorted(bounds)
    # The widest a range may be: the width itself must be a float.
    if not math.isfinite(high - low):
        return
    found = ContinuousRange(name="x", min_value=low, max_value=high).value_at(share)
    assert math.isfinite(found) and low <= found <= high


@settings(max_examples=300)
@given(
    bounds=st.tuples(
        st.floats(min_value=5e-324, max_value=1.7e308),
        st.floats(min_value=5e-324, max_value=1.7e308),
    ),
    share=SHARE,
)
def test_value_at_lies_in_a_logarithmic_range(bounds, share):
    low, high = sorted(bounds)
    scaled = ContinuousRange(name="x", min_value=low, max_value=high, scaling_type="Logarithmic")
    found = scaled.value_at(share)
    assert math.isfinite(found) and low <= found <= high


@settings(max_examples=300)
@given(bounds=st.tuples(st.floats(0, 0.9999999), st.floats(0, 0.9999999)), share=SHARE)
def test_value_at_lies_in_a_reverse_logarithmic_range(bounds, share):
    low, high = sorted(bounds)
    scaled = ContinuousRange(
        name="x", min_value=low, max_value=high, scaling_type="ReverseLogarithmic"
    )
    found = scaled.value_at(share)
    assert low <= found <= high


def test_value_at_spreads_as_the_samplers_do():
    linear = ContinuousRange(name="x", min_value=-1e308, max_value=7e307)
    assert (linear.value_at(0), linear.value_at(1)) == (-1e308, 7e307)
    logarithmic = ContinuousRange(
        name="x", min_value=1e-3, max_value=1e3, scaling_type="Logarithmic"
    )
    assert logarithmic.value_at(0.5) == pytest.approx(1)
    reverse = ContinuousRange(
        name="x", min_value=0.9, max_value=0.999, scaling_type="ReverseLogarithmic"
    )
    # Uniform in log(1 - x): halfway is 1 - sqrt(0.1 * 0.001), near the top.
    assert reverse.value_at(0.5) == pytest.approx(1 - math.sqrt(0.1 * 0.001))
    draws = [linear.value_at(random.Random(seed).random()) for seed in range(100)]
    assert all(math.isfinite(v) for v in draws)


@pytest.mark.parametrize(
    ("low", "high", "scaling"),
    [(0.001, 0.1, "Linear"), (1e-5, 10, "Logarithmic"), (0.9, 0.999, "ReverseLogarithmic")],
)
def test_value_at_a_draw_is_what_random_search_drew_from_it(low, high, scaling):
    # Random search now samples with value_at; a seed still picks the values it did when
    # it drew with rng.uniform on the range's scale (these three lines).
    spread = ContinuousRange(name="x", min_value=low, max_value=high, scaling_type=scaling)
    for seed in range(50):
        rng = random.Random(seed)
        if scaling == "Logarithmic":
            drawn = math.exp(rng.uniform(math.log(low), math.log(high)))
        elif scaling == "ReverseLogarithmic":
            drawn = 1 - math.exp(rng.uniform(math.log(1 - high), math.log(1 - low)))
        else:
            drawn = rng.uniform(low, high)
        assert spread.value_at(random.Random(seed).random()) == pytest.approx(drawn, rel=1e-12)


NOT_INTEGERS = ["٣", "1_0", " 3", "3 ", "3.0", "0x10", "", "+", "三", "1e3", "\u0661\u0662"]


@pytest.mark.parametrize("text", NOT_INTEGERS)
def test_an_integer_bound_given_as_text_is_ascii_digits(text):
    with pytest.raises(ValueError, match="is not an integer: give ASCII digits"):
        parse_integer(text)
    with pytest.raises(ValidationError, match="is not an integer"):
        IntegerRange.model_validate({"Name": "n", "MinValue": text, "MaxValue": "10"})


@pytest.mark.parametrize(("text", "value"), [("3", 3), ("+3", 3), ("-3", -3), ("007", 7)])
def test_ascii_digits_with_a_sign_are_an_integer(text, value):
    assert parse_integer(text) == value
    assert IntegerRange.model_validate(
        {"Name": "n", "MinValue": text, "MaxValue": "10"}
    ).min_value == (value)


@pytest.mark.parametrize(
    "text",
    ["inf", "nan", "Infinity", "1_0.5", " 1", "\u0661.\u0665", "1e400", "0x1p3", "", ".", "1e"],
)
def test_a_continuous_bound_given_as_text_is_an_ascii_finite_number(text):
    with pytest.raises(ValueError, match=r"not a number|too large"):
        parse_number(text)


@pytest.mark.parametrize(
    ("text", "value"), [("0.001", 0.001), ("-1.5e-3", -0.0015), (".5", 0.5), ("1.", 1.0)]
)
def test_ascii_decimals_are_numbers(text, value):
    assert parse_number(text) == value


def test_an_epochs_hyperparameter_is_read_as_hyperbands_max_resource_only_in_ascii_digits():
    def hyperband(epochs):
        return SearchSpec.model_validate(
            {
                "strategy": "Hyperband",
                "command": ["true"],
                "resource_limits": {"max_number_of_training_jobs": 5},
                "static_hyperparameters": {"epochs": epochs},
                "parameter_ranges": {
                    "IntegerParameterRanges": [{"Name": "n", "MinValue": 1, "MaxValue": 3}]
                },
            }
        )

    assert hyperband("12").max_resource() == 12
    assert hyperband(12).max_resource() == 12
    for text in ("٣", "1_0", " 3"):
        with pytest.raises(ValidationError, match=r"Hyperband needs hyperband\.max_resource"):
            hyperband(text)
