"""Early stopping from objective curves: AMT's median rule and Hyperband's rungs."""

import pytest

from app.tuning.stopping import hyperband_rule, median_curve, median_rule

# Three earlier runs' val_accuracy at steps 1 to 5. Running averages at step 4:
# 0.65, 0.75 and 0.85 (the last one has reached step 4 only).
EARLIER = [
    [(1, 0.5), (2, 0.6), (3, 0.7), (4, 0.8), (5, 0.9)],
    [(1, 0.6), (2, 0.7), (3, 0.8), (4, 0.9), (5, 0.95)],
    [(1, 0.7), (2, 0.8), (3, 0.9), (4, 1.0)],
]


def test_a_run_worse_than_the_median_at_step_4_is_stopped():
    current = [(1, 0.5), (2, 0.6), (3, 0.65), (4, 0.71)]
    verdict = median_rule(current, EARLIER, maximize=True)
    assert verdict is not None
    assert verdict.reason == (
        "stopped early at step 4: 0.71 < median 0.75 of 3 earlier runs' running averages"
    )


def test_a_run_better_than_the_median_goes_on():
    current = [(1, 0.5), (2, 0.6), (3, 0.65), (4, 0.76)]
    assert median_rule(current, EARLIER, maximize=True) is None


def test_minimizing_a_run_above_the_median_is_stopped():
    losses = [[(step, 1 - value) for step, value in curve] for curve in EARLIER]
    current = [(1, 0.5), (2, 0.4), (3, 0.35), (4, 0.3)]  # 0.3 > median 0.25
    verdict = median_rule(current, losses, maximize=False)
    assert verdict is not None and "0.3 > median 0.25" in verdict.reason
    assert median_rule([*current[:3], (4, 0.2)], losses, maximize=False) is None


def test_the_rule_waits_for_its_warm_up_and_for_three_runs_at_the_step():
    bad = [(1, 0.1), (2, 0.1), (3, 0.1), (4, 0.1)]
    assert median_rule(bad[:3], EARLIER, maximize=True) is None  # 3 points only
    assert median_rule(bad, EARLIER[:2], maximize=True) is None  # 2 earlier runs
    # At step 5 only two earlier runs got that far.
    assert median_rule([*bad, (5, 0.1)], EARLIER, maximize=True) is None


def test_runs_that_never_reached_the_step_do_not_count():
    short = [[(1, 0.9), (2, 0.9)]] * 5  # five runs stopped at step 2
    bad = [(1, 0.1), (2, 0.1), (3, 0.1), (4, 0.1)]
    assert median_rule(bad, short, maximize=True) is None
    verdict = median_rule(bad, [*short, *EARLIER], maximize=True)
    assert verdict is not None and "of 3 earlier runs" in verdict.reason


def test_the_median_curve_is_what_the_rule_compares_against():
    assert [(p.step, round(p.median, 4), p.runs) for p in median_curve(EARLIER, [1, 4, 5])] == [
        (1, 0.6, 3),
        (4, 0.75, 3),
    ]


# Hyperband with MinResource 1 and MaxResource 9: brackets 0 (rungs 1 and 3), 1 (rung 3)
# and 2 (no rung); runs are dealt round-robin, so indexes 0, 3, 6, ... share bracket 0.
@pytest.mark.parametrize(
    ("value", "stopped"),
    [(0.1, True), (0.95, False)],
)
def test_hyperband_keeps_the_best_third_at_a_rung(value, stopped):
    others = [(0, [(1, 0.5)]), (3, [(1, 0.9)]), (1, [(1, 0.0)])]  # index 1: other bracket
    verdict = hyperband_rule(6, [(1, value)], others, True, min_resource=1, max_resource=9)
    if stopped:
        assert verdict is not None
        assert verdict.reason == (
            "stopped by Hyperband at resource 1 of 9: 0.1 is not among the best 1 of 3 "
            "runs at this rung"
        )
    else:
        assert verdict is None


def test_hyperband_decides_only_at_rungs_and_with_enough_runs():
    others = [(0, [(1, 0.5), (2, 0.5)]), (3, [(1, 0.9), (2, 0.9)])]
    assert hyperband_rule(6, [(1, 0.1), (2, 0.1)], others, True, 1, 9) is None  # 2: no rung
    assert hyperband_rule(6, [(1, 0.1)], others[:1], True, 1, 9) is None  # 2 runs < eta
    assert hyperband_rule(2, [(1, 0.0)], others, True, 1, 9) is None  # bracket 2: no rungs


def test_hyperband_judges_every_rung_the_new_points_passed_lowest_first():
    # Bracket 0 of three (16 / 1 by thirds): rungs at 1, 3 and 9 points.
    peers = [(0, ((1, 0.9), (2, 0.9), (3, 0.9))), (3, ((1, 0.8), (2, 0.8), (3, 0.8)))]
    mine = ((1, 0.5), (2, 0.5), (3, 0.5), (4, 0.5))

    passed_all = hyperband_rule(6, mine, peers, True, 1, 16, added=4)
    only_the_last = hyperband_rule(6, mine, peers, True, 1, 16, added=1)

    assert passed_all is not None
    assert passed_all.reason == (
        "stopped by Hyperband at resource 1 of 16: 0.5 is not among the best 1 of 3 runs "
        "at this rung"
    )
    assert only_the_last is None  # 4 points, the rung at 3 judged when it was reached
