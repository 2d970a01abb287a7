"""Why a run was stopped early: its objective step by step against the median the rule
compared it with, the step where the rule fired and the runs the median rested on.

Built from the median rule's own functions (`app.tuning.stopping`), so the explanation
and the decision cannot drift apart. The earlier runs' curves are read as they are now:
points carry no time they arrived (a point's timestamp is the writer's, when it gave one)
and the service keeps no time of its decision, so a run that was still going when the
rule fired may have reached more steps since, or failed, and the median at a step may
differ from the one the rule saw. The stored reason keeps the decision's own numbers.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from app.objective import ObjectiveType
from app.protocol.search import EarlyStopping, SearchStrategy
from app.records import Job, ObjectiveCurve, Run, RunStatus, StopCause
from app.tuning.stopping import (
    MEDIAN_MIN_RUNS,
    MEDIAN_WARMUP_POINTS,
    ExactSum,
    RunningAverages,
    earlier_curves,
    median_of,
    median_reason_step,
    running_average_at,
    worse_than_median,
)
from app.tuning.tuner import search_of

__all__ = [
    "EarlyStoppingExplanation",
    "MedianExplanation",
    "Rule",
    "StepExplained",
    "explain_median",
    "explain_run",
    "rule_of",
]

Rule = Literal["median", "hyperband"]


@dataclass(frozen=True)
class StepExplained:
    """One of the run's objective points, as the median rule judged (or would judge) it."""

    step: int
    value: float
    running_average: float  # the mean of the run's values up to the step
    median: float | None  # None: fewer earlier runs than the rule waits for reached the step
    runs: int  # the earlier runs that reached the step (the median's, when there is one)
    worse: bool  # the value is worse than the median


@dataclass(frozen=True)
class MedianExplanation:
    """The run's points judged one by one, and the step where the rule fired (None: it
    never did), with the earlier runs the median rested on there (or at any step)."""

    steps: tuple[StepExplained, ...]
    fired_at: int | None
    earlier_runs: tuple[str, ...]


@dataclass(frozen=True)
class EarlyStoppingExplanation:
    """What `GET /v1/jobs/{job}/runs/{run}/early-stopping` says (contract section 4)."""

    run: str
    metric_name: str
    objective_type: ObjectiveType
    rule: Rule | None
    stopped_early: bool
    reason: str | None
    min_runs: int
    warmup_points: int
    stopped_at_step: int | None
    steps: tuple[StepExplained, ...]
    earlier_runs: tuple[str, ...]


def explain_median(
    current: Sequence[tuple[int, float]],
    earlier: Sequence[tuple[str, Sequence[tuple[int, float]]]],
    maximize: bool,
    *,
    min_runs: int = MEDIAN_MIN_RUNS,
    warmup: int = MEDIAN_WARMUP_POINTS,
) -> MedianExplanation:
    """Judge each of a run's points as `median_rule` judges the latest one.

    Args:
        current: the run's objective points, (step, value) in arrival order.
        earlier: (run name, curve) of the runs the rule compares it with (`earlier_curves`).
        maximize: whether the objective is maximized.
        min_runs: how many earlier runs must have reached a step for a median.
        warmup: the rule judges a run from its `warmup`-th point on.

    Returns:
        Every point with its running average, the median there and whether it was worse;
        the first point from the warm-up on that was worse is where the rule fired.
    """
    prepared = [RunningAverages(curve) for _, curve in earlier]
    # Its own running average as of each point: where its steps never go down, the
    # values up to the step so far are all its values so far, whose exact sum is the one
    # `running_average_at` takes; otherwise the long way.
    ordered = all(a <= b for (a, _), (b, _) in itertools.pairwise(current))
    total, count = ExactSum(), 0
    steps: list[StepExplained] = []
    fired_at: int | None = None
    judged: set[int] = set()  # the earlier runs under a median at some step
    by_step: dict[int, list[float | None]] = {}  # a step's averages, once per step
    for index, (step, value) in enumerate(current):
        averages = by_step.get(step)
        if averages is None:
            averages = by_step[step] = [p.at(step) for p in prepared]
        reached = [a for a in averages if a is not None]
        point = median_of(step, reached, min_runs)
        # As `median_rule`: no median, or a value that is not finite, is never worse.
        worse = point is not None and worse_than_median(value, point.median, maximize)
        if point is not None:
            judged.update(i for i, a in enumerate(averages) if a is not None)
        if math.isfinite(value) and ordered:
            ordered, count = total.add(value), count + 1
        if ordered:
            mean = total.total() / count if count else None
        else:
            mean = running_average_at(current[: index + 1], step)
        steps.append(
            StepExplained(
                step,
                value,
                mean if mean is not None else value,
                point.median if point else None,
                len(reached),
                worse,
            )
        )
        if fired_at is None and worse and index + 1 >= warmup:
            fired_at = step
    if fired_at is not None:
        rested = [
            name for (name, _), a in zip(earlier, by_step[fired_at], strict=True) if a is not None
        ]
    else:
        rested = [name for i, (name, _) in enumerate(earlier) if i in judged]
    return MedianExplanation(tuple(steps), fired_at, tuple(rested))


def rule_of(job: Job) -> Rule | None:
    """The early stopping the job's search applies: Hyperband's rungs, the median rule
    (`early_stopping: Auto`), or none."""
    search = search_of(job)
    if search is None:
        return None
    if search.strategy is SearchStrategy.HYPERBAND:
        return "hyperband"
    return "median" if search.early_stopping is EarlyStopping.AUTO else None


def explain_run(job: Job, run: Run, curves: Sequence[ObjectiveCurve]) -> EarlyStoppingExplanation:
    """Why the run was (or was not) stopped early.

    Args:
        job: the run's job.
        run: the run, with its stop reason and cause.
        curves: the run's objective curve and at least those of the runs the rule compares
            it with (`Storage.objective_curves(job, run)`; every run's will do).

    Returns:
        The explanation: for the median rule every point judged and the step where it
        fired (the stored reason's step for a run it stopped, which is the decision on
        record); for Hyperband the reason only, as it compares runs at rungs, not with a
        median by step; for a job without early stopping no rule and no steps.
    """
    rule = rule_of(job)
    # Asked to stop by early stopping; the run ends Stopped unless it completed first (as
    # the run's own `stopped_early` says), but the rule fired either way.
    asked = run.stop_cause == StopCause.EARLY_STOPPING.value
    steps: tuple[StepExplained, ...] = ()
    earlier: tuple[str, ...] = ()
    at: int | None = None
    mine = next((c for c in curves if c.run == run.name), None)
    if rule == "median" and mine is not None:
        found = explain_median(
            mine.points,
            [(c.run, c.points) for c in earlier_curves(curves, mine)],
            job.objective_type is ObjectiveType.MAXIMIZE,
        )
        steps, earlier = found.steps, found.earlier_runs
        if asked:
            at = median_reason_step(run.stop_reason)
            at = found.fired_at if at is None else at
        if at is not None and at != found.fired_at:
            earlier = tuple(
                c.run
                for c in earlier_curves(curves, mine)
                if running_average_at(c.points, at) is not None
            )
    return EarlyStoppingExplanation(
        run=run.name,
        metric_name=job.objective_metric,
        objective_type=job.objective_type,
        rule=rule,
        stopped_early=asked and run.status is RunStatus.STOPPED,
        reason=run.stop_reason,
        min_runs=MEDIAN_MIN_RUNS,
        warmup_points=MEDIAN_WARMUP_POINTS,
        stopped_at_step=at,
        steps=steps,
        earlier_runs=earlier,
    )
