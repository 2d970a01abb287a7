"""Contract point 6: what counts as a value; and integer steps."""

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.parsing.values import parse_step, parse_value


@pytest.mark.parametrize(
    ("capture", "value"),
    [
        ("16.020744", 16.020744),
        ("  0.5 ", 0.5),
        ("\t-3\n", -3.0),
        ("+2.", 2.0),
        (".25", 0.25),
        ("1e-3", 0.001),
        ("6.02E+23", 6.02e23),
        ("-0", -0.0),
        ("007", 7.0),
    ],
)
def test_finite_decimal_numbers_are_values(capture, value):
    assert parse_value(capture) == value


@pytest.mark.parametrize(
    "capture",
    [
        "",
        "   ",
        "nan",
        "NaN",
        "inf",
        "-Infinity",
        "93.3%",
        "abc",
        "1e999",
        "0x1A",
        "1_000",
        "1,5",
        "١٢",
        "1.2.3",
        "e5",
        ".",
        "+",
        "1e",
        "--1",
    ],
)
def test_anything_else_gives_no_value(capture):
    assert parse_value(capture) is None


def contract_value(capture):
    """Contract point 6 as it reads: a finite decimal number once white space is stripped."""
    text = capture.strip()
    if re.fullmatch(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", text) is None:
        return None
    value = float(text)
    return value if math.isfinite(value) else None


@settings(max_examples=2000)
@given(st.text(alphabet="0123456789.eE+-_ \t\n\x1c\x1f\x85infatyINFATYx\u0661\u00a0", max_size=12))
def test_any_capture_reads_as_the_contract_says(capture):
    value = parse_value(capture)
    expected = contract_value(capture)
    assert repr(value) == repr(expected)  # and -0.0 stays -0.0


def contract_step(capture):
    text = capture.strip()
    if re.fullmatch(r"[+-]?[0-9]+", text) is None:
        return None
    step = int(text)
    return step if -(2**63) <= step < 2**63 else None


@settings(max_examples=2000)
@given(st.text(alphabet="0123456789+-_ \t\n\x1c\x1f\x85xob.eE\u0661\u00a0", max_size=22))
def test_any_step_capture_reads_as_the_contract_says(capture):
    assert parse_step(capture) == contract_step(capture)


@pytest.mark.parametrize(
    ("capture", "step"),
    [
        ("12", 12),
        (" 7 ", 7),
        ("-1", -1),
        ("1.5", None),
        ("x", None),
        (None, None),
        ("", None),
        (str(2**63), None),
        (str(2**63 - 1), 2**63 - 1),
    ],
)
def test_steps_are_64_bit_integers(capture, step):
    assert parse_step(capture) == step
