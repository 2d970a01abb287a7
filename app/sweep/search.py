"""Hyperparameter sets for a sweep: every grid combination, or seeded random samples."""

from __future__ import annotations

import itertools
import math
import random

from app.sweep.spec import ContinuousRange, IntegerRange, SweepSpec

__all__ = ["MAX_GRID", "hyperparameter_sets"]

MAX_GRID = 10_000


def hyperparameter_sets(spec: SweepSpec) -> list[dict[str, str]]:
    """The hyperparameters of each run, in order, static ones included, as strings.

    Raises: ValueError for a grid larger than MAX_GRID.
    """
    static = {key: _text(value) for key, value in spec.static_hyperparameters.items()}
    if spec.strategy == "grid":
        tuned = _grid(spec)
    else:
        assert spec.max_runs is not None  # the spec requires it for random search
        rng = random.Random(spec.seed)
        tuned = [_sample(spec, rng) for _ in range(spec.max_runs)]
    return [{**static, **values} for values in tuned]


def _grid(spec: SweepSpec) -> list[dict[str, str]]:
    ranges = spec.parameter_ranges
    axes: list[tuple[str, list[str]]] = [(r.name, list(r.values)) for r in ranges.categorical]
    axes += [
        (r.name, [str(v) for v in range(r.min_value, r.max_value + 1)]) for r in ranges.integer
    ]
    size = math.prod(len(values) for _, values in axes)
    if size > MAX_GRID:
        raise ValueError(f"the grid has {size} combinations; at most {MAX_GRID} are run")
    combinations = [
        dict(zip([name for name, _ in axes], values, strict=True))
        for values in itertools.product(*(values for _, values in axes))
    ]
    return combinations[: spec.max_runs] if spec.max_runs else combinations


def _sample(spec: SweepSpec, rng: random.Random) -> dict[str, str]:
    ranges = spec.parameter_ranges
    values = {r.name: rng.choice(r.values) for r in ranges.categorical}
    values.update({r.name: str(_sample_integer(r, rng)) for r in ranges.integer})
    values.update({r.name: f"{_sample_continuous(r, rng):.6g}" for r in ranges.continuous})
    return values


def _sample_continuous(r: ContinuousRange, rng: random.Random) -> float:
    return _scaled(r.min_value, r.max_value, r.scaling_type, rng)


def _sample_integer(r: IntegerRange, rng: random.Random) -> int:
    if r.scaling_type == "Logarithmic":
        # Uniform in log(x) over [min, max + 1), then down to an integer.
        value = math.exp(rng.uniform(math.log(r.min_value), math.log(r.max_value + 1)))
        return min(math.floor(value), r.max_value)
    return rng.randint(r.min_value, r.max_value)


def _scaled(low: float, high: float, scaling: str, rng: random.Random) -> float:
    """A sample between `low` and `high`, uniform on the range's scale.

    Auto is read as Linear. Logarithmic is uniform in log(x); ReverseLogarithmic is
    uniform in log(1 - x), which spreads samples out near 1 (SageMaker's definition).
    """
    if scaling == "Logarithmic":
        return math.exp(rng.uniform(math.log(low), math.log(high)))
    if scaling == "ReverseLogarithmic":
        return 1 - math.exp(rng.uniform(math.log(1 - high), math.log(1 - low)))
    return rng.uniform(low, high)


def _text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
