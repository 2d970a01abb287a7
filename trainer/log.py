"""Logging setup and the `name=value;` line format that metric definitions read.

Records below WARNING go to stdout, WARNING and above to stderr, each line as
`2026-11-22 10:00:00,123 INFO epoch=1; train_loss=0.412310; ...`.

Every value on a metric line is a plain positional decimal: no exponent, no nan or
inf, so a metric definition's `name=(.*?);` always captures a number.
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TextIO

from trainer.errors import ConfigError

__all__ = [
    "LOGGER_NAME",
    "batch_line",
    "configure_logging",
    "epoch_line",
    "fixed",
    "log_level",
    "metric_line",
    "significant",
]

LOGGER_NAME = "trainer"
_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def log_level(value: str | None) -> int:
    """Read `SM_LOG_LEVEL`: a number (10 DEBUG ... 50 CRITICAL) or a level name.

    Args:
        value: the variable's value, or None when it is not set (INFO).

    Returns:
        The `logging` level.

    Raises:
        ConfigError: neither a non-negative integer nor a level name.
    """
    if value is None or not value.strip():
        return logging.INFO
    text = value.strip()
    if text.isdigit():
        return int(text)
    level = logging.getLevelNamesMapping().get(text.upper())
    if level is None:
        raise ConfigError(
            f"bad SM_LOG_LEVEL {value!r} (expected 10, 20, 30, 40, 50 or a level name)"
        )
    return level


class _BelowWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.WARNING


def configure_logging(
    level: int, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> logging.Logger:
    """Set up the `trainer` logger; calling it again replaces the earlier setup.

    Args:
        level: the lowest level logged.
        stdout: where records below WARNING go; default `sys.stdout` at call time.
        stderr: where WARNING and above go; default `sys.stderr` at call time.

    Returns:
        The `trainer` logger; modules log through children of it (`trainer.loop`).
    """
    formatter = logging.Formatter(_FORMAT)
    out = logging.StreamHandler(stdout or sys.stdout)
    out.addFilter(_BelowWarning())
    err = logging.StreamHandler(stderr or sys.stderr)
    err.setLevel(logging.WARNING)
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    for handler in (out, err):
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    logger.setLevel(level)
    # The lines are the product; a root handler someone else installed must not repeat them.
    logger.propagate = False
    return logger


def fixed(value: float) -> str:
    """Format a loss or metric with 6 decimals: 0.41231 -> "0.412310"."""
    _require_finite(value)
    return f"{value:.6f}"


def significant(value: float) -> str:
    """Format with 6 significant digits, positional: 5e-07 -> "0.0000005", not "5e-07".

    For learning rates, which decay below what 6 decimals can show.
    """
    _require_finite(value)
    return format(Decimal(f"{value:.6g}"), "f")


def metric_line(pairs: Sequence[tuple[str, str]]) -> str:
    """Join formatted values as `name=value;` pairs: [("a", "1")] -> "a=1;"."""
    return " ".join(f"{name}={value};" for name, value in pairs)


def epoch_line(
    epoch: int, train_loss: float, val_loss: float, val_metrics: Mapping[str, float], lr: float
) -> str:
    """Return the line that reports one epoch, in the order of `tasks.epoch_metric_names`."""
    return metric_line(
        [
            ("epoch", str(epoch)),
            ("train_loss", fixed(train_loss)),
            ("val_loss", fixed(val_loss)),
            *((name, fixed(value)) for name, value in val_metrics.items()),
            ("lr", significant(lr)),
        ]
    )


def batch_line(epoch: int, batch: int, loss: float) -> str:
    """Return the DEBUG line for one training batch."""
    return metric_line([("epoch", str(epoch)), ("batch", str(batch)), ("batch_loss", fixed(loss))])


def _require_finite(value: float) -> None:
    # The loop stops on non-finite values first; this guards the format's promise.
    if not math.isfinite(value):
        raise ValueError(f"cannot print {value} on a metric line")
