"""Importance on known answers: the hyperparameter that decides the objective comes first."""

from __future__ import annotations

import math
import random

import pytest

from app.analysis import importance as module
from app.analysis.importance import importance, minimum_runs
from app.protocol.search import SearchSpec
from app.records import ObjectiveType, Run, RunStatus
from tests.analysis.records import job, run

SEARCH = {
    "strategy": "Random",
    "command": ["true"],
    "resource_limits": {"max_number_of_training_jobs": 30},
    "parameter_ranges": {
        "ContinuousParameterRanges": [
            {"Name": "x", "MinValue": 0.001, "MaxValue": 1, "ScalingType": "Logarithmic"},
            {"Name": "y", "MinValue": 0, "MaxValue": 1},
        ],
        "CategoricalParameterRanges": [{"Name": "z", "Values": ["a", "b", "c"]}],
    },
}


def _known(count: int = 30, objective_type: ObjectiveType = ObjectiveType.MAXIMIZE) -> list[Run]:
    """`count` completed runs where the objective is log10(x) alone; y and z are noise;
    then two failed runs whose values (high) must not count."""
    draw = random.Random(3)
    runs = []
    for i in range(1, count + 1):
        x = 10 ** draw.uniform(-3, 0)
        hp = {"x": f"{x:.6g}", "y": f"{draw.random():.6f}", "z": draw.choice("abc")}
        runs.append(run(i, round(math.log10(float(hp["x"])), 6), hyperparameters=hp))
    for i in (count + 1, count + 2):
        hp = {"x": "0.5", "y": "0.5", "z": "a"}
        runs.append(run(i, 99.0, status=RunStatus.FAILED, hyperparameters=hp))
    return runs


@pytest.mark.parametrize("evaluator", ["fanova", "ped-anova"])
def test_the_deciding_hyperparameter_comes_first(evaluator: str) -> None:
    search = SearchSpec.model_validate(SEARCH)

    found = importance(job(search=SEARCH), search, _known(), evaluator)  # type: ignore[arg-type]

    names = [name for name, _ in found.importances]
    assert names[0] == "x" and sorted(names) == ["x", "y", "z"]
    assert found.importances[0][1] > 0.5
    assert math.isclose(sum(v for _, v in found.importances), 1.0)
    assert (found.metric_name, found.evaluator, found.runs) == ("acc", evaluator, 30)
    assert (found.minimum_runs, found.warning) == (20, None)


def test_a_minimizing_job_without_a_search_infers_the_ranges() -> None:
    found = importance(job(ObjectiveType.MINIMIZE), None, _known(), "ped-anova")

    assert found.importances[0][0] == "x"
    assert found.runs == 30


def test_the_same_runs_are_not_fitted_again(monkeypatch: pytest.MonkeyPatch) -> None:
    search = SearchSpec.model_validate(SEARCH)
    module._FITS.clear()
    first = importance(job(search=SEARCH), search, _known(), "fanova")
    again = importance(job(search=SEARCH), search, _known(), "fanova")

    assert again == first
    assert (module._FITS.misses, module._FITS.hits) == (1, 1)
    # A new finished run is a new fit.
    importance(job(search=SEARCH), search, _known(31), "fanova")
    assert module._FITS.misses == 2


def test_too_few_runs_rank_with_a_warning_and_fewer_than_two_do_not() -> None:
    search = SearchSpec.model_validate(SEARCH)

    few = importance(job(search=SEARCH), search, _known(5), "fanova")
    assert few.runs == 5 and len(few.importances) == 3
    assert few.warning == "Only 5 finished runs (fewer than 20): the ranking may be noise."

    one = importance(job(search=SEARCH), search, _known(1), "fanova")
    assert (one.runs, one.importances) == (1, ())
    assert one.warning is not None and one.warning.startswith("Only 1 finished run ")

    none = importance(job(search=SEARCH), search, _known(0), "fanova")
    assert (none.runs, none.importances, none.warning) == (
        0,
        (),
        "No finished run with a value yet.",
    )


def test_a_hyperparameter_that_never_varied_is_left_out_and_named() -> None:
    runs = [
        run(i, r.objective_value, hyperparameters={**r.hyperparameters, "z": "b"})
        for i, r in enumerate(_known()[:30], 1)
    ]
    search = SearchSpec.model_validate(SEARCH)

    found = importance(job(search=SEARCH), search, runs, "fanova")

    assert found.importances[0][0] == "x"
    assert {name for name, _ in found.importances} == {"x", "y"}
    assert found.warning == "Left out, never varied: z."


def test_runs_missing_a_tuned_value_are_not_counted() -> None:
    runs = _known()
    runs[0] = run(1, 0.0, hyperparameters={"x": "0.1", "y": "0.2"})  # no z
    search = SearchSpec.model_validate(SEARCH)

    assert importance(job(search=SEARCH), search, runs, "fanova").runs == 29


def test_the_minimum_grows_with_the_hyperparameters() -> None:
    assert [minimum_runs(n) for n in (1, 3, 4, 5, 10)] == [20, 20, 20, 25, 50]


@pytest.mark.parametrize("evaluator", ["fanova", "ped-anova"])
def test_an_objective_that_never_varied_has_nothing_to_rank(evaluator: str) -> None:
    runs = [run(i, 0.5, hyperparameters={"a": str(i), "b": "xy"[i % 2]}) for i in range(1, 6)]

    found = importance(job(), None, runs, evaluator)  # type: ignore[arg-type]

    assert (found.runs, found.importances) == (5, ())
    assert found.warning == (
        "Only 5 finished runs (fewer than 20): the ranking may be noise; "
        "the objective never varied."
    )


@pytest.mark.parametrize("evaluator", ["fanova", "ped-anova"])
def test_a_hyperparameter_few_runs_have_is_left_out_not_the_runs(evaluator: str) -> None:
    # A job without a search: 29 runs of lr and seed, one more with a stray note.
    runs = [
        run(i, 0.1 * (i % 7), hyperparameters={"lr": str(0.001 * (i % 7 + 1)), "seed": str(i)})
        for i in range(1, 30)
    ]
    runs.append(run(30, 0.5, hyperparameters={"lr": "0.004", "seed": "30", "note": "retry"}))

    found = importance(job(), None, runs, evaluator)  # type: ignore[arg-type]

    assert found.runs == 30
    assert [name for name, _ in found.importances] == ["lr", "seed"]
    assert found.warning == "Left out, not in 90% of the finished runs: note (in 1 of 30)."


def test_a_hyperparameter_most_runs_have_is_fitted_without_the_runs_lacking_it() -> None:
    runs = [
        run(i, 0.1 * (i % 7), hyperparameters={"lr": str(0.001 * (i % 7 + 1)), "seed": str(i)})
        for i in range(1, 29)
    ]
    runs += [run(i, 0.5, hyperparameters={"lr": "0.004"}) for i in (29, 30)]  # 28 of 30 have seed

    found = importance(job(), None, runs, "fanova")

    assert found.runs == 28
    assert [name for name, _ in found.importances] == ["lr", "seed"]
    assert found.warning is None


WIDE = {
    **SEARCH,
    "parameter_ranges": {
        "ContinuousParameterRanges": [{"Name": "x", "MinValue": 0, "MaxValue": 1e300}],
        "IntegerParameterRanges": [{"Name": "n", "MinValue": 1, "MaxValue": 10}],
    },
}


@pytest.mark.parametrize("evaluator", ["fanova", "ped-anova"])
@pytest.mark.parametrize(
    ("search", "values"),
    [
        (WIDE, [f"{(i % 5) * 1e299}" for i in range(25)]),  # a legal range past float32
        (None, [f"{(i % 5) * 1e39}" for i in range(25)]),  # values past float32
        (None, [f"{(i % 5 + 1) * 1e-300}" for i in range(25)]),  # apart below its resolution
    ],
)
def test_numbers_past_float32_are_ranked(
    search: dict[str, object] | None, values: list[str], evaluator: str
) -> None:
    # x decides the objective; n is noise.
    runs = [
        run(i, 0.1 * (i % 5), hyperparameters={"x": x, "n": str(i % 3 + 1)})
        for i, x in enumerate(values, 1)
    ]
    spec = SearchSpec.model_validate(search) if search is not None else None

    found = importance(job(search=search), spec, runs, evaluator)  # type: ignore[arg-type]

    assert found.runs == 25 and found.warning is None
    assert [name for name, _ in found.importances] == ["x", "n"]
    assert found.importances[0][1] > 0.9


def test_an_evaluator_that_refuses_the_values_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: object, study: object) -> None:
        raise ValueError("Input X contains infinity or a value too large for dtype('float32').")

    monkeypatch.setattr(module.FanovaImportanceEvaluator, "evaluate", refuse)
    module._FITS.clear()
    search = SearchSpec.model_validate(SEARCH)

    found = importance(job(search=SEARCH), search, _known(), "fanova")

    assert (found.runs, found.importances) == (30, ())
    assert found.warning == "The evaluator (fANOVA) could not rank these values."
