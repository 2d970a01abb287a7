"""The check that two ways of parsing found the same points (as the oracle's rows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tests.parsing.naive import PointRow

__all__ = ["Difference", "compare_points"]


@dataclass(frozen=True)
class Difference:
    """Where two point lists first disagree, for one metric."""

    metric: str
    index: int  # 0-based position among that metric's points, by arrival
    expected: PointRow | None
    found: PointRow | None
    expected_count: int
    found_count: int

    def describe(self) -> str:
        return (
            f"{self.metric}: {self.expected_count} points expected, {self.found_count} found; "
            f"first difference at #{self.index + 1}: expected {self.expected}, "
            f"found {self.found}"
        )


def compare_points(expected: Sequence[PointRow], found: Sequence[PointRow]) -> list[Difference]:
    """Per metric, the first point where `found` differs from `expected` (in arrival order).

    The order of points across metrics is not compared: storage keeps a series per
    metric, so that is all an HTTP read-back can show.
    """
    by_metric_expected = _by_metric(expected)
    by_metric_found = _by_metric(found)
    differences = []
    for metric in sorted(by_metric_expected.keys() | by_metric_found.keys()):
        want = by_metric_expected.get(metric, [])
        got = by_metric_found.get(metric, [])
        if want == got:
            continue
        index = next(
            (i for i, (a, b) in enumerate(zip(want, got, strict=False)) if a != b),
            min(len(want), len(got)),
        )
        differences.append(
            Difference(
                metric,
                index,
                want[index] if index < len(want) else None,
                got[index] if index < len(got) else None,
                len(want),
                len(got),
            )
        )
    return differences


def _by_metric(rows: Sequence[PointRow]) -> dict[str, list[PointRow]]:
    grouped: dict[str, list[PointRow]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    return grouped
