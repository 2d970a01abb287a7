"""Stopping runs early: AMT's median rule, and Hyperband's rungs.

Both are pure functions of objective curves: each run's points of the objective metric
as (step, value), in arrival order. The service applies them after each chunk that
brings a running run new objective points.
"""

from __future__ import annotations

import bisect
import itertools
import math
import operator
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from app.records import ObjectiveCurve, RunStatus

__all__ = [
    "MEDIAN_MIN_RUNS",
    "MEDIAN_WARMUP_POINTS",
    "Curve",
    "ExactSum",
    "MedianPoint",
    "RunningAverages",
    "Verdict",
    "earlier_curves",
    "hyperband_rule",
    "median_at",
    "median_curve",
    "median_of",
    "median_reason_step",
    "median_rule",
    "running_average_at",
    "worse_than_median",
]

Curve = Sequence[tuple[int, float]]

# The median rule waits for this many earlier runs that reached the step, and for the
# run's own 4th objective point, as Katib's median stopping does (3 trials, 4 steps):
# the first epochs of any run say little about its last.
MEDIAN_MIN_RUNS = 3
MEDIAN_WARMUP_POINTS = 4
HYPERBAND_ETA = 3  # each rung keeps the best third, as AMT's and Optuna's Hyperband


@dataclass(frozen=True)
class Verdict:
    """Stop the run: why, in words a person reads on the run's page."""

    reason: str


@dataclass(frozen=True)
class MedianPoint:
    step: int
    median: float
    runs: int


def median_rule(
    current: Curve,
    earlier: Sequence[Curve],
    maximize: bool,
    *,
    min_runs: int = MEDIAN_MIN_RUNS,
    warmup: int = MEDIAN_WARMUP_POINTS,
) -> Verdict | None:
    """AMT's median stopping rule, applied to the current run's latest point.

    Take every earlier run that has reached the same step, each one's running average
    of the objective up to that step, and the median of those averages; a latest value
    worse than that median stops the run.
    """
    if len(current) < warmup:
        return None
    step, value = current[-1]
    point = median_at(step, earlier, min_runs)
    if point is None or not worse_than_median(value, point.median, maximize):
        return None
    sign = "<" if maximize else ">"
    return Verdict(
        f"{_MEDIAN_REASON_START}{step}: {value:.4g} {sign} median {point.median:.4g} "
        f"of {point.runs} earlier runs' running averages"
    )


def worse_than_median(value: float, median: float, maximize: bool) -> bool:
    """The median rule's test of a value against the median at its step (`median_rule`,
    and the explanation of each point): strictly worse; a value that is not finite never
    is.

    Args:
        value: the run's value at the step.
        median: the median of the earlier runs' running averages there (`median_at`).
        maximize: whether the objective is maximized.

    Returns:
        True where the rule stops the run on this value.
    """
    return math.isfinite(value) and (value < median if maximize else value > median)


# The median rule's reasons begin so; `median_reason_step` reads the step back.
_MEDIAN_REASON_START = "stopped early at step "
_MEDIAN_REASON_STEP = re.compile(re.escape(_MEDIAN_REASON_START) + r"(-?\d+):")


def median_reason_step(reason: str | None) -> int | None:
    """The step at which the median rule stopped a run, read back from the reason it
    gave (`median_rule`); None for any other reason (Hyperband's, a stopped job's).

    Args:
        reason: a run's stored stop reason.

    Returns:
        The step the reason names, or None.
    """
    found = _MEDIAN_REASON_STEP.match(reason or "")
    return int(found.group(1)) if found else None


def earlier_curves(curves: Sequence[ObjectiveCurve], mine: ObjectiveCurve) -> list[ObjectiveCurve]:
    """The runs the median rule compares a run with: those its search started before it
    that did not fail (as `Tuner.after_points` picks them; none for a run no search
    started)."""
    if mine.search_index is None:
        return []
    return [
        c
        for c in curves
        if c.search_index is not None
        and c.search_index < mine.search_index
        and c.status is not RunStatus.FAILED
    ]


def median_curve(
    earlier: Sequence[Curve], steps: Sequence[int], min_runs: int = MEDIAN_MIN_RUNS
) -> list[MedianPoint]:
    """The median the rule compares against, at each of `steps` where it applies."""
    found = (median_at(step, earlier, min_runs) for step in steps)
    return [point for point in found if point is not None]


def median_at(
    step: int, earlier: Sequence[Curve], min_runs: int = MEDIAN_MIN_RUNS
) -> MedianPoint | None:
    """The median the rule compares a value at `step` with.

    Args:
        step: the step of the value judged.
        earlier: the curves of the runs it is compared with.
        min_runs: how many of them must have reached the step.

    Returns:
        The median of the running averages (`running_average_at`) of the runs that
        reached the step, and how many they were; None below `min_runs` of them.
    """
    averages = [a for a in (running_average_at(c, step) for c in earlier) if a is not None]
    return median_of(step, averages, min_runs)


def median_of(step: int, averages: Sequence[float], min_runs: int) -> MedianPoint | None:
    """The median of the running averages at `step` of the runs that reached it, in
    their runs' order; None below `min_runs` of them (`median_at`)."""
    if len(averages) < min_runs:
        return None
    return MedianPoint(step, statistics.median(averages), len(averages))


def running_average_at(curve: Curve, step: int) -> float | None:
    """A run's running average at `step`: the mean of its finite values at steps up to
    it, if the run has reached the step (a point at it or beyond); else None.

    The sum is `math.fsum`'s, exact then rounded once, so it does not depend on the
    order the points came in: `RunningAverages` gives the same float from sorted points.
    """
    values = [v for s, v in curve if s <= step and math.isfinite(v)]
    reached = any(s >= step for s, _ in curve)
    if reached and values:
        try:
            return math.fsum(values) / len(values)
        except OverflowError:
            # Values near float's limit whose partial sums overflow (fsum refuses them);
            # `RunningAverages` comes here too for such a curve, so both still agree.
            return sum(values) / len(values)
    return None


class ExactSum:
    """The exact sum of the values added so far, as `math.fsum` keeps it (Shewchuk's
    non-overlapping partials), read rounded once: after each value, `total()` is
    `math.fsum` of every value so far, without summing them again."""

    def __init__(self) -> None:
        self._partials: list[float] = []

    def add(self, x: float) -> bool:
        """Add a finite value; False (and the sum no longer usable) where a partial sum
        overflows, as `math.fsum` raises there."""
        i = 0
        for y in self._partials:
            if abs(x) < abs(y):
                x, y = y, x
            high = x + y
            if math.isinf(high):
                return False
            low = y - (high - x)
            if low:
                self._partials[i] = low
                i += 1
            x = high
        self._partials[i:] = [x]
        return True

    def total(self) -> float:
        return math.fsum(self._partials)


_SUM_LIMIT = 1e307


def _prefix_sums(values: Sequence[float]) -> list[float]:
    """`math.fsum` of each prefix of `values` (the empty one first), in one pass: every
    float is an integer over a power of two, so over their largest denominator the
    prefixes are integer sums, exact; dividing one by the denominator rounds once, as
    fsum does (Python's integer division is correctly rounded). A Python loop of fsum's
    own partials took 1.2 s for 1,000 curves of 1,000 points; this, a few tenths."""
    ratios = list(map(float.as_integer_ratio, values))
    scale = max(map(operator.itemgetter(1), ratios), default=1)
    bits = scale.bit_length()
    totals = itertools.accumulate((n << (bits - d.bit_length()) for n, d in ratios), initial=0)
    return list(map(scale.__rtruediv__, totals))


class RunningAverages:
    """One curve's running average at any step, the very float `running_average_at`
    gives, answered by bisection: the curve's finite points sorted by step, so the values
    up to a step are a prefix, with each prefix's exact sum (`ExactSum`) kept. For
    explaining a run's every step against thousands of earlier runs, where the long way
    costs steps x runs x points, whatever order the steps came in."""

    def __init__(self, curve: Curve) -> None:
        self._curve = curve
        self._last = max((s for s, _ in curve), default=None)
        steps = [s for s, _ in curve]
        if not all(a <= b for a, b in itertools.pairwise(steps)):
            curve = sorted(curve, key=operator.itemgetter(0))
        self._steps = [s for s, v in curve if math.isfinite(v)]
        values = [v for _, v in curve if math.isfinite(v)]
        # Where no partial sum can come near float's limit (fsum raises past it, and
        # `running_average_at` then falls back to the long way, as this does).
        self._exact = not values or max(map(abs, values)) * len(values) < _SUM_LIMIT
        self._sums = _prefix_sums(values) if self._exact else []

    def at(self, step: int) -> float | None:
        """`running_average_at(curve, step)`."""
        if not self._exact:
            return running_average_at(self._curve, step)
        if self._last is None or self._last < step:
            return None
        count = bisect.bisect_right(self._steps, step)
        return self._sums[count] / count if count else None


def hyperband_rule(
    index: int,
    current: Curve,
    others: Sequence[tuple[int, Curve]],
    maximize: bool,
    min_resource: int,
    max_resource: int,
    eta: int = HYPERBAND_ETA,
    added: int = 1,
) -> Verdict | None:
    """Asynchronous Hyperband: a run's resource is how many objective points it has
    emitted. Runs are dealt round-robin into brackets by their index; in bracket b the
    rungs lie at min_resource * eta**(b + k) below max_resource. A run that reaches a
    rung goes on only if its value there is among the best 1/eta of its bracket's runs
    that reached the rung (once at least eta have).

    Args:
        index: the run's index in the job (0 for the search's first run).
        others: (index, curve) of the job's other runs.
        added: how many of `current`'s points just came: each rung they passed is judged,
            lowest first, with the run's value there (one chunk may bring a second of
            lines, or an outage's backlog, past several rungs).
    """
    bracket = _bracket(index, min_resource, max_resource, eta)
    resource = len(current)
    passed = sorted(
        rung
        for rung in _rungs(bracket, min_resource, max_resource, eta)
        if resource - max(added, 1) < rung <= resource
    )
    for rung in passed:
        verdict = _judged_at(
            rung, bracket, current, others, maximize, min_resource, max_resource, eta
        )
        if verdict is not None:
            return verdict
    return None


def _judged_at(
    resource: int,
    bracket: int,
    current: Curve,
    others: Sequence[tuple[int, Curve]],
    maximize: bool,
    min_resource: int,
    max_resource: int,
    eta: int,
) -> Verdict | None:
    """Hyperband's verdict on a run at one rung it reached (`hyperband_rule`)."""
    mine = current[resource - 1][1]
    peers = [
        curve[resource - 1][1]
        for other, curve in others
        if len(curve) >= resource and _bracket(other, min_resource, max_resource, eta) == bracket
    ]
    values = sorted([mine, *peers], reverse=maximize)
    if len(values) < eta:
        return None
    kept = len(values) // eta
    threshold = values[kept - 1]  # the worst value that goes on
    if (mine >= threshold) if maximize else (mine <= threshold):
        return None
    return Verdict(
        f"stopped by Hyperband at resource {resource} of {max_resource}: {mine:.4g} is not "
        f"among the best {kept} of {len(values)} runs at this rung"
    )


def _bracket(index: int, min_resource: int, max_resource: int, eta: int) -> int:
    brackets = max(1, int(math.log(max_resource / min_resource, eta) + 1e-9) + 1)
    return index % brackets


def _rungs(bracket: int, min_resource: int, max_resource: int, eta: int) -> set[int]:
    rungs = set()
    resource = min_resource * eta**bracket
    while resource < max_resource:
        rungs.add(resource)
        resource *= eta
    return rungs
