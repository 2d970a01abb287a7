"""What counts as a metric value or a step in a captured string."""

from __future__ import annotations

import math
import re

__all__ = ["parse_step", "parse_value"]

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
    text = capture.strip()
    if text.isascii() and "_" not in text:
        # What `float` reads of such a text is a decimal number, `inf` or `nan`: the
        # check below leaves the decimal ones, and this costs a fifth of matching
        # `_DECIMAL` (it runs once a point).
        try:
            value = float(text)
        except ValueError:
            return None
    elif _DECIMAL.fullmatch(text) is None:
        return None
    else:
        value = float(text)
    return value if math.isfinite(value) else None


def parse_step(capture: str | None) -> int | None:
    """Read a `step` group's capture as an integer step, or None when it is not one."""
    if capture is None:
        return None
    text = capture.strip()
    if text.isascii() and "_" not in text:
        # `int` reads exactly the optionally signed digit strings of such a text.
        try:
            step = int(text)
        except ValueError:
            return None
    elif _INTEGER.fullmatch(text) is None:
        return None
    else:
        step = int(text)
    # Steps are stored as 64-bit integers; a larger capture is not a usable step.
    return step if -(2**63) <= step < 2**63 else None
