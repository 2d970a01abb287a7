"""Warm start: a child search given its parents' ended runs, from literal runs to the
child's suggestions, and the rules that tie a child to its parents, over `/v1`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from app.config import Settings
from app.protocol.search import SearchSpec
from app.tuning.suggest import Trial, TrialOutcome, runs_to_start, suggest
from tests.service import running_service
from tests.tuning.conftest import search_job_body

X = {"ContinuousParameterRanges": [{"Name": "x", "MinValue": 0, "MaxValue": 1}]}
WARM = {"parents": ["parent"], "type": "TransferLearning"}


def spec(**fields):
    return SearchSpec.model_validate({"command": ["true"], "warm_start": WARM, **fields})


def peaked_at(peak):
    """21 parent runs over x = 0, 0.05, ..., 1 whose objective peaks at `peak`."""
    return [
        Trial({"x": f"{i / 20:g}", "epochs": "3"}, TrialOutcome(True, -((i / 20 - peak) ** 2)))
        for i in range(21)
    ]


def test_bayesian_search_starts_where_the_parents_runs_point():
    child = spec(
        strategy="Bayesian",
        random_seed=1,
        resource_limits={"max_number_of_training_jobs": 10},
        parameter_ranges=X,
    )
    alone = float(suggest(child, 0, [], maximize=True)["x"])
    high = float(suggest(child, 0, [], maximize=True, parents=peaked_at(0.9))["x"])
    low = float(suggest(child, 0, [], maximize=True, parents=peaked_at(0.1))["x"])
    assert not 0.8 <= alone <= 1.0  # a first draw at random, before any model
    assert 0.8 <= high <= 1.0
    assert 0.0 <= low <= 0.2
    # Minimizing, the same parents point the other way.
    assert not 0.8 <= float(suggest(child, 0, [], False, parents=peaked_at(0.9))["x"]) <= 1.0


def test_parents_runs_outside_the_childs_ranges_are_left_out_not_clipped():
    child = spec(
        strategy="Bayesian",
        random_seed=1,
        resource_limits={"max_number_of_training_jobs": 10},
        parameter_ranges={
            "ContinuousParameterRanges": [{"Name": "x", "MinValue": 0.5, "MaxValue": 1}]
        },
    )
    outside = [Trial({"x": f"{i / 100:g}"}, TrialOutcome(True, 1 - i / 100)) for i in range(50)]
    without_x = [Trial({"y": "0.9"}, TrialOutcome(True, 5.0)) for _ in range(20)]
    alone = suggest(child, 0, [], maximize=True)
    assert suggest(child, 0, [], maximize=True, parents=outside + without_x) == alone
    # Clipped to 0.5, these 50 runs would have pulled the first suggestion there.
    clipped = [Trial({"x": "0.5"}, t.outcome) for t in outside]
    assert float(suggest(child, 0, [], True, parents=clipped)["x"]) < 0.6 < float(alone["x"])


def test_random_search_with_its_parents_seed_runs_none_of_their_points():
    child = spec(
        strategy="Random",
        random_seed=7,
        resource_limits={"max_number_of_training_jobs": 5},
        parameter_ranges=X,
    )
    # The parent had the same seed (the SageMaker SDK's warm start tuners copy it).
    parent_points = [suggest(child, i, [], True) for i in range(5)]
    parents = [Trial(p, TrialOutcome(True, 0.5)) for p in parent_points]
    child_points = [suggest(child, i, [], True, parents=parents) for i in range(5)]
    assert not set(map(str, child_points)) & set(map(str, parent_points))
    assert len({p["x"] for p in child_points}) == 5
    # Drawn again from the same seeded stream: the same points every time.
    assert child_points == [suggest(child, i, [], True, parents=parents) for i in range(5)]


def test_random_search_draws_again_a_point_a_parent_ran_in_a_small_space():
    child = spec(
        strategy="Random",
        random_seed=3,
        resource_limits={"max_number_of_training_jobs": 20},
        parameter_ranges={
            "CategoricalParameterRanges": [{"Name": "opt", "Values": ["adam", "sgd"]}],
            "IntegerParameterRanges": [{"Name": "layers", "MinValue": 1, "MaxValue": 3}],
        },
    )
    ran = [
        ("adam", "1"),
        ("adam", "2"),
        ("adam", "3"),
        ("sgd", "1"),
        ("sgd", "2"),
    ]
    parents = [Trial({"opt": o, "layers": n}, TrialOutcome(True, 0.1)) for o, n in ran]
    alone = [suggest(child, i, [], True) for i in range(20)]
    warm = [suggest(child, i, [], True, parents) for i in range(20)]
    # Without parents, 20 draws land on the points above too; with them, on the one left.
    assert {(p["opt"], p["layers"]) for p in alone} & set(ran)
    assert {(p["opt"], p["layers"]) for p in warm} == {("sgd", "3")}


def test_hyperband_draws_as_random_does_and_skips_the_parents_points():
    child = spec(
        strategy="Hyperband",
        random_seed=7,
        static_hyperparameters={"epochs": 9},
        resource_limits={"max_number_of_training_jobs": 3},
        parameter_ranges=X,
    )
    parents = [Trial(suggest(child, i, [], True), TrialOutcome(True, 0.5)) for i in range(3)]
    points = [suggest(child, i, [], True, parents)["x"] for i in range(3)]
    assert not set(points) & {t.hyperparameters["x"] for t in parents}


def test_grid_search_skips_the_points_a_parent_ran():
    child = spec(
        strategy="Grid",
        parameter_ranges={
            "CategoricalParameterRanges": [{"Name": "opt", "Values": ["adam", "sgd"]}],
            "IntegerParameterRanges": [{"Name": "layers", "MinValue": 1, "MaxValue": 2}],
        },
    )
    parents = [
        Trial({"opt": "adam", "layers": "1", "lr": "0.1"}, TrialOutcome(True, 0.5)),
        Trial({"opt": "sgd", "layers": "1"}, TrialOutcome(True, None)),  # failed: ran all the same
        Trial({"opt": "sgd", "layers": "7"}, TrialOutcome(True, 0.9)),  # outside the grid
    ]
    assert runs_to_start(child, parents) == 2
    assert [suggest(child, i, [], True, parents) for i in range(2)] == [
        {"opt": "adam", "layers": "2"},
        {"opt": "sgd", "layers": "2"},
    ]
    with pytest.raises(IndexError):
        suggest(child, 2, [], True, parents)
    assert runs_to_start(child) == 4


# Over /v1: the rules a child and its parents must follow, and a child run to its end.


def finish(api, lease, post_log, complete_run, job, values):
    """Lease `job`'s runs and complete each with the next of `values` as its acc."""
    points = []
    for value in values:
        given = lease(jobs=[job])["lease"]
        post_log(given["run"], f"acc={value};\n", job=job)
        assert complete_run(given["run"], job=job).status_code == 200
        points.append(given["hyperparameters"])
    return points


def grid_body(name, warm_start=None, **search):
    body = search_job_body(
        name,
        strategy="Grid",
        random_seed=1,
        resource_limits={"max_parallel_training_jobs": 1},
        parameter_ranges={
            "CategoricalParameterRanges": [{"Name": "opt", "Values": ["adam", "sgd"]}],
            "IntegerParameterRanges": [{"Name": "layers", "MinValue": 1, "MaxValue": 2}],
        },
        **search,
    )
    if warm_start is not None:
        body["search"]["WarmStartConfig"] = warm_start
    return body


def test_a_v1_grid_child_runs_the_grid_points_its_parent_did_not(
    api, lease, post_log, complete_run
):
    assert api.post("/v1/jobs", json=grid_body("parent")).status_code == 201
    for _ in range(2):
        finish(api, lease, post_log, complete_run, "parent", [0.5])
    assert api.post("/v1/jobs/parent/stop").json()["status"] == "Stopped"
    warm = {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "parent"}],
        "WarmStartType": "IdenticalDataAndAlgorithm",
    }
    created = api.post("/v1/jobs", json=grid_body("child", warm))
    assert created.status_code == 201, created.text
    assert created.json()["search"]["warm_start"] == {
        "parents": ["parent"],
        "type": "IdenticalDataAndAlgorithm",
    }
    ran = finish(api, lease, post_log, complete_run, "child", [0.6, 0.7])
    assert [(p["opt"], p["layers"]) for p in ran] == [("sgd", "1"), ("sgd", "2")]
    child = api.get("/v1/jobs/child").json()
    assert (child["status"], child["completion"]["criterion"]) == (
        "Completed",
        "MaxNumberOfTrainingJobs",
    )
    assert lease(jobs=["child"])["lease"] is None


def refusal(api, warm_start, name="child", **search):
    answer = api.post("/v1/jobs", json=search_job_body(name, warm_start=warm_start, **search))
    assert answer.status_code == 422, answer.text
    return answer.json()["message"]


def test_a_v1_child_is_refused_with_the_rule_its_parents_break(
    api, make_search_job, lease, post_log, complete_run
):
    make_search_job("running")
    make_search_job("ended", static_hyperparameters={"epochs": 3, "batch": 32})
    api.post("/v1/jobs/ended/stop")
    warm = {"parents": ["ended"], "type": "TransferLearning"}
    same = {"static_hyperparameters": {"epochs": 3, "batch": 32}}

    assert refusal(api, {**warm, "parents": ["nope"]}, **same) == (
        "warm start: the parent tuning job 'nope' does not exist"
    )
    assert refusal(api, {**warm, "parents": ["running"]}) == (
        "warm start: the parent tuning job 'running' is InProgress; a parent must have ended "
        "(Completed, Stopped or Failed)"
    )
    assert refusal(api, {**warm, "parents": [f"p{i}" for i in range(6)]}) == (
        "body.search.warm_start.parents: List should have at most 5 items after validation, not 6"
    )
    assert refusal(api, warm, static_hyperparameters={"epochs": 3}) == (
        "warm start from 'ended': the static plus tuned hyperparameter names must be the "
        "parent's (a static one may become tuned and a tuned one static); new: none; "
        "missing: batch"
    )
    assert refusal(
        api,
        warm,
        static_hyperparameters={"epochs": 3},
        parameter_ranges={
            "CategoricalParameterRanges": [{"Name": "lr", "Values": ["0.1"]}],
            "IntegerParameterRanges": [{"Name": "batch", "MinValue": 8, "MaxValue": 64}],
        },
    ) == ("warm start from 'ended': lr was a continuous range and is now a categorical one")
    colours = [f"c{i}" for i in range(9)]
    make_search_job(
        "colours",
        static_hyperparameters={"epochs": 3},
        parameter_ranges={
            **search_job_body()["search"]["parameter_ranges"],
            "CategoricalParameterRanges": [{"Name": "colour", "Values": colours}],
        },
    )
    api.post("/v1/jobs/colours/stop")
    # The colour's 9 values made static, and epochs' value changed (2): 11 changes.
    assert refusal(
        api, {**warm, "parents": ["colours"]}, static_hyperparameters={"epochs": 4, "colour": "c0"}
    ) == (
        "warm start from 'colours': 11 changes (tuned made static: 9, static values changed: "
        "2); at most 10 are allowed"
    )
    # 8 values and a changed value are 10 changes, which AMT allows.
    make_search_job(
        "eight",
        static_hyperparameters={"epochs": 3},
        parameter_ranges={
            **search_job_body()["search"]["parameter_ranges"],
            "CategoricalParameterRanges": [{"Name": "colour", "Values": colours[:8]}],
        },
    )
    api.post("/v1/jobs/eight/stop")
    ten = search_job_body(
        "ten",
        warm_start={**warm, "parents": ["eight"]},
        static_hyperparameters={"epochs": 4, "colour": "c0"},
    )
    assert api.post("/v1/jobs", json=ten).status_code == 201
    assert refusal(
        api, {**warm, "type": "IdenticalDataAndAlgorithm"}, command=["python", "v2.py"], **same
    ) == (
        "warm start from 'ended': IdenticalDataAndAlgorithm needs the parent's command "
        "(use TransferLearning for another)"
    )
    other = search_job_body("child", warm_start=warm, **same)
    other["objective"]["Type"] = "Minimize"
    answer = api.post("/v1/jobs", json=other)
    assert (answer.status_code, answer.json()["message"]) == (
        422,
        "warm start: the parent tuning job 'ended' has the objective Maximize 'acc'; a child "
        "must have its parents' (Minimize 'acc' given)",
    )
    created = api.post("/v1/jobs", json=search_job_body("child", warm_start=warm, **same))
    assert created.status_code == 201, created.text


def test_two_services_lease_a_warm_started_child_each_point_once(service_database_url):
    """Each service process reads the parents outside the lease's transaction (a lease
    that needs them first aborts its transaction): concurrent leases on every backend
    still hand each run out once, none at a parent's point."""
    settings = Settings(database_url=service_database_url, sqlite_synchronous="NORMAL")
    with running_service(settings) as first, running_service(settings) as second:
        parent = search_job_body("parent", random_seed=5)
        assert first.client.post("/v1/jobs", json=parent).status_code == 201
        ran = set()
        for _ in range(3):
            given = first.client.post("/v1/leases", json={"worker": "w"}).json()["lease"]
            first.client.post(f"/v1/jobs/parent/runs/{given['run']}/logs", content=b"acc=0.5;\n")
            first.client.post(
                f"/v1/jobs/parent/runs/{given['run']}/complete", json={"status": "Completed"}
            )
            ran.add(given["hyperparameters"]["lr"])
        assert first.client.post("/v1/jobs/parent/stop").json()["status"] == "Stopped"
        child = search_job_body(
            "child",
            random_seed=5,
            warm_start=WARM,
            resource_limits={"max_number_of_training_jobs": 8, "max_parallel_training_jobs": 8},
        )
        assert first.client.post("/v1/jobs", json=child).status_code == 201
        # FastAPI builds a route's validation on its first request; two threads doing it
        # at once can race to a warning, which this suite turns into an error (500).
        warm_up = {"worker": "w", "jobs": ["none"]}
        assert second.client.post("/v1/leases", json=warm_up).json()["lease"] is None

        def ask(i):
            client = (first, second)[i % 2].client
            return client.post("/v1/leases", json={"worker": f"w{i}"}).json()["lease"]

        with ThreadPoolExecutor(16) as pool:
            leases = [given for given in pool.map(ask, range(16)) if given is not None]

    assert sorted(given["run"] for given in leases) == [f"run-{i:04d}" for i in range(1, 9)]
    assert len({given["hyperparameters"]["lr"] for given in leases}) == 8
    assert not {given["hyperparameters"]["lr"] for given in leases} & ran
