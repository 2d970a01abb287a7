"""When a search is done: its limits, and AMT's completion criteria.

A pure function of the search and the job's runs; the service calls it whenever a run
ends. The first criterion met is recorded on the job: it starts no more runs, and ends
`Completed` once the runs in progress have ended.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from app.protocol.search import SearchSpec

__all__ = [
    "CONVERGENCE_MIN_RUNS",
    "CONVERGENCE_TOLERANCE",
    "Criterion",
    "EndedRun",
    "completion",
]

# Convergence, as logmetrics reads it (AMT does not publish its test): at least this many
# runs with a value, and the best of the last third of them improved on the best before
# them by less than this share of the spread of all values.
CONVERGENCE_MIN_RUNS = 10
CONVERGENCE_TOLERANCE = 0.01


class EndedRun(NamedTuple):
    """A run of the job that has ended, in the order runs ended."""

    name: str
    value: float | None  # its objective value, if it counts (completed or stopped)


class Criterion(NamedTuple):
    """What ended the search: one of AMT's names, and words for people."""

    name: str  # TargetObjectiveMetricValue | BestObjectiveNotImproving | ConvergenceDetected
    detail: str


def completion(
    search: SearchSpec, ended: Sequence[EndedRun], maximize: bool, metric: str
) -> Criterion | None:
    """The first completion criterion the ended runs meet, if any."""
    criteria = search.completion_criteria
    scored = [(run.name, run.value) for run in ended if _finite(run.value)]

    def better(a: float, b: float) -> bool:
        return a > b if maximize else a < b

    target = criteria.target_objective_metric_value
    if target is not None:
        for name, value in scored:
            assert value is not None
            if value == target or better(value, target):
                sign = ">=" if maximize else "<="
                return Criterion(
                    "TargetObjectiveMetricValue",
                    f"{name} reached {metric} = {value:.6g} {sign} the target {target:.6g}",
                )
    patience = criteria.best_objective_not_improving
    if patience is not None:
        limit = patience.max_number_of_training_jobs_not_improving
        best: float | None = None
        since = 0
        for _name, value in scored:
            assert value is not None
            if best is None or better(value, best):
                best, since = value, 0
            else:
                since += 1
        if best is not None and since >= limit:
            return Criterion(
                "BestObjectiveNotImproving",
                f"the last {since} runs did not improve on the best {metric} = {best:.6g}",
            )
    convergence = criteria.convergence_detected
    if convergence is not None and convergence.complete_on_convergence == "Enabled":
        found = _converged([v for _n, v in scored if v is not None], maximize, metric)
        if found is not None:
            return found
    return None


def _converged(values: list[float], maximize: bool, metric: str) -> Criterion | None:
    if len(values) < CONVERGENCE_MIN_RUNS:
        return None
    recent = max(3, len(values) // 3)
    before, last = values[:-recent], values[-recent:]
    pick = max if maximize else min
    gain = max(0.0, (pick(last) - pick(before)) * (1 if maximize else -1))
    spread = max(values) - min(values)
    if spread > 0 and gain >= CONVERGENCE_TOLERANCE * spread:
        return None
    return Criterion(
        "ConvergenceDetected",
        f"the best {metric} of the last {recent} runs improved on the {len(before)} before "
        f"them by {gain:.3g}, under {CONVERGENCE_TOLERANCE:.0%} of the spread of values",
    )


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
