"""POST /v1/jobs/{job}/runs, GET .../runs/{run} and POST .../runs/{run}/complete."""

from __future__ import annotations

import pytest

from tests.samples import GAN_DEFINITIONS, GAN_LINE

NO_DIAGNOSTICS = [
    {
        "metric_name": name,
        "log_format": "text",
        "hint": None,
        "points": 0,
        "rejected": 0,
        "timeouts": 0,
        "examples": [],
    }
    for name in ("GAN_loss", "disc_train_loss", "disc-combined", "loss")
]


def test_a_run_starts_in_progress_with_its_hyperparameters_as_strings(api, make_job):
    make_job()

    response = api.post(
        "/v1/jobs/gan/runs",
        json={
            "name": "lr-0-01",
            "hyperparameters": {
                "learning_rate": 0.01,
                "batch_size": 3,
                "use_bn": True,
                "dropout": False,
                "weight_decay": 1e-05,
                "optimizer": "adam",
                "epochs": "10",
            },
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body.pop("created_at").endswith("Z")
    assert body == {
        "job": "gan",
        "name": "lr-0-01",
        "status": "InProgress",
        "failure_reason": None,
        "stopped_early": False,
        "worker": None,
        "ended_at": None,
        "hyperparameters": {
            "learning_rate": "0.01",
            "batch_size": "3",
            "use_bn": "true",
            "dropout": "false",
            "weight_decay": "1e-05",
            "optimizer": "adam",
            "epochs": "10",
            "_tuning_objective_metric": "loss",
        },
        "objective": {"metric_name": "loss", "value": None, "status": "Pending"},
        "final_metrics": [],
        "gpus": None,  # no worker counted GPUs for it
        "attempt": 1,
        "streams": [],
        "attempts": [],
        "diagnostics": NO_DIAGNOSTICS,
        "ingest_token": None,  # access control is off
    }


def test_a_run_reads_back_as_created(api, make_job, make_run):
    make_job()
    created = make_run(name="lr-0-01", hyperparameters={"learning_rate": 0.01})

    response = api.get("/v1/jobs/gan/runs/lr-0-01")

    # The ingest token is shown once, when the run is created.
    assert created.pop("ingest_token") is None
    assert (response.status_code, response.json()) == (200, created)


def test_the_objective_metric_is_passed_as_amt_does(api, make_job):
    make_job(metric="GAN_loss", type="Minimize")

    response = api.post("/v1/jobs/gan/runs", json={})

    assert response.json()["hyperparameters"] == {"_tuning_objective_metric": "GAN_loss"}


def test_run_names_are_generated_when_left_out(api, make_job, make_run):
    make_job()
    make_run()
    make_run(name="run-0002")

    names = [api.post("/v1/jobs/gan/runs", json={}).json()["name"] for _ in range(2)]

    assert names == ["run-0003", "run-0004"]


def test_a_taken_run_name_is_a_conflict(api, make_job, make_run):
    make_job()
    make_run(name="baseline", hyperparameters={"learning_rate": 0.1})

    response = api.post(
        "/v1/jobs/gan/runs", json={"name": "baseline", "hyperparameters": {"learning_rate": 0.2}}
    )

    assert (response.status_code, response.json()) == (
        409,
        {
            "error": "run_exists",
            "message": "run 'baseline' already exists in job 'gan'",
            "job": "gan",
            "run": "baseline",
        },
    )
    assert api.get("/v1/jobs/gan/runs/baseline").json()["hyperparameters"]["learning_rate"] == "0.1"


def test_a_run_may_have_100_hyperparameters(api, make_job):
    make_job()
    given = {f"hp_{i:03d}": i for i in range(100)}

    response = api.post("/v1/jobs/gan/runs", json={"hyperparameters": given})

    assert response.status_code == 201
    assert response.json()["hyperparameters"] == {
        **{f"hp_{i:03d}": str(i) for i in range(100)},
        "_tuning_objective_metric": "loss",
    }


@pytest.mark.parametrize(
    ("hyperparameters", "message"),
    [
        (
            {f"hp_{i:03d}": i for i in range(101)},
            "a run may have at most 100 hyperparameters, got 101",
        ),
        (
            {"k" * 257: "1"},
            f"hyperparameter names must be 1 to 256 characters, got 257 ({'k' * 40!r})",
        ),
        ({"": "1"}, "hyperparameter names must be 1 to 256 characters, got 0 ('')"),
        (
            {"arch": "x" * 2501},
            "hyperparameter 'arch': values may be at most 2500 characters, got 2501",
        ),
    ],
    ids=["101-hyperparameters", "257-char-name", "empty-name", "2501-char-value"],
)
def test_hyperparameters_beyond_amt_limits_are_refused(api, make_job, hyperparameters, message):
    make_job()

    response = api.post("/v1/jobs/gan/runs", json={"hyperparameters": hyperparameters})

    assert (response.status_code, response.json()) == (
        422,
        {"error": "invalid_run", "message": message},
    )
    assert api.get("/v1/jobs/gan").json()["run_counts"]["InProgress"] == 0


@pytest.mark.parametrize(
    "hyperparameters",
    [{"lr": None}, {"lr": [0.1, 0.01]}, {"lr": {"min": 0.1}}, ["lr", 0.1]],
    ids=["null", "list", "object", "not-an-object"],
)
def test_hyperparameters_must_be_strings_numbers_or_booleans(api, make_job, hyperparameters):
    make_job()

    response = api.post("/v1/jobs/gan/runs", json={"hyperparameters": hyperparameters})

    assert (response.status_code, response.json()["error"]) == (422, "invalid_request")


@pytest.mark.parametrize("name", ["run_1", "-run", "run-", "r" * 64, "r" + "-" * 62 + "n", ""])
def test_a_bad_run_name_is_refused(api, make_job, name):
    make_job()

    response = api.post("/v1/jobs/gan/runs", json={"name": name})

    assert response.status_code == 422
    assert [d["location"] for d in response.json()["details"]] == ["body.name"]


def test_a_run_of_an_unknown_job_is_not_found(api):
    response = api.post("/v1/jobs/gan/runs", json={"hyperparameters": {"lr": 0.1}})

    assert (response.status_code, response.json()["error"]) == (404, "job_not_found")


def test_an_unknown_run_is_not_found(api, make_job, make_run):
    make_job()
    make_run(name="baseline")

    response = api.get("/v1/jobs/gan/runs/baseline-2")

    assert (response.status_code, response.json()) == (
        404,
        {
            "error": "run_not_found",
            "message": "run 'baseline-2' does not exist in job 'gan'",
            "job": "gan",
            "run": "baseline-2",
        },
    )


# The objective and metrics of a run.


def test_a_running_runs_objective_is_pending_with_its_value_so_far(api, make_job, make_run):
    make_job()
    make_run(name="lr-0-01", log="epoch 1 Loss = 0.75;\nepoch 2 Loss = 0.5;\n")

    run = api.get("/v1/jobs/gan/runs/lr-0-01").json()

    assert run["objective"] == {"metric_name": "loss", "value": 0.5, "status": "Pending"}


@pytest.mark.parametrize(
    ("status", "log", "objective"),
    [
        (
            "Completed",
            "Loss = 0.5;\n",
            {"metric_name": "loss", "value": 0.5, "status": "Succeeded"},
        ),
        ("Stopped", "Loss = 0.5;\n", {"metric_name": "loss", "value": 0.5, "status": "Succeeded"}),
        ("Failed", "Loss = 0.5;\n", {"metric_name": "loss", "value": 0.5, "status": "Failed"}),
        (
            "Completed",
            "GAN_loss=0.1;\n",
            {"metric_name": "loss", "value": None, "status": "Failed"},
        ),
    ],
    ids=["completed", "stopped", "failed", "completed-without-value"],
)
def test_an_ended_runs_objective_status(api, make_job, make_run, status, log, objective):
    make_job()
    make_run(name="lr-0-01", log=log, status=status)

    run = api.get("/v1/jobs/gan/runs/lr-0-01").json()

    assert (run["status"], run["objective"]) == (status, objective)


def test_final_metrics_are_each_metrics_last_value_by_arrival(api, make_job, make_run, post_log):
    make_job(
        definitions=[
            {"Name": "loss", "Regex": "Loss = (.*?);"},
            {"Name": "accuracy", "Regex": r"step (?P<step>\d+): acc=(\S+)"},
        ]
    )
    make_run(name="lr-0-01")
    post_log(
        "lr-0-01",
        "Loss = 0.9;\nstep 20: acc=0.81\nLoss = 0.4;\nstep 10: acc=0.77\nLoss = 0.6;\n",
        timestamp="2024-05-01T12:00:00Z",
    )

    run = api.get("/v1/jobs/gan/runs/lr-0-01").json()

    assert run["final_metrics"] == [
        {"metric_name": "loss", "value": 0.6, "timestamp": "2024-05-01T12:00:00Z"},
        {"metric_name": "accuracy", "value": 0.77, "timestamp": "2024-05-01T12:00:00Z"},
    ]


def test_the_gan_line_gives_every_metric_and_its_diagnostics(api, make_job, make_run, post_log):
    make_job(definitions=[*GAN_DEFINITIONS, {"Name": "real", "Regex": r"real (\S+)"}])
    make_run(name="gan-1")
    post_log("gan-1", GAN_LINE + "\n", timestamp="1714564800")

    run = api.get("/v1/jobs/gan/runs/gan-1").json()

    at = "2024-05-01T12:00:00Z"
    assert run["final_metrics"] == [
        {"metric_name": "GAN_loss", "value": 0.138318, "timestamp": at},
        {"metric_name": "disc_train_loss", "value": 1.374587, "timestamp": at},
        {"metric_name": "disc-combined", "value": 0.0, "timestamp": at},
        {"metric_name": "loss", "value": 16.020744, "timestamp": at},
    ]
    assert run["streams"] == [
        {"name": "stdout", "next_offset": 190, "lines": 1, "partial_length": 0, "pending_bytes": 0}
    ]
    assert run["diagnostics"] == [
        {
            "metric_name": "GAN_loss",
            "log_format": "text",
            "hint": None,
            "points": 1,
            "rejected": 0,
            "timeouts": 0,
            "examples": [],
        },
        {
            "metric_name": "disc_train_loss",
            "log_format": "text",
            "hint": None,
            "points": 1,
            "rejected": 0,
            "timeouts": 0,
            "examples": [],
        },
        {
            "metric_name": "disc-combined",
            "log_format": "text",
            "hint": None,
            "points": 1,
            "rejected": 0,
            "timeouts": 0,
            "examples": [],
        },
        {
            "metric_name": "loss",
            "log_format": "text",
            "hint": None,
            "points": 1,
            "rejected": 0,
            "timeouts": 0,
            "examples": [],
        },
        {
            "metric_name": "real",
            "log_format": "text",
            "hint": None,
            "points": 0,
            "rejected": 1,
            "timeouts": 0,
            "examples": [
                {"stream": "stdout", "line": 1, "capture": "93.3%", "reason": "not a finite number"}
            ],
        },
    ]


def test_diagnostics_keep_the_latest_rejections(start_service):
    service = start_service(rejections_kept=2)
    api = service.client
    api.post(
        "/v1/jobs",
        json={
            "name": "gan",
            "objective": {"MetricName": "loss", "Type": "Minimize"},
            "metric_definitions": [{"Name": "loss", "Regex": "Loss = (.*?);"}],
        },
    )
    api.post("/v1/jobs/gan/runs", json={"name": "lr-0-01"})
    for log in ("Loss = nan;\nLoss = inf;\n", "Loss = 0.5;\nLoss = ;\nLoss = 1e999;\n"):
        api.post("/v1/jobs/gan/runs/lr-0-01/logs", content=log.encode())

    run = api.get("/v1/jobs/gan/runs/lr-0-01").json()

    assert run["diagnostics"] == [
        {
            "metric_name": "loss",
            "log_format": "text",
            "hint": None,
            "points": 1,
            "rejected": 4,
            "timeouts": 0,
            "examples": [
                {"stream": "stdout", "line": 4, "capture": "", "reason": "not a finite number"},
                {
                    "stream": "stdout",
                    "line": 5,
                    "capture": "1e999",
                    "reason": "not a finite number",
                },
            ],
        }
    ]


# Ending a run.


def test_completing_a_run_sets_its_status_and_end(api, make_job, make_run, complete_run):
    make_job()
    make_run(name="lr-0-01", log="Loss = 0.5;\n")

    response = complete_run("lr-0-01", "Completed")

    assert response.status_code == 200
    run = response.json()
    assert (run["status"], run["failure_reason"], run["objective"]["status"]) == (
        "Completed",
        None,
        "Succeeded",
    )
    assert run["ended_at"].endswith("Z")
    assert run["ended_at"] >= run["created_at"]
    assert api.get("/v1/jobs/gan/runs/lr-0-01").json() == run


def test_a_failed_run_keeps_its_failure_reason(api, make_job, make_run, complete_run):
    make_job()
    make_run(name="lr-1")

    run = complete_run("lr-1", "Failed", failure_reason="AlgorithmError: CUDA out of memory").json()

    assert (run["status"], run["failure_reason"]) == (
        "Failed",
        "AlgorithmError: CUDA out of memory",
    )


def test_completing_twice_the_same_way_is_harmless(api, make_job, make_run, complete_run):
    make_job()
    make_run(name="lr-0-01", log="Loss = 0.5;\nLoss = 0.25;")
    first = complete_run("lr-0-01", "Stopped")

    again = complete_run("lr-0-01", "Stopped")

    assert (again.status_code, again.json()) == (200, first.json())
    assert first.json()["objective"]["value"] == 0.25
    assert api.get("/v1/jobs/gan/runs/lr-0-01/metrics/loss").json()["points"][-1]["step"] == 2


@pytest.mark.parametrize("second", ["Failed", "Completed"])
def test_ending_an_ended_run_differently_is_a_conflict(
    api, make_job, make_run, complete_run, second
):
    make_job()
    make_run(name="lr-0-01", status="Stopped")

    response = complete_run("lr-0-01", second)

    assert (response.status_code, response.json()) == (
        409,
        {
            "error": "run_ended",
            "message": "run 'lr-0-01' has already ended as Stopped",
            "run": "lr-0-01",
            "status": "Stopped",
        },
    )
    assert api.get("/v1/jobs/gan/runs/lr-0-01").json()["status"] == "Stopped"


@pytest.mark.parametrize(
    "body",
    [
        {"status": "InProgress"},
        {"status": "Done"},
        {},
        {"status": "Failed", "failure_reason": "x" * 1025},
        {"status": "Failed", "reason": "OOM"},
    ],
    ids=["in-progress", "unknown-status", "no-status", "1025-char-reason", "unknown-key"],
)
def test_a_bad_completion_is_refused(api, make_job, make_run, body):
    make_job()
    make_run(name="lr-0-01")

    response = api.post("/v1/jobs/gan/runs/lr-0-01/complete", json=body)

    assert (response.status_code, response.json()["error"]) == (422, "invalid_request")
    assert api.get("/v1/jobs/gan/runs/lr-0-01").json()["status"] == "InProgress"


def test_completing_an_unknown_run_is_not_found(api, make_job, complete_run):
    make_job()

    response = complete_run("lr-0-01")

    assert (response.status_code, response.json()["error"]) == (404, "run_not_found")
