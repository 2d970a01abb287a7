"""Each run's hyperparameters: grids in order, seeded random samples on each range's
scale, and Bayesian suggestions from the runs so far."""

import math

from app.protocol.search import SearchSpec
from app.tuning.suggest import Trial, TrialOutcome, startup_trials, suggest


def spec(**fields):
    return SearchSpec.model_validate({"command": ["true"], **fields})


def hyperparameter_sets(search):
    """What the search suggests for each of its runs, in order, with no history."""
    return [suggest(search, i, [], maximize=True) for i in range(search.max_training_jobs())]


def test_a_grid_is_every_combination_in_order_with_static_values():
    sets = hyperparameter_sets(
        spec(
            strategy="Grid",
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
    limits = {"MaxNumberOfTrainingJobs": 2}
    assert hyperparameter_sets(
        spec(strategy="Grid", resource_limits=limits, parameter_ranges=ranges)
    ) == [
        {"a": "1"},
        {"a": "2"},
    ]


RANDOM = {
    "strategy": "Random",
    "resource_limits": {"max_number_of_training_jobs": 200},
    "random_seed": 11,
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
    assert first != hyperparameter_sets(spec(**{**RANDOM, "random_seed": 12}))


def test_a_random_run_depends_on_its_index_alone_not_on_the_runs_before_it():
    search = spec(**RANDOM)
    history = [Trial({"units": "8"}, TrialOutcome(finished=True, value=0.5))]
    assert suggest(search, 5, history, maximize=True) == suggest(search, 5, [], maximize=True)
    assert suggest(search, 5, [], maximize=True) != suggest(search, 6, [], maximize=True)


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


BAYESIAN = {
    "strategy": "Bayesian",
    "random_seed": 3,
    "resource_limits": {"max_number_of_training_jobs": 30},
    "parameter_ranges": {
        "CategoricalParameterRanges": [{"Name": "optimizer", "Values": ["adam", "sgd"]}],
        "ContinuousParameterRanges": [{"Name": "lr", "MinValue": 0.0, "MaxValue": 1.0}],
    },
}


def trial(optimizer, lr, value, finished=True):
    return Trial({"optimizer": optimizer, "lr": str(lr)}, TrialOutcome(finished, value))


def test_bayesian_search_samples_at_random_until_it_has_enough_runs():
    search = spec(**BAYESIAN)
    assert startup_trials(search) == 10
    first = [suggest(search, i, [], maximize=True) for i in range(3)]
    assert first == [suggest(search, i, [], maximize=True) for i in range(3)]  # seeded
    assert len({s["lr"] for s in first}) == 3


def test_bayesian_search_suggests_where_the_objective_was_best():
    # Told of 12 runs, where adam with lr near 0.8 scored best, TPE proposes adam and
    # an lr in the good region, for maximize; for minimize, the other way round.
    history = [
        trial(opt, lr, (1.0 - abs(lr - 0.8)) * (1 if opt == "adam" else 0.2))
        for opt in ("adam", "sgd")
        for lr in (0.05, 0.2, 0.35, 0.5, 0.65, 0.8)
    ]
    search = spec(**BAYESIAN)
    for index in (12, 13, 14):
        chosen = suggest(search, index, history, maximize=True)
        assert chosen["optimizer"] == "adam"
        assert float(chosen["lr"]) > 0.5, chosen
    chosen = suggest(search, 12, history, maximize=False)
    assert chosen["optimizer"] == "sgd"


def test_bayesian_search_spreads_parallel_runs_apart():
    # Two runs asked for with the same history: the second is told of the first as
    # running (constant liar), so it does not get the same point.
    history = [trial("adam", lr / 10, lr / 10) for lr in range(10)]
    search = spec(**BAYESIAN)
    first = suggest(search, 10, history, maximize=True)
    running = Trial(first, TrialOutcome(finished=False, value=None))
    second = suggest(search, 10, [*history, running], maximize=True)
    assert second != first


def test_bayesian_search_ignores_runs_outside_its_ranges_and_failed_runs():
    search = spec(**BAYESIAN)
    history = [trial("adam", lr / 10, lr / 10) for lr in range(10)]
    strays = [
        Trial({"optimizer": "adam"}, TrialOutcome(True, 5.0)),  # lr missing
        Trial({"optimizer": "rmsprop", "lr": "0.1"}, TrialOutcome(True, 5.0)),
        trial("sgd", 0.5, None),  # failed: no value
    ]
    assert suggest(search, 10, [*history, *strays], maximize=True) == suggest(
        search, 10, [*history, trial("sgd", 0.5, None)], maximize=True
    )


NARROW = {
    "ContinuousParameterRanges": [
        {"Name": "lr", "MinValue": 0.12345671, "MaxValue": 0.12345679},
        {"Name": "wd", "MinValue": 0.001, "MaxValue": 0.002},
    ]
}


def test_a_range_narrower_than_six_digits_gets_every_digit_and_a_wide_one_six():
    # `.6g` alone wrote every lr here as 0.123457, outside the range.
    for strategy in ("Random", "Bayesian"):
        search = spec(
            strategy=strategy,
            resource_limits={"max_number_of_training_jobs": 20},
            parameter_ranges=NARROW,
        )
        history = []
        for index in range(12):
            values = suggest(search, index, history, maximize=True)
            assert 0.12345671 <= float(values["lr"]) <= 0.12345679, (strategy, values)
            assert values["wd"] == f"{float(values['wd']):.6g}", (strategy, values)
            history.append(Trial(values, TrialOutcome(finished=True, value=float(index))))
