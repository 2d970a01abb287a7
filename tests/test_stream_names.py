"""The one rule for a run's stream's name, which /v1, PutLogEvents and OTLP all apply."""

from __future__ import annotations

import pytest

from app.records import STREAM_NAME_RULE, is_stream_name, reserved_stream


@pytest.mark.parametrize(
    "name", ["stdout", "stderr", "algo-2-stdout", "0", "a/b.c_d-e", "x" * 255, "attempt-1/stdout"]
)
def test_names_a_writer_may_give(name: str) -> None:
    assert is_stream_name(name)


@pytest.mark.parametrize(
    "name", ["", "-stdout", ".x", "/x", "std out", "stdout\n", "stdoüt", "a:b", "x" * 256]
)
def test_names_refused(name: str) -> None:
    assert not is_stream_name(name)


def test_an_earlier_attempts_name_passes_the_rule_and_is_reserved() -> None:
    assert reserved_stream("attempt-1/stdout") is not None
    assert reserved_stream("attempts/stdout") is None


def test_the_rule_in_words() -> None:
    assert STREAM_NAME_RULE == (
        "1 to 255 letters, digits, '.', '_', '/' and '-', starting with a letter or digit"
    )
