"""GET /v1/jobs/{job}/best: the best completed or stopped run by the objective."""

from __future__ import annotations

import pytest


def best(api, job="gan", **params):
    response = api.get(f"/v1/jobs/{job}/best", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["name"], body["objective"]["value"]


@pytest.mark.parametrize(
    ("type", "expected"), [("Minimize", ("lr-0-3", 0.31)), ("Maximize", ("lr-0-1", 0.93))]
)
def test_the_best_run_follows_the_objective_type(api, make_job, make_run, type, expected):
    make_job(
        metric="accuracy", type=type, definitions=[{"Name": "accuracy", "Regex": r"acc=(\S+)"}]
    )
    make_run(name="lr-0-01", log="epoch 1 acc=0.42\n", status="Completed")
    make_run(name="lr-0-1", log="epoch 1 acc=0.93\n", status="Completed")
    make_run(name="lr-0-3", log="epoch 1 acc=0.31\n", status="Completed")

    assert best(api) == expected


def test_failed_and_running_runs_never_count(api, make_job, make_run):
    make_job()
    make_run(name="lr-0-01", log="Loss = 0.5;\n", status="Completed")
    make_run(name="lr-0-1", log="Loss = 0.1;\n", status="Failed")
    make_run(name="lr-0-3", log="Loss = 0.2;\n")

    assert best(api) == ("lr-0-01", 0.5)


def test_a_stopped_run_counts(api, make_job, make_run):
    make_job()
    make_run(name="lr-0-01", log="Loss = 0.5;\n", status="Completed")
    make_run(name="lr-0-1", log="Loss = 0.4;\n", status="Stopped")

    assert best(api) == ("lr-0-1", 0.4)


def test_running_runs_count_on_request(api, make_job, make_run):
    make_job()
    make_run(name="lr-0-01", log="Loss = 0.5;\n", status="Completed")
    make_run(name="lr-0-1", log="Loss = 0.1;\n", status="Failed")
    make_run(name="lr-0-3", log="Loss = 0.2;\n")

    assert best(api, include_in_progress="true") == ("lr-0-3", 0.2)
    assert best(api, include_in_progress="false") == ("lr-0-01", 0.5)


def test_a_run_without_an_objective_value_is_never_best(api, make_job, make_run):
    make_job()
    make_run(name="lr-0-01", log="GAN_loss=0.1;\n", status="Completed")
    make_run(name="lr-0-1", log="Loss = 0.9;\n", status="Completed")

    assert best(api) == ("lr-0-1", 0.9)


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("latest", ("steady", 0.3)),  # 0.5 against 0.3
        ("min", ("spiky", 0.1)),  # 0.1 against 0.3
        ("max", ("steady", 0.3)),  # 0.9 against 0.3
    ],
)
def test_the_best_run_follows_the_jobs_strategy(api, make_job, make_run, strategy, expected):
    make_job(objective={"strategy": strategy})
    make_run(name="spiky", log="Loss = 0.9;\nLoss = 0.1;\nLoss = 0.5;\n", status="Completed")
    make_run(name="steady", log="Loss = 0.3;\nLoss = 0.3;\nLoss = 0.3;\n", status="Completed")

    assert best(api) == expected


def test_ties_go_to_the_earliest_created_run(api, make_job, make_run):
    make_job()
    for name in ("c-first", "a-second", "b-third"):
        make_run(name=name, log="Loss = 0.25;\n", status="Completed")

    assert best(api) == ("c-first", 0.25)


def test_the_best_run_is_answered_in_full(api, make_job, make_run):
    make_job()
    make_run(name="lr-0-01", hyperparameters={"lr": 0.01}, log="Loss = 0.5;\n", status="Completed")

    response = api.get("/v1/jobs/gan/best")

    assert response.json() == api.get("/v1/jobs/gan/runs/lr-0-01").json()
    assert response.json()["hyperparameters"] == {"lr": "0.01", "_tuning_objective_metric": "loss"}


@pytest.mark.parametrize(
    ("params", "counted"),
    [
        ({}, "completed or stopped"),
        ({"include_in_progress": "true"}, "completed, stopped or in-progress"),
    ],
)
def test_no_qualifying_run_is_not_found_and_says_why(api, make_job, make_run, params, counted):
    make_job()
    make_run(name="lr-0-01", log="Loss = 0.5;\n", status="Failed")
    make_run(name="lr-0-1", log="GAN_loss=0.1;\n")

    response = api.get("/v1/jobs/gan/best", params=params)

    assert (response.status_code, response.json()) == (
        404,
        {
            "error": "no_best_run",
            "message": f"no {counted} run of job 'gan' has a value of its objective metric "
            "'loss' yet",
            "job": "gan",
        },
    )


def test_the_best_run_of_an_unknown_job_is_not_found(api):
    response = api.get("/v1/jobs/gan/best")

    assert (response.status_code, response.json()["error"]) == (404, "job_not_found")
