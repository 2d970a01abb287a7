"""The job page's leaderboard: rows in the API's objective order, columns, run colours.

Pure functions of records already read, so the ranking is the storage's (the same as
`GET /v1/jobs/{job}/runs?sort_by=objective`) and the page only arranges it.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass

from app.objective import Strategy
from app.records import Job, Run, RunStatus, StopCause

__all__ = [
    "BEST_COLOR",
    "Hyperparameter",
    "HyperparameterRow",
    "Leaderboard",
    "Row",
    "Scale",
    "build_leaderboard",
    "compare_hyperparameters",
]

# Each run's one colour, for its swatch and its lines alike, is chosen here; app.css's
# --best and --unranked hold the same two values for the page's own marks.
BEST_COLOR = "#e8590c"
UNRANKED_COLOR = "#adb5bd"
# Ranked runs shade from light (worst) to dark (best): rank reads at a glance in the charts.
_WORST_RGB = (176, 196, 222)
_BETTER_RGB = (24, 70, 140)
# The hyperparameter the service adds to every run, as AMT does: not a tuned one.
_OBJECTIVE_HP = "_tuning_objective_metric"


class Scale(enum.StrEnum):
    LINEAR = "linear"
    LOG = "log"
    CATEGORICAL = "categorical"


@dataclass(frozen=True)
class Hyperparameter:
    """A hyperparameter whose value differs between runs, and how to draw it on an axis."""

    name: str
    scale: Scale
    categories: tuple[str, ...]  # sorted, for a categorical one


@dataclass(frozen=True)
class Row:
    rank: int | None  # None: no objective value yet
    run: Run
    color: str
    is_best: bool

    @property
    def early(self) -> bool:
        """Early stopping (or Hyperband) stopped the run."""
        return (
            self.run.status is RunStatus.STOPPED and self.run.stop_cause == StopCause.EARLY_STOPPING
        )

    @property
    def finals(self) -> dict[str, float]:
        """Each metric's final value (its last by arrival)."""
        return {m.name: m.last for m in self.run.metrics if m.last is not None}


@dataclass(frozen=True)
class Leaderboard:
    rows: tuple[Row, ...]
    tuned: tuple[Hyperparameter, ...]
    fixed: dict[str, str]  # the same value in every run
    metrics: tuple[str, ...]  # final-metric columns: definitions with a value in some run

    @property
    def live(self) -> bool:
        """Some run is still in progress: the page should poll."""
        return any(row.run.status is RunStatus.IN_PROGRESS for row in self.rows)

    @property
    def gpus(self) -> bool:
        """Some run held GPUs a worker counted: the board shows which, for every run."""
        return any(row.run.gpus is not None for row in self.rows)


def build_leaderboard(
    job: Job, ranked: Sequence[Run], every: Sequence[Run], best: str | None
) -> Leaderboard:
    """Arrange runs for the page.

    Args:
        ranked: the runs with an objective value, best first, as the API ranks them.
        every: every run of the job, oldest first.
        best: the job's best run (completed or stopped), if any.
    """
    ranked_names = {run.name for run in ranked}
    unranked = [run for run in every if run.name not in ranked_names]
    rows = [
        Row(rank, run, _color(rank, len(ranked), run.name == best), run.name == best)
        for rank, run in enumerate(ranked, 1)
    ]
    rows += [Row(None, run, UNRANKED_COLOR, False) for run in unranked]
    tuned, fixed = _split_hyperparameters([row.run for row in rows])
    shown = {m.name for row in rows for m in row.run.metrics if m.last is not None}
    if job.objective_strategy is Strategy.LATEST:
        shown.discard(job.objective_metric)  # its final value is the objective column
    metrics = tuple(name for name in job.metric_names if name in shown)
    return Leaderboard(tuple(rows), tuned, fixed, metrics)


@dataclass(frozen=True)
class HyperparameterRow:
    """One hyperparameter of runs compared side by side."""

    name: str
    values: tuple[str | None, ...]  # one a run, in the runs' order; None: not set

    @property
    def differs(self) -> bool:
        return len(set(self.values)) > 1


def compare_hyperparameters(runs: Sequence[Run]) -> tuple[HyperparameterRow, ...]:
    """Every hyperparameter of `runs`, in first-seen order, with each run's value."""
    names: dict[str, None] = {}
    for run in runs:
        names.update(dict.fromkeys(run.hyperparameters))
    return tuple(
        HyperparameterRow(name, tuple(run.hyperparameters.get(name) for run in runs))
        for name in names
    )


def _color(rank: int, count: int, is_best: bool) -> str:
    if is_best:
        return BEST_COLOR
    share = 1.0 if count <= 1 else (rank - 1) / (count - 1)  # 0 = best, 1 = worst
    red, green, blue = (
        round(good + (bad - good) * share)
        for good, bad in zip(_BETTER_RGB, _WORST_RGB, strict=True)
    )
    return f"#{red:02x}{green:02x}{blue:02x}"


def _split_hyperparameters(
    runs: Sequence[Run],
) -> tuple[tuple[Hyperparameter, ...], dict[str, str]]:
    names: dict[str, None] = {}  # first-seen order, which is the runs' own
    for run in runs:
        names.update(dict.fromkeys(k for k in run.hyperparameters if k != _OBJECTIVE_HP))
    tuned: list[Hyperparameter] = []
    fixed: dict[str, str] = {}
    for name in names:
        values = [run.hyperparameters.get(name) for run in runs]
        distinct = set(values)
        # With one run nothing varies yet: show its hyperparameters as columns all the same.
        if len(runs) > 1 and len(distinct) == 1 and values[0] is not None:
            fixed[name] = values[0]
            continue
        present = sorted(v for v in distinct if v is not None)
        scale = _scale(present)
        categories = tuple(present) if scale is Scale.CATEGORICAL else ()
        tuned.append(Hyperparameter(name, scale, categories))
    return tuple(tuned), fixed


def _scale(values: Sequence[str]) -> Scale:
    numbers = [n for n in map(_number, values) if n is not None]
    if not values or len(numbers) < len(values):
        return Scale.CATEGORICAL
    low, high = min(numbers), max(numbers)
    # Spread over decades (learning rates, weight decays): read on a log axis.
    return Scale.LOG if low > 0 and high / low >= 20 else Scale.LINEAR


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
