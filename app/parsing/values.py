"""What counts as a metric value or a step in a captured string."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TypeVar

__all__ = ["parse_step", "parse_value"]

_T = TypeVar("_T", int, float)

# ASCII digits only: `\d` would also accept Arabic-Indic and other Unicode digits, which
# `float()` reads but no training log means as a number.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")


def parse_value(capture: str) -> float | None:
    """Read a capture as a metric value.

    Args:
        capture: the text a definition's value group captured.

    Returns:
        The value, or None when the capture, stripped of white space, is not a finite
        decimal number (empty, `nan`, `inf`, `93.3%`, `1e999`, ...).
    """
    value = _read(capture, float, _DECIMAL)
    return value if value is not None and math.isfinite(value) else None


def parse_step(capture: str | None) -> int | None:
    """Read a `step` group's capture as an integer step, or None when it is not one."""
    if capture is None:
        return None
    step = _read(capture, int, _INTEGER)
    if step is None:
        return None
    # Steps are stored as 64-bit integers; a larger capture is not a usable step.
    return step if -(2**63) <= step < 2**63 else None


def _read(capture: str, convert: Callable[[str], _T], pattern: re.Pattern[str]) -> _T | None:
    """`convert` of the stripped capture if `pattern` matches all of it, else None.

    For ASCII text without `_`, `float` and `int` read exactly what the patterns accept
    (and `float` also `inf` and `nan`, which parse_value drops), so the conversion alone
    decides, at a fifth of the cost of the match (this runs once a point).
    """
    text = capture.strip()
    if text.isascii() and "_" not in text:
        try:
            return convert(text)
        except ValueError:
            return None
    return convert(text) if pattern.fullmatch(text) is not None else None
