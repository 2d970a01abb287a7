"""Parallel coordinates' dimensions and rows, on literal runs."""

from __future__ import annotations

import pytest

from app.analysis.parallel import parallel_coordinates
from app.errors import InvalidInput
from app.protocol.search import SearchSpec
from app.records import RunStatus
from tests.analysis.records import job, run

SEARCH = {
    "strategy": "Random",
    "command": ["true"],
    "resource_limits": {"max_number_of_training_jobs": 5},
    "parameter_ranges": {
        "CategoricalParameterRanges": [{"Name": "optimizer", "Values": ["sgd", "adam"]}],
        "IntegerParameterRanges": [{"Name": "layers", "MinValue": 1, "MaxValue": 8}],
        "ContinuousParameterRanges": [
            {"Name": "lr", "MinValue": 0.0001, "MaxValue": 0.1, "ScalingType": "Logarithmic"},
            {
                "Name": "beta",
                "MinValue": 0.9,
                "MaxValue": 0.999,
                "ScalingType": "ReverseLogarithmic",
            },
        ],
    },
}


def _runs() -> list:
    return [
        run(
            1,
            0.5,
            hyperparameters={"optimizer": "adam", "layers": "2", "lr": "0.01", "beta": "0.95"},
            metrics={"acc": 0.5, "loss": 0.7},
        ),
        run(
            2,
            0.8,
            status=RunStatus.FAILED,
            hyperparameters={"optimizer": "sgd", "layers": "4", "lr": "0.001", "beta": "0.99"},
            metrics={"acc": 0.8},
        ),
        run(3, None, status=RunStatus.IN_PROGRESS, hyperparameters={}),
    ]


def test_the_default_axes_are_the_searchs_ranges_then_the_objective() -> None:
    search = SearchSpec.model_validate(SEARCH)
    found = parallel_coordinates(job(search=SEARCH), search, _runs(), None)

    assert [
        (d.key, d.scale, d.categories, d.min, d.max, d.objective) for d in found.dimensions
    ] == [
        ("hyperparameter:optimizer", "categorical", ("sgd", "adam"), None, None, False),
        ("hyperparameter:layers", "linear", None, 2.0, 4.0, False),
        ("hyperparameter:lr", "log", None, 0.001, 0.01, False),
        ("hyperparameter:beta", "log", None, 0.95, 0.99, False),
        ("metric:acc", "linear", None, 0.5, 0.8, True),
    ]
    assert [d.kind for d in found.dimensions] == ["hyperparameter"] * 4 + ["metric"]
    # The failed run's objective value is shown on the axis but does not colour it; the run
    # without any value is left out.
    assert [(r.name, r.status, r.objective_value, r.values) for r in found.runs] == [
        ("r1", "Completed", 0.5, ("adam", 2.0, 0.01, 0.95, 0.5)),
        ("r2", "Failed", None, ("sgd", 4.0, 0.001, 0.99, 0.8)),
    ]
    assert found.available == (
        "hyperparameter:optimizer",
        "hyperparameter:layers",
        "hyperparameter:lr",
        "hyperparameter:beta",
        "metric:acc",
        "metric:loss",
    )


def test_asked_axes_keep_their_order_and_the_objective_goes_last() -> None:
    search = SearchSpec.model_validate(SEARCH)
    keys = ["metric:acc", "metric:loss", "hyperparameter:lr", "metric:loss"]

    found = parallel_coordinates(job(search=SEARCH), search, _runs(), keys)

    assert [d.key for d in found.dimensions] == ["metric:loss", "hyperparameter:lr", "metric:acc"]
    # Another metric shows its last value; a run without it has null there.
    assert [r.values for r in found.runs] == [(0.7, 0.01, 0.5), (None, 0.001, 0.8)]


def test_an_unknown_dimension_names_the_available_keys() -> None:
    search = SearchSpec.model_validate(SEARCH)
    with pytest.raises(InvalidInput) as raised:
        parallel_coordinates(job(search=SEARCH), search, _runs(), ["hyperparameter:momentum"])
    assert "'hyperparameter:momentum'" in raised.value.message
    assert "hyperparameter:optimizer, hyperparameter:layers" in raised.value.message
    assert raised.value.extra["available"][-1] == "metric:loss"


def test_a_job_without_a_search_shows_the_hyperparameters_that_differ() -> None:
    runs = [
        run(1, 0.5, hyperparameters={"seed": "1", "opt": "sgd", "epochs": "10", "b": "2"}),
        run(2, 0.6, hyperparameters={"seed": "2", "opt": "adam", "epochs": "10", "b": "x"}),
    ]

    found = parallel_coordinates(job(), None, runs, None)

    # epochs never differs; sorted by name; b has a value that is not a number.
    assert [(d.key, d.scale, d.categories) for d in found.dimensions] == [
        ("hyperparameter:b", "categorical", ("2", "x")),
        ("hyperparameter:opt", "categorical", ("adam", "sgd")),
        ("hyperparameter:seed", "linear", None),
        ("metric:acc", "linear", None),
    ]
    assert [r.values for r in found.runs] == [("2", "sgd", 1.0, 0.5), ("x", "adam", 2.0, 0.6)]
    # No run has points of a metric here (no summaries): only the hyperparameters.
    assert found.available == ("hyperparameter:b", "hyperparameter:opt", "hyperparameter:seed")


def test_at_most_twelve_hyperparameters_by_default() -> None:
    runs = [
        run(i, 0.1 * i, hyperparameters={f"h{k:02}": str(i + k) for k in range(15)}) for i in (1, 2)
    ]

    found = parallel_coordinates(job(), None, runs, None)

    assert [d.name for d in found.dimensions] == [f"h{k:02}" for k in range(12)] + ["acc"]
    assert len(found.available) == 15
