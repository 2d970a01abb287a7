"""Each run's hyperparameters, chosen by the job's search strategy.

A suggestion is a pure function of the search, the run's index in the job (0 for the
first run the search starts) and the history of the runs before it, so that it can be
made again after a restart, in any process: Random and Grid depend on the seed and the
index alone; Bayesian replays the history into an Optuna study held in memory (the
database is the study's storage) and asks it for the next point.

A warm-started search is also given its parents' ended runs (`parents`), which never
change: Bayesian search is told them before its own runs, as complete (or failed) trials;
Random and Hyperband draw again, from the same seeded stream, a point a parent ran; Grid
passes over the grid's points a parent ran. A parent's run is mapped onto the child's
ranges by name; one whose value of a tuned hyperparameter lies outside the child's range
(or which lacks one) is left out, not clipped: Optuna refuses a trial outside its
distribution, and clipping would tell it of a point nobody ran.
"""

from __future__ import annotations

import itertools
import math
import random
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState, create_trial

from app.protocol.ranges import IntegerRange, Scaling
from app.protocol.search import SearchSpec, SearchStrategy

__all__ = ["Trial", "TrialOutcome", "runs_to_start", "startup_trials", "suggest"]

# Each suggestion makes a study in memory; Optuna would log every one of them at INFO.
optuna.logging.set_verbosity(optuna.logging.WARNING)
# Draws a Random search makes for one run before it takes a point a parent ran anyway
# (a space the parents have run nearly all of).
_MAX_DRAWS = 100


class TrialOutcome(NamedTuple):
    """Where a run stands, as the Bayesian search sees it."""

    finished: bool  # ended, with or without a value
    value: float | None  # its objective value, if it has one


class Trial(NamedTuple):
    """A run of the job, earlier than the one to suggest for."""

    hyperparameters: Mapping[str, str]
    outcome: TrialOutcome


def suggest(
    search: SearchSpec,
    index: int,
    history: Sequence[Trial],
    maximize: bool,
    parents: Sequence[Trial] = (),
) -> dict[str, str]:
    """The hyperparameters of the job's run number `index` (0-based), static ones
    included, as strings.

    Args:
        history: the runs the search started before this one, oldest first.
        maximize: the objective's direction (Bayesian search only).
        parents: a warm-started search's parents' ended runs.

    Raises: IndexError for a Grid index at or past `runs_to_start`.
    """
    ran = _points(search, parents)
    if search.strategy is SearchStrategy.GRID:
        tuned = _grid_point(search, index, ran)
    elif search.strategy is SearchStrategy.BAYESIAN:
        tuned = _bayesian(search, index, [*parents, *history], maximize)
    else:  # Random, and Hyperband, whose runs are sampled at random and stopped by rungs
        tuned = _random_unrun(search, random.Random(f"{search.seed}/{index}"), ran)
    return {**search.static_text(), **tuned}


def runs_to_start(search: SearchSpec, parents: Sequence[Trial] = ()) -> int:
    """How many runs the search starts: `max_training_jobs`, but for a warm-started
    Grid no more than the grid's points that no parent ran."""
    if search.strategy is not SearchStrategy.GRID or not parents:
        return search.max_training_jobs()
    ran = _points(search, parents)
    unrun = sum(1 for point in _grid(search) if tuple(point.values()) not in ran)
    return min(search.max_training_jobs(), unrun)


def startup_trials(search: SearchSpec) -> int:
    """Runs the Bayesian search samples at random before it models the objective:
    a third of the runs, between 3 and 10 (Optuna's TPE default is 10)."""
    return max(3, min(10, search.max_training_jobs() // 3))


def _grid_point(search: SearchSpec, index: int, ran: set[tuple[str, ...]]) -> dict[str, str]:
    """The grid's combination number `index`, counting only those no parent ran."""
    unrun = (point for point in _grid(search) if tuple(point.values()) not in ran)
    found = next(itertools.islice(unrun, index, None), None)
    if found is None:
        raise IndexError(f"the grid has no point number {index} left to run")
    return found


def _grid(search: SearchSpec) -> Iterator[dict[str, str]]:
    """The grid's combinations in order, the last range varying fastest; each holds the
    tuned names in `_names` order."""
    ranges = search.parameter_ranges
    axes: list[tuple[str, list[str]]] = [(r.name, list(r.values)) for r in ranges.categorical]
    axes += [
        (r.name, [str(v) for v in range(r.min_value, r.max_value + 1)]) for r in ranges.integer
    ]
    names = [name for name, _ in axes]
    for combination in itertools.product(*(values for _, values in axes)):
        yield dict(zip(names, combination, strict=True))


def _names(search: SearchSpec) -> list[str]:
    """The tuned names in the order every suggestion holds them."""
    return search.parameter_ranges.names()


def _points(search: SearchSpec, parents: Sequence[Trial]) -> set[tuple[str, ...]]:
    """The points the parents ran, as the values of the search's tuned names in `_names`
    order; a run without one of those names ran no point of this search."""
    names = _names(search)
    found = set()
    for trial in parents:
        values = [trial.hyperparameters.get(name) for name in names]
        if all(value is not None for value in values):
            found.add(tuple(str(value) for value in values))
    return found


def _random_unrun(
    search: SearchSpec, rng: random.Random, ran: set[tuple[str, ...]]
) -> dict[str, str]:
    """A random point no parent ran: drawn again from the same stream until one is (a
    parent with the child's seed drew the child's first points)."""
    for _ in range(_MAX_DRAWS - 1):
        point = _random(search, rng)
        if tuple(point[name] for name in _names(search)) not in ran:
            return point
    return _random(search, rng)


def _random(search: SearchSpec, rng: random.Random) -> dict[str, str]:
    ranges = search.parameter_ranges
    values = {r.name: rng.choice(r.values) for r in ranges.categorical}
    values.update({r.name: str(_sample_integer(r, rng)) for r in ranges.integer})
    values.update(
        {
            r.name: _continuous_text(r.value_at(rng.random()), r.min_value, r.max_value)
            for r in ranges.continuous
        }
    )
    return values


def _sample_integer(r: IntegerRange, rng: random.Random) -> int:
    if r.scaling_type is Scaling.LOGARITHMIC:
        # Uniform in log(x) over [min, max + 1), then down to an integer.
        value = math.exp(rng.uniform(math.log(r.min_value), math.log(r.max_value + 1)))
        return min(math.floor(value), r.max_value)
    return rng.randint(r.min_value, r.max_value)


def _distributions(search: SearchSpec) -> dict[str, BaseDistribution]:
    ranges = search.parameter_ranges
    found: dict[str, BaseDistribution] = {
        r.name: CategoricalDistribution(list(r.values)) for r in ranges.categorical
    }
    for i in ranges.integer:
        found[i.name] = IntDistribution(
            i.min_value, i.max_value, log=i.scaling_type is Scaling.LOGARITHMIC
        )
    for c in ranges.continuous:
        # TPE has no reverse-logarithmic scale: such a range is modelled linearly.
        found[c.name] = FloatDistribution(
            c.min_value, c.max_value, log=c.scaling_type is Scaling.LOGARITHMIC
        )
    return found


def _bayesian(
    search: SearchSpec, index: int, history: Sequence[Trial], maximize: bool
) -> dict[str, str]:
    """Optuna's TPE, told every earlier run: those with a value as complete, those in
    progress as running (with `constant_liar`, so parallel runs are spread apart), the
    others as failed."""
    distributions = _distributions(search)
    if not distributions:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=(search.seed * 100_003 + index) % 2**32,
            n_startup_trials=startup_trials(search),
            constant_liar=True,
        )
        study = optuna.create_study(
            direction="maximize" if maximize else "minimize", sampler=sampler
        )
        for trial in history:
            params = _params(trial.hyperparameters, distributions)
            if params is None:
                continue  # not a run of this search's ranges (started by hand, say)
            study.add_trial(_frozen(params, distributions, trial.outcome))
        asked = study.ask(distributions)
    return {name: _text(value, distributions[name]) for name, value in asked.params.items()}


def _frozen(
    params: dict[str, Any], distributions: dict[str, BaseDistribution], outcome: TrialOutcome
) -> optuna.trial.FrozenTrial:
    if not outcome.finished:
        return create_trial(params=params, distributions=distributions, state=TrialState.RUNNING)
    if outcome.value is None or not math.isfinite(outcome.value):
        return create_trial(params=params, distributions=distributions, state=TrialState.FAIL)
    return create_trial(params=params, distributions=distributions, value=outcome.value)


def _params(
    hyperparameters: Mapping[str, str], distributions: Mapping[str, BaseDistribution]
) -> dict[str, Any] | None:
    """A run's hyperparameters as values of the distributions; None if one is missing
    or out of its range."""
    params: dict[str, Any] = {}
    for name, distribution in distributions.items():
        text = hyperparameters.get(name)
        if text is None:
            return None
        try:
            value: Any
            if isinstance(distribution, CategoricalDistribution):
                value = text
            elif isinstance(distribution, IntDistribution):
                value = int(text)
            else:
                value = float(text)
        except ValueError:
            return None
        if isinstance(distribution, CategoricalDistribution):
            if value not in distribution.choices:
                return None
        elif not distribution.low <= value <= distribution.high:  # type: ignore[attr-defined]
            return None
        params[name] = value
    return params


def _text(value: Any, distribution: BaseDistribution) -> str:
    if isinstance(distribution, FloatDistribution):
        return _continuous_text(value, distribution.low, distribution.high)
    return str(value)


def _continuous_text(value: float, low: float, high: float) -> str:
    """Six significant digits, as a person writes a learning rate, unless they read back
    outside the range (one narrower than its sixth digit): then every digit, which never
    does. A value outside its range would also drop the run from TPE's history."""
    short = f"{value:.6g}"
    return short if low <= float(short) <= high else repr(value)
