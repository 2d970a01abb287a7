"""Which hyperparameters matter: Optuna's fANOVA or PED-ANOVA importance, computed from a
job's finished runs (the job page's ranking, `GET /v1/jobs/{job}/importance`)."""

from __future__ import annotations

import hashlib
import math
import threading
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.importance import FanovaImportanceEvaluator, PedAnovaImportanceEvaluator

from app.analysis.history import counting_value
from app.jobs import OBJECTIVE_HYPERPARAMETER
from app.protocol.ranges import Scaling
from app.protocol.search import SearchSpec
from app.records import Job, ObjectiveType, Run

__all__ = ["EVALUATORS", "Evaluator", "Importance", "importance", "minimum_runs"]

Evaluator = Literal["fanova", "ped-anova"]
EVALUATORS: tuple[Evaluator, ...] = ("fanova", "ped-anova")

# Fits kept in the process, keyed by everything a fit reads (evaluator, direction, the
# parameters' distributions, every finished run's values), so a page reload or a second
# viewer does not refit the forest; a new finished run is a new key.
CACHE_SIZE = 64

# Each fit creates a study, which Optuna announces at INFO on stderr; the service's logs are
# its own (app.tuning.suggest sets the same).
optuna.logging.set_verbosity(optuna.logging.WARNING)

# fANOVA's forest: Optuna's default (64 trees, depth 64) takes 0.5 s at 100 runs but 27 to
# 30 s at 1,000 runs (3 or 10 hyperparameters, this project's 2-core machine), too slow for
# a page that must be ready in 1 s; 16 trees of depth 6 take 0.09 s and 0.2 to 0.33 s there
# and rank the same hyperparameter first on our known answers (its importance within
# 0.1 % of the default's). The time goes into fANOVA's marginals over every leaf.
FANOVA_TREES = 16
FANOVA_DEPTH = 6


@dataclass(frozen=True)
class Importance:
    metric_name: str
    evaluator: Evaluator
    runs: int  # finished runs the ranking rests on
    minimum_runs: int
    warning: str | None
    importances: tuple[tuple[str, float], ...]  # highest first; sums to 1 when not empty


def minimum_runs(parameters: int) -> int:
    """Runs below which the ranking is shown with a warning: 20, or 5 per hyperparameter
    where that is more.

    Neither optuna-dashboard nor W&B sets a floor (both rank from 2 trials), and
    fANOVA's paper (Hutter et al., 2014) ranks from hundreds of runs. Our own rule: a
    forest fits any handful of points exactly, so with few runs a noise hyperparameter
    can outrank the one that decides; 20 is where Optuna's TPE has long left its 10
    random start-up trials, and 5 runs per hyperparameter keeps a wide search from being
    ranked on a few points per axis.
    """
    return max(20, 5 * parameters)


# Optuna's in-memory storage deep copies every trial it is given, each trial's
# distributions with it: 60 % of a cold fit at 1,000 runs of 100 hyperparameters (5.4 s of
# 8 under the profiler). A distribution is never changed once made, so every trial of a
# fit shares one object per hyperparameter and the copy keeps it.
class _SharedFloat(FloatDistribution):
    def __deepcopy__(self, memo: dict[int, object]) -> _SharedFloat:
        return self


class _SharedCategorical(CategoricalDistribution):
    def __deepcopy__(self, memo: dict[int, object]) -> _SharedCategorical:
        return self


@dataclass(frozen=True)
class _Param:
    """A tuned hyperparameter as the fit sees it (hashable: part of the cache's key)."""

    name: str
    kind: Literal["float", "int", "categorical"]
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    reverse: bool = False  # ReverseLogarithmic: fitted on 1 - x, on a log scale
    choices: tuple[str, ...] = ()

    def distribution(self) -> BaseDistribution:
        if self.kind == "categorical":
            return _SharedCategorical(self.choices)
        if self.kind == "int":
            return IntDistribution(int(self.low), int(self.high), log=self.log)
        return _SharedFloat(self.low, self.high, log=self.log)

    def value(self, text: str | None) -> float | str | None:
        """The run's value as the fit takes it, or None if it has none that fits."""
        if text is None:
            return None
        if self.kind == "categorical":
            return text if text in self.choices else None
        try:
            number = float(text)
        except ValueError:
            return None
        if not math.isfinite(number):
            return None
        if self.kind == "int":
            return int(number) if number.is_integer() and (number > 0 or not self.log) else None
        number = 1 - number if self.reverse else number
        return number if number > 0 or not self.log else None


def _declared(search: SearchSpec) -> list[_Param]:
    ranges = search.parameter_ranges
    params = [_Param(r.name, "categorical", choices=tuple(r.values)) for r in ranges.categorical]
    for i in ranges.integer:
        log = i.scaling_type is Scaling.LOGARITHMIC
        params.append(_Param(i.name, "int", i.min_value, i.max_value, log=log))
    for c in ranges.continuous:
        if c.scaling_type is Scaling.REVERSE_LOGARITHMIC:
            # The scale the search samples on is log(1 - x): fit on 1 - x, logarithmic,
            # so the forest's uniform measure is the search's (MaxValue < 1 there).
            low, high = 1 - c.max_value, 1 - c.min_value
            params.append(_Param(c.name, "float", low, high, log=True, reverse=True))
        else:
            log = c.scaling_type is Scaling.LOGARITHMIC
            params.append(_Param(c.name, "float", c.min_value, c.max_value, log=log))
    return params


# A job without a search: a hyperparameter in at least this share of the finished runs is
# fitted (the runs lacking it are left out); one in fewer is left out and named, so one run
# with a stray `note` cannot take every other run out of the ranking.
PRESENT_SHARE = 0.9


def _inferred(runs: Sequence[Run]) -> tuple[list[_Param], list[tuple[str, int]]]:
    """A job without a search: every hyperparameter in at least PRESENT_SHARE of the
    runs, numeric (a float range over the values seen) where every value is a number,
    else categorical; the tuning objective's name the service adds as AMT does is no
    hyperparameter of theirs. Also the names left out, with the runs that have each."""
    names = sorted({name for run in runs for name in run.hyperparameters})
    names = [name for name in names if name != OBJECTIVE_HYPERPARAMETER]
    params = []
    rare = []
    for name in names:
        texts = [run.hyperparameters.get(name) for run in runs]
        present = [t for t in texts if t is not None]
        if len(present) < PRESENT_SHARE * len(runs):
            rare.append((name, len(present)))
            continue
        numbers = [_Param(name, "float").value(t) for t in present]
        if all(isinstance(n, float) for n in numbers):
            floats = [n for n in numbers if isinstance(n, float)]
            params.append(_Param(name, "float", min(floats), max(floats)))
        else:
            params.append(_Param(name, "categorical", choices=tuple(sorted(set(present)))))
    return params, rare


def _widened(param: _Param, values: Sequence[float | str]) -> _Param:
    """The distribution stretched over the values seen (a warm-started parent's or a
    range changed since), so every finished run fits in it."""
    if param.kind == "categorical":
        extra = sorted({str(v) for v in values} - set(param.choices))
        return _Param(param.name, "categorical", choices=(*param.choices, *extra))
    numbers = [float(v) for v in values]
    low, high = min(param.low, *numbers), max(param.high, *numbers)
    return _Param(param.name, param.kind, low, high, param.log, param.reverse)


def _unit(param: _Param, values: Sequence[float | str]) -> list[float | str]:
    """A numeric hyperparameter's values rescaled to [0, 1] over its (widened) bounds, on a
    log scale for a logarithmic one; categorical values as they are.

    The evaluators fit in float32 (fANOVA's forest, PED-ANOVA's estimator): a legal range
    of 0 to 1e300 overflows it (a 500 before) and values a hair apart collapse into one;
    on [0, 1] neither happens, and the ranking is the same (each tree splits on order).
    """
    if param.kind == "categorical":
        return list(values)
    low, high = param.low, param.high
    numbers = [float(v) for v in values]
    if param.log:
        low, high = math.log(low), math.log(high)
        numbers = [math.log(n) for n in numbers]
    # Halved so that a span of -1e308 to 1e308 does not overflow to infinity.
    span = high / 2 - low / 2
    if not span > 0:
        return [0.0] * len(numbers)
    return [min(1.0, max(0.0, (n / 2 - low / 2) / span)) for n in numbers]


def importance(
    job: Job, search: SearchSpec | None, runs: Sequence[Run], evaluator: Evaluator
) -> Importance:
    """The importance of the job's tuned hyperparameters for its objective.

    Args:
        job: the job (objective metric and type).
        search: its search, whose ranges give the distributions; None to infer them.
        runs: every run of the job.
        evaluator: "fanova" (Optuna's FanovaImportanceEvaluator, seed 0) or "ped-anova".

    Returns:
        The ranking on the finished runs with a counting value and every tuned value,
        empty below 2 runs or where no hyperparameter varied, with a warning in words
        where it may mislead.
    """
    finished = [run for run in runs if counting_value(run) is not None]
    # Categorical values outside the declared choices are kept (widened), numbers must parse.
    rare: list[tuple[str, int]] = []
    if search is not None:
        declared = _declared(search)
    else:
        declared, rare = _inferred(finished)
    loose = [
        _Param(p.name, "categorical", choices=()) if p.kind == "categorical" else p
        for p in declared
    ]
    rows: list[tuple[float, tuple[float | str, ...]]] = []
    for run in finished:
        values = []
        for param in loose:
            text = run.hyperparameters.get(param.name)
            value = text if param.kind == "categorical" else param.value(text)
            if value is None:
                break
            values.append(value)
        else:
            objective = counting_value(run)
            if objective is not None and math.isfinite(objective):
                rows.append((objective, tuple(values)))

    varied: list[int] = []
    constant: list[int] = []
    for i in range(len(declared)):
        seen = {row[1][i] for row in rows}
        (varied if len(seen) > 1 else constant).append(i)
    widened = [_widened(declared[i], [row[1][i] for row in rows]) for i in varied]
    columns = [_unit(p, [row[1][i] for row in rows]) for p, i in zip(widened, varied, strict=True)]
    params = tuple(
        p if p.kind == "categorical" else _Param(p.name, "float", 0.0, 1.0) for p in widened
    )
    kept = tuple(
        (value, tuple(column[r] for column in columns)) for r, (value, _) in enumerate(rows)
    )
    floor = minimum_runs(len(declared))

    problems = []
    if not rows:
        problems.append("no finished run with a value yet")
    elif len(rows) < floor:
        problems.append(
            f"only {len(rows)} finished run{'s' if len(rows) != 1 else ''} "
            f"(fewer than {floor}): the ranking may be noise"
        )
    if constant and rows:
        names = ", ".join(declared[i].name for i in constant)
        problems.append(f"left out, never varied: {names}")
    if rare:
        names = ", ".join(f"{name} (in {count} of {len(finished)})" for name, count in rare)
        problems.append(f"left out, not in {PRESENT_SHARE:.0%} of the finished runs: {names}")
    ranking: tuple[tuple[str, float], ...] = ()
    if len(rows) >= 2 and len({value for value, _ in rows}) == 1:
        # Nothing to explain (fANOVA refuses it: zero variance in every tree).
        problems.append("the objective never varied")
    elif len(rows) >= 2 and params:
        fitted = _FITS.fit(evaluator, job.objective_type, params, kept)
        if fitted is None:
            problems.append(f"the evaluator ({_NAMES[evaluator]}) could not rank these values")
        elif not fitted:
            problems.append("no hyperparameter explains any of the objective's variation")
        ranking = fitted or ()
    text = "; ".join(problems)
    warning = f"{text[:1].upper()}{text[1:]}." if problems else None
    return Importance(
        job.objective_metric,
        evaluator,
        len(rows),
        floor,
        warning,
        ranking,
    )


_NAMES: dict[Evaluator, str] = {"fanova": "fANOVA", "ped-anova": "PED-ANOVA"}

_Rows = tuple[tuple[float, tuple[float | str, ...]], ...]
_Ranking = tuple[tuple[str, float], ...]


class _Fits:
    """The last CACHE_SIZE fits' rankings, keyed on a digest of everything a fit reads.

    A digest, not the rows themselves: at 1,000 runs of 100 hyperparameters the rows are
    3.3 MB a key (213 MB for 64 keys), and hashing them on every look-up cost more than
    the digest does. Shared by the service's threads, so behind a lock.
    """

    def __init__(self) -> None:
        self._rankings: OrderedDict[bytes, _Ranking | None] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def clear(self) -> None:
        with self._lock:
            self._rankings.clear()
            self.hits = self.misses = 0

    def fit(
        self,
        evaluator: Evaluator,
        objective_type: ObjectiveType,
        params: tuple[_Param, ...],
        rows: _Rows,
    ) -> _Ranking | None:
        """The ranking `_fit` gives, from the cache where these inputs were fitted."""
        digest = hashlib.blake2b(
            repr((evaluator, objective_type.value, params)).encode(), digest_size=32
        )
        for row in rows:
            # repr round-trips every float and quotes every string: one text per row.
            digest.update(repr(row).encode())
        key = digest.digest()
        with self._lock:
            if key in self._rankings:
                self.hits += 1
                self._rankings.move_to_end(key)
                return self._rankings[key]
            self.misses += 1
        ranking = _fit(evaluator, objective_type, params, rows)
        with self._lock:
            self._rankings[key] = ranking
            while len(self._rankings) > CACHE_SIZE:
                self._rankings.popitem(last=False)
        return ranking


_FITS = _Fits()


def _fit(
    evaluator: Evaluator,
    objective_type: ObjectiveType,
    params: tuple[_Param, ...],
    rows: _Rows,
) -> _Ranking | None:
    """The normalized importances, highest first (ties by name); empty where the
    objective never varied (nothing to explain); None where the evaluator refused the
    values (a ValueError: a ranking is no reason for a 5xx)."""
    distributions = {p.name: p.distribution() for p in params}
    direction: Literal["maximize", "minimize"] = (
        "maximize" if objective_type is ObjectiveType.MAXIMIZE else "minimize"
    )
    study = optuna.create_study(direction=direction, storage=optuna.storages.InMemoryStorage())
    study.add_trials(
        [
            optuna.trial.create_trial(
                params=dict(zip(distributions, values, strict=True)),
                distributions=distributions,
                value=value,
            )
            for value, values in rows
        ]
    )
    with warnings.catch_warnings():
        # PED-ANOVA is marked experimental in Optuna 5 (ExperimentalWarning on every
        # construction); its results are what we want, the warning is for Optuna's API.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        chosen = (
            FanovaImportanceEvaluator(n_trees=FANOVA_TREES, max_depth=FANOVA_DEPTH, seed=0)
            if evaluator == "fanova"
            else PedAnovaImportanceEvaluator()
        )
    try:
        with np.errstate(all="ignore"):
            raw = chosen.evaluate(study)
    except ValueError:
        return None
    total = float(sum(raw.values()))
    if not math.isfinite(total) or total <= 0:
        return ()
    ranked = sorted(raw.items(), key=lambda item: (-item[1], item[0]))
    return tuple((name, float(value) / total) for name, value in ranked)
