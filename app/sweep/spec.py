"""A sweep's spec: the job to create, the command, and SageMaker-style parameter ranges."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "CategoricalRange",
    "ContinuousRange",
    "IntegerRange",
    "ParameterRanges",
    "SweepSpec",
    "SweepSpecError",
    "load_spec",
]

Scaling = Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"]


class SweepSpecError(Exception):
    """The spec file cannot be read or breaks a rule; the message says where."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class CategoricalRange(_Spec):
    name: str = Field(validation_alias=AliasChoices("name", "Name"))
    values: list[str] = Field(validation_alias=AliasChoices("values", "Values"), min_length=1)


class IntegerRange(_Spec):
    name: str = Field(validation_alias=AliasChoices("name", "Name"))
    min_value: int = Field(validation_alias=AliasChoices("min_value", "MinValue"))
    max_value: int = Field(validation_alias=AliasChoices("max_value", "MaxValue"))
    scaling_type: Scaling = Field(
        "Auto", validation_alias=AliasChoices("scaling_type", "ScalingType")
    )

    @model_validator(mode="after")
    def _check(self) -> IntegerRange:
        _check_bounds(self.name, self.min_value, self.max_value, self.scaling_type)
        if self.scaling_type == "ReverseLogarithmic":
            raise ValueError(f"{self.name}: integer ranges cannot be ReverseLogarithmic")
        return self


class ContinuousRange(_Spec):
    name: str = Field(validation_alias=AliasChoices("name", "Name"))
    min_value: float = Field(validation_alias=AliasChoices("min_value", "MinValue"))
    max_value: float = Field(validation_alias=AliasChoices("max_value", "MaxValue"))
    scaling_type: Scaling = Field(
        "Auto", validation_alias=AliasChoices("scaling_type", "ScalingType")
    )

    @model_validator(mode="after")
    def _check(self) -> ContinuousRange:
        _check_bounds(self.name, self.min_value, self.max_value, self.scaling_type)
        return self


class ParameterRanges(_Spec):
    """SageMaker's ParameterRanges: categorical, integer and continuous ranges."""

    categorical: list[CategoricalRange] = Field(
        default_factory=list,
        validation_alias=AliasChoices("categorical", "CategoricalParameterRanges"),
    )
    integer: list[IntegerRange] = Field(
        default_factory=list, validation_alias=AliasChoices("integer", "IntegerParameterRanges")
    )
    continuous: list[ContinuousRange] = Field(
        default_factory=list,
        validation_alias=AliasChoices("continuous", "ContinuousParameterRanges"),
    )

    def names(self) -> list[str]:
        return [
            *(r.name for r in self.categorical),
            *(r.name for r in self.integer),
            *(r.name for r in self.continuous),
        ]


class SweepJob(_Spec):
    name: str
    objective: dict[str, Any]
    metric_definitions: list[dict[str, str]] | str = Field(
        description="A list of {Name, Regex}, or the name of a preset."
    )
    log_format: str = "text"
    environment: dict[str, str] = Field(default_factory=dict)


class SweepSpec(_Spec):
    job: SweepJob
    command: list[str] = Field(min_length=1)
    strategy: Literal["grid", "random"] = "random"
    max_runs: int | None = Field(None, ge=1, description="Random: how many; grid: a cap.")
    max_parallel: int = Field(1, ge=1)
    seed: int = 0
    static_hyperparameters: dict[str, str | int | float | bool] = Field(default_factory=dict)
    parameter_ranges: ParameterRanges = Field(default_factory=ParameterRanges)

    @model_validator(mode="after")
    def _check(self) -> SweepSpec:
        names = self.parameter_ranges.names()
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"parameter ranges name {', '.join(repeated)} more than once")
        clash = sorted(set(names) & set(self.static_hyperparameters))
        if clash:
            raise ValueError(f"{', '.join(clash)} is both static and tuned")
        if self.strategy == "grid" and self.parameter_ranges.continuous:
            raise ValueError(
                "grid search takes categorical and integer ranges only, as in SageMaker; "
                "use strategy: random for continuous ranges"
            )
        if self.strategy == "random" and self.max_runs is None:
            raise ValueError("random search needs max_runs")
        return self


def load_spec(path: str | Path) -> SweepSpec:
    """Read a sweep spec from a YAML or JSON file. Raises: SweepSpecError."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise SweepSpecError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        raw = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise SweepSpecError(f"{path} is not valid {_kind(path)}: {exc}") from exc
    try:
        return SweepSpec.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'spec'}: {error['msg']}"
            for error in exc.errors()
        )
        raise SweepSpecError(f"{path}: {problems}") from exc


def _check_bounds(name: str, low: float, high: float, scaling: str) -> None:
    if low > high:
        raise ValueError(f"{name}: MinValue {low} is above MaxValue {high}")
    if scaling == "Logarithmic" and low <= 0:
        raise ValueError(f"{name}: a Logarithmic range needs MinValue > 0")
    if scaling == "ReverseLogarithmic" and not 0 <= low <= high < 1:
        raise ValueError(f"{name}: a ReverseLogarithmic range lies within 0 <= x < 1")


def _kind(path: str | Path) -> str:
    return "JSON" if str(path).endswith(".json") else "YAML"
