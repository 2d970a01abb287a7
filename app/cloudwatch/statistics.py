"""CloudWatch's statistics over a metric's samples, bucketed by period (pure).

A period's bucket holds the samples whose time falls in it; buckets are aligned to
multiples of the period since the epoch (a 60 s period's buckets start on whole minutes),
as CloudWatch rounds a request's start time down, and a bucket is stamped with its start.
Only buckets that hold a sample are answered, as CloudWatch answers no datapoint for a
period without data.

Statistics: `SampleCount`, `Average`, `Sum`, `Minimum`, `Maximum`, and percentiles
`p0`..`p100` (up to two decimals, `p99.9`), by the nearest-rank definition: the smallest
sample at or above the fraction p/100 of the bucket's samples (`p0` is the minimum, `p50`
of 1, 2, 3, 4 is 2). A sum or average beyond a double's range saturates at the largest
double of its sign, since an answer cannot hold an infinity.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from app.cloudwatch.metrics import Sample

__all__ = ["STATISTICS", "Bucket", "buckets", "is_statistic", "statistic"]

STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_PERCENTILE = re.compile(r"p(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)")


@dataclass(frozen=True)
class Bucket:
    """A period's samples' values, sorted, and the period's start (epoch seconds)."""

    start: float
    values: tuple[float, ...]


def is_statistic(name: str) -> bool:
    """Whether `name` is a statistic served (one of STATISTICS, or a percentile pNN)."""
    return name in STATISTICS or _PERCENTILE.fullmatch(name) is not None


def buckets(samples: Sequence[Sample], period: int) -> list[Bucket]:
    """The samples in buckets of `period` seconds, by start; empty buckets left out."""
    found: dict[int, list[float]] = {}
    for sample in samples:
        found.setdefault(math.floor(sample.time / period), []).append(sample.value)
    return [
        Bucket(float(index * period), tuple(sorted(values)))
        for index, values in sorted(found.items())
    ]


def statistic(name: str, values: Sequence[float]) -> float:
    """The statistic `name` (`is_statistic`) of sorted, finite, non-empty `values`."""
    count = len(values)
    if name == "SampleCount":
        return float(count)
    if name == "Minimum":
        return values[0]
    if name == "Maximum":
        return values[-1]
    if name == "Sum":
        return _saturated(_sum(values))
    if name == "Average":
        return _saturated(_sum([value / count for value in values]))
    found = _PERCENTILE.fullmatch(name)
    if found is None:
        raise ValueError(f"not a statistic: {name!r}")
    # Exact: 0.29 * 100 in floats is 29.000000000000004, one rank too many.
    rank = max(1, math.ceil(Fraction(found[1]) / 100 * count))
    return values[rank - 1]


def _sum(values: Sequence[float]) -> float:
    try:
        return math.fsum(values)
    except OverflowError:  # an intermediate sum beyond a double's range
        return sum(values)


def _saturated(value: float) -> float:
    if math.isnan(value):
        return 0.0
    return max(-sys.float_info.max, min(sys.float_info.max, value))
