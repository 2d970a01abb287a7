"""Folding points into a run's metric summaries: pure, shared by every writer.

A summary is what a run keeps per metric so that reads never scan points: the count,
the last value (with its step and time), the minimum and maximum, and the parsing
diagnostics. Each point gets `seq`, its 1-based arrival number among its run's points
of that metric; a point without a `step` capture takes `seq` as its step.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import NamedTuple

from app.records import MetricSummary, Point, RejectionExample

__all__ = [
    "NumberedPoint",
    "by_metric",
    "empty_summary",
    "fold",
    "objective_value",
    "settled_step",
]


class NumberedPoint(NamedTuple):
    """A point with its arrival number and its step settled."""

    metric: str
    seq: int
    step: int
    value: float
    line: int
    offset: int


# `NumberedPoint(...)` runs the NamedTuple's generated `__new__`, a Python function; the
# tuple's own constructor makes the same value at a third of the cost.
_numbered: Callable[[tuple[str, int, int, float, int, int]], NumberedPoint] = functools.partial(
    tuple.__new__, NumberedPoint
)


def settled_step(step: int | None, seq: int) -> int:
    """A point's step: its `step` capture, else its arrival number among its metric's."""
    return step if step is not None else seq


def empty_summary(name: str) -> MetricSummary:
    return MetricSummary(name, 0, None, None, None, None, None)


def fold(
    summary: MetricSummary,
    points: Sequence[Point],
    timestamp: datetime,
    examples: Sequence[RejectionExample] = (),
    rejected: int = 0,
    timeouts: int = 0,
    examples_kept: int = 5,
) -> tuple[MetricSummary, list[NumberedPoint]]:
    """Add a chunk's points and rejections of one metric to its summary.

    Args:
        summary: the metric's summary before the chunk.
        points: the chunk's points of this metric, in arrival order.
        timestamp: the chunk's time, which its points take.
        examples: the chunk's kept rejections of this metric, in stream order.
        rejected, timeouts: the chunk's counts of rejected captures and time-outs.
        examples_kept: how many rejection examples the summary keeps, newest last.

    Returns:
        The new summary, and the points numbered.
    """
    count, last, last_step, low, high = (
        summary.count,
        summary.last,
        summary.last_step,
        summary.min,
        summary.max,
    )
    # One comprehension and builtins over the values: this runs for every point stored.
    numbered = [
        _numbered((metric, seq, settled_step(step, seq), value, line, offset))
        for seq, (metric, value, step, line, offset) in enumerate(points, count + 1)
    ]
    if numbered:
        values = [point.value for point in numbered]
        count, last, last_step = numbered[-1].seq, values[-1], numbered[-1].step
        low = min(values) if low is None else min(low, min(values))
        high = max(values) if high is None else max(high, max(values))
    kept = (*summary.examples, *examples)
    return (
        replace(
            summary,
            count=count,
            last=last,
            last_step=last_step,
            last_timestamp=timestamp if points else summary.last_timestamp,
            min=low,
            max=high,
            rejected=summary.rejected + rejected,
            timeouts=summary.timeouts + timeouts,
            examples=kept[max(0, len(kept) - examples_kept) :],
        ),
        numbered,
    )


def objective_value(summary: MetricSummary, strategy: str) -> float | None:
    """A run's objective value from its objective metric's summary, by the job's strategy:
    the last value (`latest`), the minimum (`min`) or the maximum (`max`)."""
    if not summary.count:
        return None
    return {"latest": summary.last, "min": summary.min, "max": summary.max}[strategy]


def by_metric(points: Sequence[Point]) -> Mapping[str, list[Point]]:
    grouped: dict[str, list[Point]] = {}
    for point in points:
        grouped.setdefault(point.metric, []).append(point)
    return grouped
