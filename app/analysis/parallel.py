"""Parallel coordinates: a job's runs as rows over chosen hyperparameters and metrics,
the objective metric always last (the job page's chart, `GET
/v1/jobs/{job}/parallel-coordinates`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from app.analysis.history import counting_value
from app.errors import InvalidInput
from app.jobs import OBJECTIVE_HYPERPARAMETER
from app.protocol.ranges import Scaling
from app.protocol.search import SearchSpec
from app.records import Job, Run

__all__ = [
    "MAX_DEFAULT_HYPERPARAMETERS",
    "Axis",
    "Dimension",
    "ParallelCoordinates",
    "ParallelRun",
    "hyperparameter_axes",
    "parallel_coordinates",
]

# Axes shown when none are asked for: more than a dozen hyperparameter axes crowd a page's
# width past reading (a job may tune up to 90); the rest are a `dimension` away.
MAX_DEFAULT_HYPERPARAMETERS = 12

Kind = Literal["hyperparameter", "metric"]
Scale = Literal["linear", "log", "categorical"]
Value = float | str | None


@dataclass(frozen=True)
class Dimension:
    key: str  # "hyperparameter:<name>" | "metric:<name>"
    name: str
    kind: Kind
    scale: Scale
    categories: tuple[str, ...] | None
    min: float | None
    max: float | None
    objective: bool


@dataclass(frozen=True)
class ParallelRun:
    name: str
    status: str
    objective_value: float | None  # the counting value
    values: tuple[Value, ...]  # one per dimension


@dataclass(frozen=True)
class ParallelCoordinates:
    dimensions: tuple[Dimension, ...]
    runs: tuple[ParallelRun, ...]
    available: tuple[str, ...]


@dataclass(frozen=True)
class Axis:
    """A hyperparameter axis before its values are known: its scale and categories."""

    name: str
    scale: Scale
    categories: tuple[str, ...] | None


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def hyperparameter_axes(search: SearchSpec | None, runs: Sequence[Run]) -> list[Axis]:
    """The tuned hyperparameters: the search's ranges in its order (categorical, integer,
    continuous, as the spec lists them), or for a job without a search every
    hyperparameter whose value differs between runs, by name (numeric where every value
    is a number, else categorical with its values sorted)."""
    if search is not None:
        ranges = search.parameter_ranges
        axes = [Axis(r.name, "categorical", tuple(r.values)) for r in ranges.categorical]
        numeric = [(r.name, r.scaling_type) for r in ranges.integer]
        numeric += [(r.name, r.scaling_type) for r in ranges.continuous]
        for name, scaling in numeric:
            linear = scaling in (Scaling.AUTO, Scaling.LINEAR)
            axes.append(Axis(name, "linear" if linear else "log", None))
        return axes
    seen: dict[str, set[str | None]] = {}
    for run in runs:
        for name in run.hyperparameters:
            seen.setdefault(name, set())
    for run in runs:
        for name, values in seen.items():
            values.add(run.hyperparameters.get(name))
    axes = []
    for name in sorted(seen):
        values = seen[name]
        if len(values) < 2 or name == OBJECTIVE_HYPERPARAMETER:
            continue
        present = sorted(v for v in values if v is not None)
        if all(_number(v) is not None for v in present):
            axes.append(Axis(name, "linear", None))
        else:
            axes.append(Axis(name, "categorical", tuple(present)))
    return axes


def _metric_names(job: Job, runs: Sequence[Run], with_points: Sequence[str] | None) -> list[str]:
    """Every metric with points in some run, in the job's definitions' order."""
    found = (
        {m.name for run in runs for m in run.metrics if m.count > 0}
        if with_points is None
        else set(with_points)
    )
    return [name for name in job.metric_names if name in found]


def _metric_value(job: Job, run: Run, name: str) -> float | None:
    if name == job.objective_metric:
        return run.objective_value
    for summary in run.metrics:
        if summary.name == name:
            return summary.last
    return None


def parallel_coordinates(
    job: Job,
    search: SearchSpec | None,
    runs: Sequence[Run],
    keys: Sequence[str] | None,
    with_points: Sequence[str] | None = None,
) -> ParallelCoordinates:
    """The runs over the chosen axes.

    Args:
        job: the job (its objective and metric definitions).
        search: the job's search (its ranges name the tuned hyperparameters), or None.
        runs: every run of the job, oldest first, with its metric summaries where an axis
            is a metric other than the objective (whose value the run itself holds).
        keys: the axes asked for (`hyperparameter:<name>`, `metric:<name>`), or None for
            the tuned hyperparameters (at most MAX_DEFAULT_HYPERPARAMETERS). The
            objective metric's axis is always the last one, asked for or not.
        with_points: the names of the job's metrics with points (`metrics_with_points`);
            None to read them from the runs' summaries.

    Returns:
        The dimensions, the runs with a value on at least one of them, and every key
        that may be asked for.

    Raises:
        InvalidInput: a key that is not available, naming those that are.
    """
    axes = {f"hyperparameter:{axis.name}": axis for axis in hyperparameter_axes(search, runs)}
    objective_key = f"metric:{job.objective_metric}"
    metrics = [f"metric:{name}" for name in _metric_names(job, runs, with_points)]
    available = (*axes, *metrics)
    if keys is None:
        chosen = list(axes)[:MAX_DEFAULT_HYPERPARAMETERS]
    else:
        unknown = [k for k in keys if k not in available and k != objective_key]
        if unknown:
            raise InvalidInput(
                f"unknown dimension {', '.join(map(repr, unknown))}; available: "
                + ", ".join(available or (objective_key,)),
                available=list(available),
            )
        chosen = list(dict.fromkeys(k for k in keys if k != objective_key))
    chosen.append(objective_key)

    columns: list[list[Value]] = []
    dimensions: list[Dimension] = []
    for key in chosen:
        kind, _, name = key.partition(":")
        axis = axes.get(key)
        column: list[Value]
        if axis is None:
            column = [_metric_value(job, run, name) for run in runs]
            scale: Scale = "linear"
            categories = None
        else:
            scale, categories = axis.scale, axis.categories
            texts = [run.hyperparameters.get(name) for run in runs]
            column = list(texts) if scale == "categorical" else [_number(t) for t in texts]
        numbers = [v for v in column if isinstance(v, float)]
        dimensions.append(
            Dimension(
                key=key,
                name=name,
                kind="metric" if kind == "metric" else "hyperparameter",
                scale=scale,
                categories=categories,
                min=min(numbers) if numbers else None,
                max=max(numbers) if numbers else None,
                objective=key == objective_key,
            )
        )
        columns.append(column)

    rows = []
    for i, run in enumerate(runs):
        values = tuple(column[i] for column in columns)
        if any(v is not None for v in values):
            rows.append(ParallelRun(run.name, run.status.value, counting_value(run), values))
    return ParallelCoordinates(tuple(dimensions), tuple(rows), available)
