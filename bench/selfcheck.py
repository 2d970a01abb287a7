"""Checks of the benchmark's own yardsticks, before anything is timed.

The naive baseline and the equality check decide whether a speed may be printed at all,
so they are checked first: the naive parser must find exactly what `parse_log` finds on
every real capture (tests/data/captures) with its preset and with the benchmark's 40
definitions, and the comparison must notice a changed, a missing and an extra point.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from app.parsing import LogFormat, MetricDefinition, parse_log
from bench.definitions import BENCH_DEFINITIONS, preset_definitions
from bench.points import compare_points
from tests.parsing.naive import PointRow, naive_parse, rows_of

__all__ = ["CAPTURES", "SelfCheck", "run_selfcheck"]

CAPTURES = Path(__file__).resolve().parent.parent / "tests" / "data" / "captures"


@dataclass(frozen=True)
class SelfCheck:
    cases: int
    points: int
    failures: tuple[str, ...]


def run_selfcheck() -> SelfCheck:
    """Compare the naive parser with `parse_log` on every capture; test the comparison."""
    expected = json.loads((CAPTURES / "expected.json").read_text())
    failures: list[str] = []
    cases = points = 0
    for name, case in sorted(expected.items()):
        log = (CAPTURES / name).read_bytes()
        log_format = LogFormat(case["log_format"])
        for label, definitions in (
            (case["preset"], preset_definitions(case["preset"])),
            ("bench-40", BENCH_DEFINITIONS),
        ):
            found = _compare_with_service(definitions, log, log_format)
            cases += 1
            points += found[0]
            failures.extend(f"{name} with {label}: {text}" for text in found[1])
    failures.extend(_check_the_comparison())
    return SelfCheck(cases, points, tuple(failures))


def _compare_with_service(
    definitions: tuple[MetricDefinition, ...], log: bytes, log_format: LogFormat
) -> tuple[int, list[str]]:
    reference = parse_log(definitions, log, log_format)
    naive = naive_parse(definitions, log, log_format)
    problems = [d.describe() for d in compare_points(rows_of(reference.points), naive.points)]
    if naive.lines != reference.lines:
        problems.append(f"{naive.lines} lines, parse_log counts {reference.lines}")
    return len(naive.points), problems


def _check_the_comparison() -> list[str]:
    rows: list[PointRow] = [("a", 1.0, 1, 1, 0), ("b", 2.0, 1, 1, 0), ("a", 3.0, 2, 2, 9)]
    changed = [rows[0], rows[1], ("a", 3.5, 2, 2, 9)]
    problems = []
    if compare_points(rows, list(rows)):
        problems.append("the comparison finds a difference between equal lists")
    for label, other in (("changed", changed), ("missing", rows[:2]), ("extra", [*rows, rows[0]])):
        if not compare_points(rows, other):
            problems.append(f"the comparison misses a {label} point")
    # Interleaving across metrics may differ (a series is stored per metric).
    if compare_points(rows, [rows[1], rows[0], rows[2]]):
        problems.append("the comparison depends on the order across metrics")
    return problems
