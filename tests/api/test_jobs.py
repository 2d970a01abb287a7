"""POST /v1/jobs, GET /v1/jobs, GET /v1/jobs/{job}."""

from __future__ import annotations

import pytest

from tests.samples import GAN_DEFINITIONS

NO_RUNS = {"InProgress": 0, "Completed": 0, "Failed": 0, "Stopped": 0}
# What a new job without a search answers besides what it was created with.
NEW_JOB = {
    "status": "InProgress",
    "status_reason": None,
    "definitions_version": 1,
    "ended_at": None,
    "search": None,
    "search_progress": None,
    "completion": None,
    "training_job_status_counters": {
        "completed": 0,
        "in_progress": 0,
        "retryable_error": 0,
        "non_retryable_error": 0,
        "stopped": 0,
    },
    "objective_status_counters": {"succeeded": 0, "pending": 0, "failed": 0},
}
GAN_DEFINITIONS_PUBLIC = [
    {"name": "GAN_loss", "regex": "GAN_loss=(.*?);", "log_format": None},
    {"name": "disc_train_loss", "regex": "disc_train_loss=(.*?);", "log_format": None},
    {"name": "disc-combined", "regex": "disc-combined=(.*?);", "log_format": None},
    {"name": "loss", "regex": "Loss = (.*?);", "log_format": None},
]


def without_created_at(body):
    assert body.pop("created_at").endswith("Z")
    return body


def job_body(name="gan", **fields):
    """A job request minimizing the GAN example's `loss`, with `fields` replaced."""
    return {
        "name": name,
        "objective": {"MetricName": "loss", "Type": "Minimize"},
        "metric_definitions": GAN_DEFINITIONS,
        **fields,
    }


def test_a_job_is_created_from_sagemaker_spelling(api):
    response = api.post("/v1/jobs", json=job_body())

    assert response.status_code == 201
    assert without_created_at(response.json()) == {
        "name": "gan",
        "objective": {"metric_name": "loss", "type": "Minimize", "strategy": "latest"},
        "metric_definitions": GAN_DEFINITIONS_PUBLIC,
        "log_format": "text",
        "environment": {},
        "run_counts": NO_RUNS,
        "best_run": None,
        **NEW_JOB,
    }


def test_a_job_is_created_from_snake_case_with_every_option(api):
    response = api.post(
        "/v1/jobs",
        json={
            "name": "xgb-churn",
            "objective": {"metric_name": "validation:auc", "type": "Maximize", "strategy": "max"},
            "metric_definitions": [
                {"name": "train:auc", "regex": r".*\[[0-9]+\].*#011train-auc:(\S+).*"},
                {"name": "validation:auc", "regex": r".*\[[0-9]+\].*#011validation-auc:(\S+).*"},
            ],
            "log_format": "cloudwatch",
            "environment": {"OMP_NUM_THREADS": "2", "_PRIVATE": ""},
        },
    )

    assert response.status_code == 201
    assert without_created_at(response.json()) == {
        "name": "xgb-churn",
        "objective": {"metric_name": "validation:auc", "type": "Maximize", "strategy": "max"},
        "metric_definitions": [
            {
                "name": "train:auc",
                "regex": r".*\[[0-9]+\].*#011train-auc:(\S+).*",
                "log_format": None,
            },
            {
                "name": "validation:auc",
                "regex": r".*\[[0-9]+\].*#011validation-auc:(\S+).*",
                "log_format": None,
            },
        ],
        "log_format": "cloudwatch",
        "environment": {"OMP_NUM_THREADS": "2", "_PRIVATE": ""},
        "run_counts": NO_RUNS,
        "best_run": None,
        **NEW_JOB,
    }


def test_a_created_job_reads_back_as_answered(api):
    created = api.post("/v1/jobs", json=job_body()).json()

    response = api.get("/v1/jobs/gan")

    assert (response.status_code, response.json()) == (200, created)


def test_a_taken_name_is_a_conflict(api, make_job):
    make_job(name="gan", type="Minimize")

    response = api.post(
        "/v1/jobs", json=job_body(objective={"MetricName": "loss", "Type": "Maximize"})
    )

    assert (response.status_code, response.json()) == (
        409,
        {"error": "job_exists", "message": "job 'gan' already exists", "job": "gan"},
    )
    assert api.get("/v1/jobs/gan").json()["objective"]["type"] == "Minimize"


@pytest.mark.parametrize("name", ["a", "7", "GAN-tuning-2", "a--b", "x" * 63])
def test_names_of_sagemaker_training_jobs_are_accepted(api, name):
    created = api.post("/v1/jobs", json=job_body(name))
    read = api.get(f"/v1/jobs/{name}")

    assert (created.status_code, read.status_code, read.json()["name"]) == (201, 200, name)


@pytest.mark.parametrize(
    "name",
    ["", "-gan", "gan-", "gan_tuning", "gan tuning", "gan.v2", "gan\n", "gán", "x" * 64],
    ids=[
        "empty",
        "leading-dash",
        "trailing-dash",
        "underscore",
        "space",
        "dot",
        "newline",
        "non-ascii",
        "64-chars",
    ],
)
def test_other_names_are_refused(api, name):
    response = api.post("/v1/jobs", json=job_body(name))

    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert [d["location"] for d in response.json()["details"]] == ["body.name"]


def test_a_name_longer_than_63_characters_is_refused_even_with_hyphens(api):
    name = "a" + "-" * 62 + "b"  # 64 characters

    response = api.post("/v1/jobs", json=job_body(name))

    assert response.status_code == 422


MANY = [{"Name": f"metric-{i}", "Regex": f"metric-{i}=(\\S+)"} for i in range(40)]
LOSS = {"Name": "loss", "Regex": "Loss = (.*?);"}


@pytest.mark.parametrize(
    ("definitions", "message", "where"),
    [
        (
            [*MANY, LOSS],
            "a job may have at most 40 metric definitions, got 41",
            {},
        ),
        (
            [LOSS, {"Name": "", "Regex": "acc=(\\S+)"}],
            "metric definition 1 (''): the name must be 1 to 255 characters, got 0",
            {"index": 1, "name": ""},
        ),
        (
            [LOSS, {"Name": "m" * 256, "Regex": "acc=(\\S+)"}],
            f"metric definition 1 ('{'m' * 57}...'): the name must be 1 to 255 characters, got 256",
            {"index": 1, "name": "m" * 256},
        ),
        (
            [{"Name": "loss", "Regex": ""}],
            "metric definition 0 ('loss'): the regex must be 1 to 500 characters, got 0",
            {"index": 0, "name": "loss"},
        ),
        (
            [{"Name": "loss", "Regex": "Loss = (.*?);" + " " * 488}],
            "metric definition 0 ('loss'): the regex must be 1 to 500 characters, got 501",
            {"index": 0, "name": "loss"},
        ),
        (
            [
                LOSS,
                {"Name": "GAN_loss", "Regex": "GAN_loss=(.*?);"},
                {"Name": "loss", "Regex": "loss: (\\S+)"},
            ],
            "metric definition 2 ('loss'): the name is already used by an earlier definition; "
            "names must be unique",
            {"index": 2, "name": "loss"},
        ),
        (
            [{"Name": "loss", "Regex": "Loss = (.*?;"}],
            "metric definition 0 ('loss'): the regex does not compile: missing ) at position 12",
            {"index": 0, "name": "loss"},
        ),
        (
            [LOSS, {"Name": "acc", "Regex": "acc=[0-9.]+"}],
            "metric definition 1 ('acc'): the regex has no capturing group; the first group's "
            "capture is the value",
            {"index": 1, "name": "acc"},
        ),
    ],
    ids=[
        "41-definitions",
        "empty-name",
        "256-char-name",
        "empty-regex",
        "501-char-regex",
        "duplicate-name",
        "regex-does-not-compile",
        "no-capturing-group",
    ],
)
def test_a_bad_metric_definition_is_refused_by_index_name_and_reason(
    api, definitions, message, where
):
    response = api.post("/v1/jobs", json=job_body(metric_definitions=definitions))

    assert (response.status_code, response.json()) == (
        422,
        {"error": "invalid_metric_definition", "message": message, **where},
    )


def test_definitions_at_their_limits_are_accepted(api):
    definitions = [
        *MANY[:38],
        {"Name": "l" * 255, "Regex": "L = (.*?);"},
        {"Name": "loss", "Regex": "Loss = (.*?);" + " " * 487},
    ]

    response = api.post("/v1/jobs", json=job_body(metric_definitions=definitions))

    assert response.status_code == 201, response.text
    assert len(response.json()["metric_definitions"]) == 40


def test_the_objective_metric_must_be_defined(api):
    response = api.post(
        "/v1/jobs",
        json=job_body(objective={"MetricName": "accuracy", "Type": "Maximize"}),
    )

    assert (response.status_code, response.json()) == (
        422,
        {
            "error": "invalid_objective",
            "message": "the objective metric 'accuracy' is not among the metric definitions "
            "(defined: 'GAN_loss', 'disc_train_loss', 'disc-combined', 'loss')",
            "metric_name": "accuracy",
        },
    )


def test_a_job_without_definitions_has_no_objective_metric(api):
    response = api.post("/v1/jobs", json=job_body(metric_definitions=[]))

    assert (response.status_code, response.json()["message"]) == (
        422,
        "the objective metric 'loss' is not among the metric definitions (defined: none)",
    )


@pytest.mark.parametrize(
    ("objective", "location", "message"),
    [
        (
            {"MetricName": "loss", "Type": "maximize"},
            "body.objective.Type",
            "Input should be 'Maximize' or 'Minimize'",
        ),
        (
            {"MetricName": "loss", "Type": "Minimise"},
            "body.objective.Type",
            "Input should be 'Maximize' or 'Minimize'",
        ),
        (
            {"MetricName": "loss", "Type": "Minimize", "strategy": "median"},
            "body.objective.strategy",
            "Input should be 'latest', 'min' or 'max'",
        ),
        ({"MetricName": "loss"}, "body.objective.type", "Field required"),
    ],
    ids=["lowercase-type", "british-type", "unknown-strategy", "no-type"],
)
def test_a_bad_objective_is_refused(api, objective, location, message):
    response = api.post("/v1/jobs", json=job_body(objective=objective))

    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert {"location": location, "message": message} in response.json()["details"]


@pytest.mark.parametrize(
    ("body", "location"),
    [
        (job_body(tags=["sweep"]), "body.tags"),
        (
            job_body(objective={"MetricName": "loss", "Type": "Minimize", "Goal": "low"}),
            "body.objective.Goal",
        ),
        (
            job_body(metric_definitions=[{"Name": "loss", "Regex": "Loss = (.*?);", "Unit": "s"}]),
            "body.metric_definitions.0.Unit",
        ),
    ],
    ids=["job", "objective", "definition"],
)
def test_unknown_keys_are_refused(api, body, location):
    response = api.post("/v1/jobs", json=body)

    assert response.status_code == 422
    assert {"location": location, "message": "Extra inputs are not permitted"} in response.json()[
        "details"
    ]


def test_a_bad_log_format_is_refused(api):
    response = api.post("/v1/jobs", json=job_body(log_format="json"))

    assert response.status_code == 422
    assert {
        "location": "body.log_format",
        "message": "Input should be 'text' or 'cloudwatch'",
    } in response.json()["details"]


ENV_48 = {f"VAR_{i}": str(i) for i in range(48)}


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        (
            {**ENV_48, "ONE_MORE": "1"},
            "a job's environment may have at most 48 variables, got 49",
        ),
        (
            {"MY-VAR": "1"},
            "environment variable name 'MY-VAR' must match [a-zA-Z_][a-zA-Z0-9_]* "
            "(at most 512 characters)",
        ),
        (
            {"2FAST": "1"},
            "environment variable name '2FAST' must match [a-zA-Z_][a-zA-Z0-9_]* "
            "(at most 512 characters)",
        ),
        (
            {"WANDB_NOTES": "n" * 513},
            "environment variable 'WANDB_NOTES': values may be at most 512 characters, got 513",
        ),
    ],
    ids=["49-variables", "dash-in-name", "digit-first", "513-char-value"],
)
def test_a_bad_environment_is_refused(api, environment, message):
    response = api.post("/v1/jobs", json=job_body(environment=environment))

    assert (response.status_code, response.json()) == (
        422,
        {"error": "invalid_input", "message": message},
    )


def test_an_environment_at_its_limits_is_accepted(api):
    environment = {**ENV_48, "VAR_0": "v" * 512}

    response = api.post("/v1/jobs", json=job_body(environment=environment))

    assert response.status_code == 201
    assert response.json()["environment"] == environment


def test_no_jobs_list_empty(api):
    response = api.get("/v1/jobs")

    assert (response.status_code, response.json()) == (200, {"jobs": []})


def test_jobs_list_newest_first_with_their_counts_and_best_run(api, make_job, make_run):
    make_job(name="first")
    make_job(name="second")
    make_run(job="second", name="lr-0-1", log="Loss = 0.5;\n", status="Completed")
    make_run(job="second", name="lr-0-01", log="Loss = 0.25;\n", status="Failed")
    make_run(job="second", name="lr-1")
    make_job(name="third")

    jobs = api.get("/v1/jobs").json()["jobs"]

    assert [(j["name"], j["run_counts"], j["best_run"]) for j in jobs] == [
        ("third", NO_RUNS, None),
        (
            "second",
            {"InProgress": 1, "Completed": 1, "Failed": 1, "Stopped": 0},
            {"name": "lr-0-1", "objective_value": 0.5},
        ),
        ("first", NO_RUNS, None),
    ]


def test_a_job_reads_with_its_run_counts_and_best_run(api, make_job, make_run):
    make_job()
    make_run(name="lr-0-1", log="Loss = 0.5;\n", status="Completed")
    make_run(name="lr-0-3", log="Loss = 0.75;\n", status="Stopped")
    make_run(name="lr-0-01", log="Loss = 0.25;\n")  # running: not best yet
    make_run(name="lr-1", status="Failed")

    job = api.get("/v1/jobs/gan").json()

    assert (job["run_counts"], job["best_run"]) == (
        {"InProgress": 1, "Completed": 1, "Failed": 1, "Stopped": 1},
        {"name": "lr-0-1", "objective_value": 0.5},
    )


def test_an_unknown_job_is_not_found(api, make_job):
    make_job(name="gan")

    response = api.get("/v1/jobs/gan-2")

    assert (response.status_code, response.json()) == (
        404,
        {"error": "job_not_found", "message": "job 'gan-2' does not exist", "job": "gan-2"},
    )
