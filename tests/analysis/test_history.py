"""The history: the best so far by run index and by time, on literal runs."""

from __future__ import annotations

import pytest

from app.analysis.history import history
from app.records import ObjectiveType, RunStatus
from tests.analysis.records import at, job, run


def test_best_by_index_and_by_time_when_runs_end_out_of_order() -> None:
    # r1 ends at minute 30, r2 at 12, r3 at 20, r4 still running, r5 failed at 16.
    runs = [
        run(1, 0.5, ended=30),
        run(2, 0.3, ended=12),
        run(3, 0.4, ended=20),
        run(4, 0.9, status=RunStatus.IN_PROGRESS),
        run(5, 0.99, status=RunStatus.FAILED, ended=16),
    ]

    found = history(job(), runs, "r1")

    rows = [
        (r.name, r.index, r.objective_value, r.best_by_index, r.best_by_time, r.new_best)
        for r in found.runs
    ]
    assert rows == [
        ("r1", 1, 0.5, 0.5, 0.5, True),
        ("r2", 2, 0.3, 0.5, 0.3, True),
        ("r3", 3, 0.4, 0.5, 0.4, True),
        # In progress and failed runs do not count (their values are not counting values).
        ("r4", 4, None, 0.5, None, False),
        ("r5", 5, None, 0.5, 0.3, False),
    ]
    assert (found.metric_name, found.objective_type, found.best_run) == (
        "acc",
        ObjectiveType.MAXIMIZE,
        "r1",
    )
    assert found.runs[0].ended_at == at(30)
    assert found.runs[3].ended_at is None


def test_a_minimizing_job_keeps_the_least_value() -> None:
    runs = [run(1, 2.0), run(2, 3.0), run(3, 1.5), run(4, 1.5), run(5, None)]

    found = history(job(ObjectiveType.MINIMIZE), runs, "r3")

    assert [r.best_by_index for r in found.runs] == [2.0, 2.0, 1.5, 1.5, 1.5]
    assert [r.best_by_time for r in found.runs] == [2.0, 2.0, 1.5, 1.5, 1.5]
    # A tie is not a new best; a completed run without a value is not either.
    assert [r.new_best for r in found.runs] == [True, False, True, False, False]


def test_stopped_runs_count_and_runs_ending_together_share_the_best() -> None:
    runs = [run(1, 0.2, ended=40), run(2, 0.6, status=RunStatus.STOPPED, ended=40)]

    found = history(job(), runs, "r2")

    # Both ended at minute 40: each one's best by time includes the other.
    assert [r.best_by_time for r in found.runs] == [0.6, 0.6]
    assert [r.new_best for r in found.runs] == [True, True]
    assert [r.objective_value for r in found.runs] == [0.2, 0.6]


@pytest.mark.parametrize(
    ("values", "new_best"),
    [
        ((0.9, 0.7), [True, True, True]),  # the first-created better: both new bests
        ((0.8, 0.8), [True, True, True]),  # equal: both
        ((0.5, 0.9), [True, False, True]),  # 0.5 is no better than r1's 0.6, ended before
    ],
)
def test_runs_ending_at_the_same_instant_are_not_before_each_other(
    values: tuple[float, float], new_best: list[bool]
) -> None:
    # r1 ended at minute 10 with 0.6; r2 and r3 both at minute 20.
    runs = [run(1, 0.6, ended=10), run(2, values[0], ended=20), run(3, values[1], ended=20)]

    found = history(job(), runs, None)

    assert [r.new_best for r in found.runs] == new_best
    assert [r.best_by_time for r in found.runs] == [0.6, max(values), max(values)]


def test_no_runs() -> None:
    found = history(job(), [], None)
    assert (found.runs, found.best_run) == ((), None)
