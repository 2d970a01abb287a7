"""Value checks for hyperparameters: each turns a parsed value into a typed one or refuses it.

A check raises `ValueError` with the reason; `trainer.hyperparameters` adds the
hyperparameter's name and turns it into a `ConfigError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Check", "FloatOrFloats", "Integer", "Nullable", "OneOf", "Real"]


class Check(Protocol):
    @property
    def allowed(self) -> str:
        """What the check accepts, in words for the help text and error messages."""
        ...

    def __call__(self, value: object) -> object:
        """Return `value` as the hyperparameter's type; raise ValueError if it is not one."""
        ...


def _refuse(value: object, allowed: str) -> ValueError:
    return ValueError(f"{value!r} (expected {allowed})")


def _number(value: object) -> float | None:
    # bool is an int subclass, but `--epochs true` is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond float's range, e.g. 400 digits of JSON
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class OneOf:
    options: tuple[str, ...]

    @property
    def allowed(self) -> str:
        return "one of: " + ", ".join(self.options)

    def __call__(self, value: object) -> str:
        if not isinstance(value, str) or value not in self.options:
            raise _refuse(value, self.allowed)
        return value


@dataclass(frozen=True)
class Integer:
    low: int
    high: int | None = None

    @property
    def allowed(self) -> str:
        if self.high is None:
            return f"an integer >= {self.low}"
        return f"an integer from {self.low} to {self.high}"

    def __call__(self, value: object) -> int:
        number = _number(value)
        # Integral floats pass: some tuners hand integers over as 10.0.
        if number is None or not number.is_integer():
            raise _refuse(value, self.allowed)
        if number < self.low or (self.high is not None and number > self.high):
            raise _refuse(value, self.allowed)
        return int(number)


@dataclass(frozen=True)
class Real:
    """A finite number within bounds; each bound open (excluded) or closed."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    @property
    def allowed(self) -> str:
        bounds = []
        if self.low is not None:
            bounds.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high is not None:
            bounds.append(f"{'<' if self.high_open else '<='} {self.high:g}")
        return "a number" + (" " + " and ".join(bounds) if bounds else "")

    def __call__(self, value: object) -> float:
        number = _number(value)
        if number is None or not self._within(number):
            raise _refuse(value, self.allowed)
        return number

    def _within(self, number: float) -> bool:
        low, high = self.low, self.high
        if low is not None and (number < low or (self.low_open and number == low)):
            return False
        return high is None or not (number > high or (self.high_open and number == high))


@dataclass(frozen=True)
class FloatOrFloats:
    """One number, or a non-empty list of numbers, each accepted by `each`."""

    each: Real

    @property
    def allowed(self) -> str:
        return f"{self.each.allowed}, or a list of such numbers"

    def __call__(self, value: object) -> float | tuple[float, ...]:
        if not isinstance(value, list):
            try:
                return self.each(value)
            except ValueError:
                raise _refuse(value, self.allowed) from None
        if not value:
            raise _refuse(value, self.allowed)
        try:
            return tuple(self.each(item) for item in value)
        except ValueError:
            raise _refuse(value, self.allowed) from None


@dataclass(frozen=True)
class Nullable:
    """`null` (JSON) or a value `inner` accepts; `null` means "use the derived default"."""

    inner: Check

    @property
    def allowed(self) -> str:
        return f"{self.inner.allowed} (or null)"

    def __call__(self, value: object) -> object:
        return None if value is None else self.inner(value)
