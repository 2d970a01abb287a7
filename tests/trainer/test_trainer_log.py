"""The name=value; line format and the logging setup."""

from __future__ import annotations

import io
import logging

import pytest

from trainer.errors import ConfigError
from trainer.log import (
    batch_line,
    configure_logging,
    epoch_line,
    fixed,
    log_level,
    significant,
)


@pytest.mark.parametrize(
    ("number", "text"),
    [(0.41231, "0.412310"), (2.0, "2.000000"), (1e-9, "0.000000"), (1234.5678919, "1234.567892")],
)
def test_fixed(number: float, text: str) -> None:
    assert fixed(number) == text


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0.003, "0.003"),
        (0.0005, "0.0005"),
        (5e-07, "0.0000005"),
        (7.34152e-05, "0.0000734152"),
        (0.0853553390593, "0.0853553"),
        (0.0, "0"),
        (1.0, "1"),
        (2.5e7, "25000000"),
    ],
)
def test_significant_never_uses_an_exponent(number: float, text: str) -> None:
    assert significant(number) == text


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_values_are_never_formatted(number: float) -> None:
    with pytest.raises(ValueError):
        fixed(number)
    with pytest.raises(ValueError):
        significant(number)


def test_epoch_line() -> None:
    line = epoch_line(3, 0.41231, 0.398771, {"val_accuracy": 0.912, "val_f1": 0.9051141}, 5e-4)
    assert line == (
        "epoch=3; train_loss=0.412310; val_loss=0.398771; val_accuracy=0.912000; "
        "val_f1=0.905114; lr=0.0005;"
    )


def test_batch_line() -> None:
    assert batch_line(1, 3, 0.51) == "epoch=1; batch=3; batch_loss=0.510000;"


@pytest.mark.parametrize(
    ("value", "level"),
    [
        (None, 20),
        ("", 20),
        ("10", 10),
        ("20", 20),
        ("30", 30),
        ("40", 40),
        ("50", 50),
        (" 40 ", 40),
        ("debug", 10),
        ("WARNING", 30),
    ],
)
def test_log_level(value: str | None, level: int) -> None:
    assert log_level(value) == level


@pytest.mark.parametrize("value", ["loud", "-10", "2.5"])
def test_bad_log_level(value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        log_level(value)
    assert str(raised.value) == (
        f"bad SM_LOG_LEVEL {value!r} (expected 10, 20, 30, 40, 50 or a level name)"
    )


def test_info_goes_to_stdout_and_warnings_to_stderr() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    logger = configure_logging(logging.INFO, stdout, stderr)
    logging.getLogger("trainer.loop").debug("hidden")
    logging.getLogger("trainer.run").info("epoch=1;")
    logger.warning("careful")
    logger.error("broken")
    assert [line.split(" ", 2)[2] for line in stdout.getvalue().splitlines()] == ["INFO epoch=1;"]
    assert [line.split(" ", 2)[2] for line in stderr.getvalue().splitlines()] == [
        "WARNING careful",
        "ERROR broken",
    ]


def test_configuring_again_replaces_the_handlers() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging(logging.INFO, first, io.StringIO())
    logger = configure_logging(logging.INFO, second, io.StringIO())
    logger.info("once")
    assert first.getvalue() == ""
    assert second.getvalue().endswith(" INFO once\n")
