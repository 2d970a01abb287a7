"""Why a run was stopped early, from literal curves: each point against the median of the
earlier runs' running averages, and the step where the median rule fired."""

from __future__ import annotations

import time

import pytest

from app.analysis.early_stopping import StepExplained, explain_median
from app.tuning.stopping import (
    RunningAverages,
    median_at,
    median_reason_step,
    median_rule,
    running_average_at,
)

# Running averages by step: a 0.5 0.55 0.6 0.65 0.7; b 0.6 0.65 0.7 0.75 0.79; c 0.7 0.75
# 0.8 0.85 (c never reached step 5). Medians: 0.6, 0.65, 0.7, 0.75, and none at step 5.
EARLIER = [
    ("a", [(1, 0.5), (2, 0.6), (3, 0.7), (4, 0.8), (5, 0.9)]),
    ("b", [(1, 0.6), (2, 0.7), (3, 0.8), (4, 0.9), (5, 0.95)]),
    ("c", [(1, 0.7), (2, 0.8), (3, 0.9), (4, 1.0)]),
]


def test_each_point_against_the_median_and_the_rule_fires_after_the_warm_up():
    found = explain_median([(1, 0.5), (2, 0.6), (3, 0.65), (4, 0.71)], EARLIER, True)

    assert found.steps == (
        StepExplained(1, 0.5, 0.5, pytest.approx(0.6), 3, True),
        StepExplained(2, 0.6, pytest.approx(0.55), pytest.approx(0.65), 3, True),
        StepExplained(3, 0.65, pytest.approx(0.5833333), pytest.approx(0.7), 3, True),
        StepExplained(4, 0.71, pytest.approx(0.615), pytest.approx(0.75), 3, True),
    )
    # Worse from step 1 on, but the rule waits for the 4th point.
    assert found.fired_at == 4
    assert found.earlier_runs == ("a", "b", "c")


def test_the_first_worse_point_from_the_warm_up_on_is_where_it_fired():
    found = explain_median(
        [(1, 0.9), (2, 0.9), (3, 0.9), (4, 0.9), (5, 0.1), (6, 0.2)],
        [*EARLIER, ("d", [(1, 0.1), (2, 0.1), (3, 0.1), (4, 0.1), (5, 0.1), (6, 0.1)])],
        True,
    )
    assert [s.worse for s in found.steps] == [False, False, False, False, True, False]
    assert [s.runs for s in found.steps] == [4, 4, 4, 4, 3, 1]
    assert found.steps[4].median == pytest.approx(0.7)  # of a 0.7, b 0.79, d 0.1
    assert found.steps[5].median is None  # only d reached step 6
    assert found.fired_at == 5
    assert found.earlier_runs == ("a", "b", "d")


def test_too_few_earlier_runs_give_no_median_and_no_stop():
    found = explain_median([(1, 0.1), (2, 0.1), (3, 0.1), (4, 0.1)], EARLIER[:2], True)
    assert [(s.median, s.runs, s.worse) for s in found.steps] == [(None, 2, False)] * 4
    assert found.fired_at is None
    assert found.earlier_runs == ()


def test_minimize_is_worse_above_the_median():
    losses = [
        ("a", [(10, 1.0), (20, 0.8), (30, 0.6), (40, 0.4)]),
        ("b", [(10, 2.0), (20, 1.0), (30, 0.9), (40, 0.5)]),
        ("c", [(10, 3.0), (20, 2.0), (30, 1.0), (40, 0.9)]),
    ]
    # Medians: 2.0, 1.5, 1.3, and 1.1 (of 0.7, 1.1, 1.725) at step 40.
    found = explain_median([(10, 2.5), (20, 1.0), (30, 0.9), (40, 1.2)], losses, False)
    assert [s.worse for s in found.steps] == [True, False, False, True]
    assert found.steps[3].median == pytest.approx(1.1)
    assert found.fired_at == 40


def test_a_run_not_stopped_shows_how_close_it_came():
    found = explain_median([(1, 0.7), (2, 0.7), (3, 0.71), (4, 0.76), (5, 0.8)], EARLIER, True)
    assert [s.worse for s in found.steps] == [False, False, False, False, False]
    assert [s.median for s in found.steps][3:] == [pytest.approx(0.75), None]
    assert found.fired_at is None
    assert found.earlier_runs == ("a", "b", "c")


@pytest.mark.parametrize(
    "current",
    [
        [(1, 0.5), (2, 0.6), (3, 0.65), (4, 0.71)],
        [(1, 0.9), (2, 0.9), (3, 0.9), (4, 0.74), (5, 0.1)],
        [(1, 0.7), (2, 0.7), (3, 0.71), (4, 0.76), (5, 0.8)],
    ],
)
def test_it_agrees_with_the_rule_point_by_point(current):
    """The rule, applied after each point, stops the run where the explanation says."""
    found = explain_median(current, EARLIER, True)
    curves = [curve for _, curve in EARLIER]
    verdicts = [median_rule(current[: n + 1], curves, True) for n in range(len(current))]
    first = next((v for v in verdicts if v is not None), None)
    assert median_reason_step(first.reason if first else None) == found.fired_at


def test_the_step_is_read_back_from_the_rules_reason():
    reason = "stopped early at step 12: 0.71 < median 0.75 of 3 earlier runs' running averages"
    assert median_reason_step(reason) == 12
    assert median_reason_step("stopped by Hyperband at resource 3 of 27: 0.1 is not ...") is None
    assert median_reason_step("the job was stopped") is None
    assert median_reason_step(None) is None


@pytest.mark.parametrize(
    "curve",
    [
        [(1, 0.1), (2, 0.2), (3, 0.3), (5, 0.7)],  # steps that grow, with a gap
        [(1, 0.1), (1, 0.2), (2, float("nan")), (2, 0.4), (4, 0.5)],  # repeated, not finite
        [(3, 0.3), (1, 0.1), (2, 0.2), (5, 0.5), (4, 0.4)],  # steps out of order
        [(1, float("inf")), (2, 0.2)],
        [(2, 1e16), (1, 1.0), (3, -1e16), (0, 0.3)],  # a sum whose order would matter
        [(1, 1e308), (2, 1e308), (3, -1e308)],  # partial sums past float's range
        [(1, 5e-324), (2, 1e300), (3, -1e300), (4, 5e-324), (5, 0.1)],  # far apart, subnormal
        [],
    ],
)
def test_running_averages_by_bisection_are_the_rules_own(curve):
    prepared = RunningAverages(curve)
    for step in range(0, 7):
        assert prepared.at(step) == running_average_at(curve, step), step


def test_a_running_average_does_not_depend_on_the_order_of_the_points():
    # Left to right, 0.1 + 0.2 + 0.3 is 0.6000000000000001; the exact sum is 0.6.
    assert running_average_at([(1, 0.1), (2, 0.2), (3, 0.3)], 3) == 0.6 / 3
    assert running_average_at([(3, 0.3), (2, 0.2), (1, 0.1)], 3) == 0.6 / 3
    assert running_average_at([(2, 1e16), (1, 1.0), (3, -1e16)], 3) == 1 / 3


def test_earlier_runs_whose_steps_go_down_are_explained_quickly():
    """As below, but each earlier run ends with a final evaluation logged at step 0: the
    long way took 71 s here."""
    earlier = [
        (f"r{r}", [(s, r / 1000 + s / 1000) for s in range(1, 1001)] + [(0, 0.5)])
        for r in range(1000)
    ]
    current = [(s, 0.5 + s / 1000) for s in range(1, 1001)]
    started = time.perf_counter()
    found = explain_median(current, earlier, True)
    assert time.perf_counter() - started < 20
    curves = [curve for _, curve in earlier]
    for n in (3, 499, 999):
        assert found.steps[n].median == median_at(current[n][0], curves).median  # type: ignore[union-attr]
    assert found.fired_at is None


def test_a_long_run_against_many_earlier_runs_is_explained_quickly():
    """1,000 points against 1,000 earlier runs of 1,000 points: the long way would take
    minutes (steps x runs x points); a few seconds here even on a shared core."""
    earlier = [(f"r{r}", [(s, r / 1000 + s / 1000) for s in range(1, 1001)]) for r in range(1000)]
    current = [(s, 0.5 + s / 1000) for s in range(1, 1001)]
    started = time.perf_counter()
    found = explain_median(current, earlier, True)
    assert time.perf_counter() - started < 20
    # Runs r average r/1000 + (s + 1)/2000 at step s: the median is 0.4995 + (s + 1)/2000.
    assert found.steps[999].median == pytest.approx(0.4995 + 1001 / 2000)
    assert found.fired_at is None
    assert len(found.earlier_runs) == 1000
