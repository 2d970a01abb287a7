"""A search's parameter ranges, in SageMaker AMT's vocabulary: categorical, integer and
continuous ranges with their scaling, how a uniform draw lands on one (`value_at`), and
the readers of numbers given as text, which SageMaker sends a range's bounds as.

Keys are accepted in snake_case and in SageMaker's spelling (`MaxValue`), generated from
the snake_case name by `SpecModel`, the base of every model of a search.
"""

from __future__ import annotations

import enum
import math
import re
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    AliasGenerator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_pascal

__all__ = [
    "DECIMAL_TEXT",
    "CategoricalRange",
    "ContinuousRange",
    "IntegerRange",
    "ParameterRanges",
    "Scaling",
    "SpecModel",
    "grid_size",
    "hyperparameter_text",
    "parse_integer",
    "parse_number",
    "pascal_too",
]

# Numbers given as text (SageMaker sends a range's bounds as strings): ASCII digits only.
# int() and float() would also read "٣", "1_0" and " 3", and float() "inf" and "nan",
# which no training script's argparse takes back the same way.
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]{1,4000}")
# A plain decimal number, as written in ASCII: also what the CSV export leaves unescaped
# and what a chunk's timestamp reads as Unix seconds.
DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def pascal_too(field: str) -> AliasChoices:
    """A key's snake_case name and SageMaker's spelling of it (`max_value`, `MaxValue`):
    the aliases of every model that takes SageMaker's spellings, here and in the API."""
    return AliasChoices(field, to_pascal(field))


class SpecModel(BaseModel):
    # Every key in both spellings; a field whose SageMaker name is another word
    # (`early_stopping`, `TrainingJobEarlyStoppingType`) names both itself.
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        frozen=True,
        alias_generator=AliasGenerator(validation_alias=pascal_too),
    )


class Scaling(enum.StrEnum):
    AUTO = "Auto"
    LINEAR = "Linear"
    LOGARITHMIC = "Logarithmic"
    REVERSE_LOGARITHMIC = "ReverseLogarithmic"


class CategoricalRange(SpecModel):
    name: str = Field(
        min_length=1,
        max_length=256,
        description="The hyperparameter's name.",
    )
    values: list[Annotated[str, Field(max_length=256)]] = Field(
        min_length=1,
        max_length=30,
        description="The values to choose from (1 to 30), as text.",
    )

    @field_validator("values", mode="before")
    @classmethod
    def _as_text(cls, values: Any) -> Any:
        if isinstance(values, list):
            return [
                hyperparameter_text(v) if isinstance(v, int | float | bool) else v for v in values
            ]
        return values


class IntegerRange(SpecModel):
    name: str = Field(
        min_length=1,
        max_length=256,
        description="The hyperparameter's name.",
    )
    min_value: int = Field(
        description="The smallest value, inclusive.",
    )
    max_value: int = Field(
        description="The largest value, inclusive.",
    )
    scaling_type: Scaling = Field(
        Scaling.AUTO,
        description="How values are spread: Auto (as Linear), Linear or Logarithmic.",
    )

    @field_validator("min_value", "max_value", mode="before")
    @classmethod
    def _integer_text(cls, value: Any) -> Any:
        return parse_integer(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check(self) -> IntegerRange:
        _check_bounds(self.name, self.min_value, self.max_value, self.scaling_type)
        if self.scaling_type is Scaling.REVERSE_LOGARITHMIC:
            raise ValueError(f"{self.name}: integer ranges cannot be ReverseLogarithmic")
        return self


class ContinuousRange(SpecModel):
    name: str = Field(
        min_length=1,
        max_length=256,
        description="The hyperparameter's name.",
    )
    min_value: float = Field(
        description="The smallest value, inclusive.",
    )
    max_value: float = Field(
        description="The largest value, inclusive.",
    )
    scaling_type: Scaling = Field(
        Scaling.AUTO,
        description="How values are spread: Auto (as Linear), Linear, Logarithmic or "
        "ReverseLogarithmic.",
    )

    @field_validator("min_value", "max_value", mode="before")
    @classmethod
    def _number_text(cls, value: Any) -> Any:
        return parse_number(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check(self) -> ContinuousRange:
        if not (math.isfinite(self.min_value) and math.isfinite(self.max_value)):
            raise ValueError(f"{self.name}: MinValue and MaxValue must be finite numbers")
        _check_bounds(self.name, self.min_value, self.max_value, self.scaling_type)
        if not math.isfinite(self.max_value - self.min_value):
            # A sampler draws low + u * (high - low): its width must be a float too
            # (Optuna refuses such a range outright, and Random's draws would be inf).
            raise ValueError(
                f"{self.name}: MaxValue - MinValue must be a finite number; "
                f"{self.min_value!r} to {self.max_value!r} is wider than any float"
            )
        return self

    def value_at(self, share: float) -> float:
        """The value `share` of the way along the range's scale, within the range.

        Args:
            share: from 0 to 1; a uniform draw gives a uniform sample on the scale. The
                scale runs from MinValue to MaxValue, in x (Linear, Auto) or log(x)
                (Logarithmic); ReverseLogarithmic's is log(1 - x), which runs from
                MaxValue to MinValue. That is the order Random's sampler has always
                drawn in, so a seed picks the values it picked before.

        Returns: a finite number in [MinValue, MaxValue]. Linear ranges are interpolated
            as low * (1 - share) + high * share, which cannot overflow where
            low + share * (high - low) can; rounding is clamped back into the range.
        """
        low, high = self.min_value, self.max_value
        if self.scaling_type is Scaling.LOGARITHMIC:
            value = math.exp(_between(math.log(low), math.log(high), share))
        elif self.scaling_type is Scaling.REVERSE_LOGARITHMIC:
            value = 1 - math.exp(_between(math.log1p(-high), math.log1p(-low), share))
        else:
            value = _between(low, high, share)
        return min(max(value, low), high)


class ParameterRanges(SpecModel):
    """SageMaker's ParameterRanges: categorical, integer and continuous ranges."""

    categorical: list[CategoricalRange] = Field(
        default_factory=list,
        validation_alias=AliasChoices("categorical", "CategoricalParameterRanges"),
        max_length=30,
        description="Hyperparameters chosen from a list of values.",
    )
    integer: list[IntegerRange] = Field(
        default_factory=list,
        validation_alias=AliasChoices("integer", "IntegerParameterRanges"),
        max_length=30,
        description="Integer hyperparameters chosen in a range.",
    )
    continuous: list[ContinuousRange] = Field(
        default_factory=list,
        validation_alias=AliasChoices("continuous", "ContinuousParameterRanges"),
        max_length=30,
        description="Real hyperparameters chosen in a range.",
    )

    def names(self) -> list[str]:
        return [
            *(r.name for r in self.categorical),
            *(r.name for r in self.integer),
            *(r.name for r in self.continuous),
        ]


def grid_size(ranges: ParameterRanges) -> int:
    return math.prod(
        [len(r.values) for r in ranges.categorical]
        + [r.max_value - r.min_value + 1 for r in ranges.integer]
    )


def parse_integer(text: str) -> int:
    """An integer given as text: ASCII digits with an optional sign, and nothing else.

    Args:
        text: the integer as given (a range's bound, an epochs hyperparameter).

    Returns: its value.

    Raises:
        ValueError: anything else, such as "٣", "1_0", " 3" or "3.0", with a message that
            quotes it.
    """
    if _INTEGER_TEXT.fullmatch(text) is None:
        raise ValueError(
            f"{text[:40]!r} is not an integer: give ASCII digits with an optional sign"
        )
    return int(text)


def parse_number(text: str) -> float:
    """A finite number given as text: ASCII digits, an optional sign, point and exponent.

    Args:
        text: the number as given (a continuous range's bound).

    Returns: its value.

    Raises:
        ValueError: anything else ("inf", "nan", "1_0", " 3", other scripts' digits), or a
            number too large for a float ("1e400").
    """
    if DECIMAL_TEXT.fullmatch(text) is None:
        raise ValueError(
            f"{text[:40]!r} is not a number: give ASCII digits with an optional sign, "
            "decimal point and exponent"
        )
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]!r} is too large for a number")
    return value


def _between(low: float, high: float, share: float) -> float:
    # A weighted mean of the bounds: each product is no larger than its bound, so the sum
    # lies between them give or take rounding (which value_at clamps), where
    # low + share * (high - low) overflows once the width passes the largest float.
    return low * (1 - share) + high * share


def _check_bounds(name: str, low: float, high: float, scaling: Scaling) -> None:
    if low > high:
        raise ValueError(f"{name}: MinValue {low} is above MaxValue {high}")
    if scaling is Scaling.LOGARITHMIC and low <= 0:
        raise ValueError(f"{name}: a Logarithmic range needs MinValue > 0")
    if scaling is Scaling.REVERSE_LOGARITHMIC and not 0 <= low <= high < 1:
        raise ValueError(f"{name}: a ReverseLogarithmic range lies within 0 <= x < 1")


def hyperparameter_text(value: str | int | float | bool) -> str:
    """A hyperparameter as the string a run receives (`true`, `8`, `0.001`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
