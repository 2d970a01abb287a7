"""Hyperparameter sets: grids in order, seeded random samples on each range's scale."""

import math

from app.sweep import SweepSpec, hyperparameter_sets

JOB = {"name": "toy", "objective": {}, "metric_definitions": "x"}


def spec(**fields):
    return SweepSpec.model_validate({"job": JOB, "command": ["true"], **fields})


def test_a_grid_is_every_combination_in_order_with_static_values():
    sets = hyperparameter_sets(
        spec(
            strategy="grid",
            static_hyperparameters={"task": "classification", "epochs": 3, "amp": True},
            parameter_ranges={
                "CategoricalParameterRanges": [{"Name": "optimizer", "Values": ["adam", "sgd"]}],
                "IntegerParameterRanges": [{"Name": "batch", "MinValue": 1, "MaxValue": 2}],
            },
        )
    )
    static = {"task": "classification", "epochs": "3", "amp": "true"}
    assert sets == [
        {**static, "optimizer": "adam", "batch": "1"},
        {**static, "optimizer": "adam", "batch": "2"},
        {**static, "optimizer": "sgd", "batch": "1"},
        {**static, "optimizer": "sgd", "batch": "2"},
    ]


def test_max_runs_caps_a_grid():
    ranges = {"CategoricalParameterRanges": [{"Name": "a", "Values": ["1", "2", "3"]}]}
    assert hyperparameter_sets(spec(strategy="grid", max_runs=2, parameter_ranges=ranges)) == [
        {"a": "1"},
        {"a": "2"},
    ]


RANDOM = {
    "strategy": "random",
    "max_runs": 200,
    "seed": 11,
    "parameter_ranges": {
        "IntegerParameterRanges": [
            {"Name": "units", "MinValue": 8, "MaxValue": 512, "ScalingType": "Logarithmic"}
        ],
        "ContinuousParameterRanges": [
            {"Name": "lr", "MinValue": 1e-5, "MaxValue": 1e-1, "ScalingType": "Logarithmic"},
            {
                "Name": "beta",
                "MinValue": 0.9,
                "MaxValue": 0.9999,
                "ScalingType": "ReverseLogarithmic",
            },
            {"Name": "dropout", "MinValue": 0.0, "MaxValue": 0.5},
        ],
    },
}


def test_random_samples_are_the_same_for_a_seed_and_differ_across_seeds():
    first = hyperparameter_sets(spec(**RANDOM))
    assert first == hyperparameter_sets(spec(**RANDOM))
    assert first != hyperparameter_sets(spec(**{**RANDOM, "seed": 12}))


def test_random_samples_stay_in_range_and_spread_on_their_scale():
    sets = hyperparameter_sets(spec(**RANDOM))
    lrs = [float(s["lr"]) for s in sets]
    betas = [float(s["beta"]) for s in sets]
    units = [int(s["units"]) for s in sets]
    assert all(1e-5 <= v <= 1e-1 for v in lrs)
    assert all(0.9 <= v <= 0.9999 for v in betas)
    assert all(8 <= v <= 512 for v in units)
    # Uniform in log(lr): about a quarter of 200 samples per decade of the four.
    per_decade = [sum(1 for v in lrs if 10**d <= v < 10 ** (d + 1)) for d in range(-5, -1)]
    assert all(30 <= n <= 70 for n in per_decade), per_decade
    # Reverse-log: as many samples in [0.999, 0.9999] as in [0.9, 0.99].
    near_one = sum(1 for v in betas if v >= 0.999)
    far = sum(1 for v in betas if v < 0.99)
    assert abs(near_one - far) < 40 and near_one > 40, (near_one, far)
    assert math.isclose(sum(units) / len(units), 128, rel_tol=0.5)
