"""GET /v1/jobs/{job}/runs: the leaderboard, sorted, filtered and paged."""

from __future__ import annotations

import pytest


@pytest.fixture
def sweep(make_job, make_run):
    """Six runs minimizing `loss`, created in this order; two pairs tie."""

    def make(type="Minimize"):
        make_job(type=type)
        make_run(name="lr-0-1", log="Loss = 0.9;\nLoss = 0.5;\n", status="Completed")
        make_run(name="lr-0-01", log="Loss = 0.25;\n", status="Completed")
        make_run(name="lr-0-001", log="Loss = 0.5;\n", status="Failed")
        make_run(name="lr-1", log="GAN_loss=0.1;\n", status="Completed")  # no loss
        make_run(name="lr-0-3", log="Loss = 0.75;\n")  # still running
        make_run(name="lr-0-03", log="Loss = 0.25;\n", status="Stopped")

    return make


def names(api, **params):
    response = api.get("/v1/jobs/gan/runs", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_cursor"] is None
    return [run["name"] for run in body["runs"]]


# The runs /best considers (completed and stopped, with a value) are ranked first; the
# others follow, oldest first: failed lr-0-001, lr-1 without a loss, lr-0-3 still running.
UNRANKED = ["lr-0-001", "lr-1", "lr-0-3"]


def test_a_minimizing_job_lists_the_lowest_objective_first(api, sweep):
    sweep("Minimize")

    assert names(api) == ["lr-0-01", "lr-0-03", "lr-0-1", *UNRANKED]


def test_a_maximizing_job_lists_the_highest_objective_first(api, sweep):
    sweep("Maximize")

    # Ties still go to the earliest created run.
    assert names(api) == ["lr-0-1", "lr-0-01", "lr-0-03", *UNRANKED]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"order": "desc"}, ["lr-0-1", "lr-0-01", "lr-0-03", *UNRANKED]),
        ({"sort_by": "created_at"}, ["lr-0-1", "lr-0-01", "lr-0-001", "lr-1", "lr-0-3", "lr-0-03"]),
        (
            {"sort_by": "created_at", "order": "desc"},
            ["lr-0-03", "lr-0-3", "lr-1", "lr-0-001", "lr-0-01", "lr-0-1"],
        ),
        ({"sort_by": "name"}, ["lr-0-001", "lr-0-01", "lr-0-03", "lr-0-1", "lr-0-3", "lr-1"]),
        (
            {"sort_by": "name", "order": "desc"},
            ["lr-1", "lr-0-3", "lr-0-1", "lr-0-03", "lr-0-01", "lr-0-001"],
        ),
        ({"status": "Completed"}, ["lr-0-01", "lr-0-1", "lr-1"]),
        ({"status": ["Completed", "Stopped"]}, ["lr-0-01", "lr-0-03", "lr-0-1", "lr-1"]),
        ({"status": "Failed", "sort_by": "name"}, ["lr-0-001"]),
        ({"status": "InProgress"}, ["lr-0-3"]),
    ],
    ids=[
        "objective-desc",
        "created-asc",
        "created-desc",
        "name-asc",
        "name-desc",
        "completed",
        "completed-or-stopped",
        "failed-by-name",
        "in-progress",
    ],
)
def test_the_leaderboard_sorts_and_filters(api, sweep, params, expected):
    sweep()

    assert names(api, **params) == expected


def test_listed_runs_carry_their_objective_and_final_metrics(api, sweep):
    sweep()

    runs = api.get("/v1/jobs/gan/runs", params={"limit": 1}).json()["runs"]

    (run,) = runs
    assert set(run) == {
        "job",
        "name",
        "status",
        "failure_reason",
        "stopped_early",
        "worker",
        "created_at",
        "ended_at",
        "hyperparameters",
        "objective",
        "final_metrics",
        "gpus",
        "attempt",
    }
    assert (run["name"], run["objective"], [m["value"] for m in run["final_metrics"]]) == (
        "lr-0-01",
        {"metric_name": "loss", "value": 0.25, "status": "Succeeded"},
        [0.25],
    )


@pytest.mark.parametrize(
    "params",
    [{}, {"order": "desc"}, {"sort_by": "created_at"}, {"sort_by": "name", "order": "desc"}],
    ids=["objective", "objective-desc", "created", "name-desc"],
)
def test_paging_gives_every_run_once_in_order(api, sweep, params):
    sweep()
    whole = names(api, **params)

    seen, cursor = [], None
    while True:
        query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/v1/jobs/gan/runs", params=query).json()
        assert 1 <= len(page["runs"]) <= 2
        seen += [run["name"] for run in page["runs"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == whole


def test_a_job_without_runs_has_an_empty_leaderboard(api, make_job):
    make_job()

    assert api.get("/v1/jobs/gan/runs").json() == {"runs": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("params", "location"),
    [
        ({"sort_by": "loss"}, "query.sort_by"),
        ({"order": "up"}, "query.order"),
        ({"status": "Running"}, "query.status.0"),
        ({"limit": "0"}, "query.limit"),
        ({"limit": "1001"}, "query.limit"),
    ],
)
def test_bad_leaderboard_parameters_are_refused(api, make_job, params, location):
    make_job()

    response = api.get("/v1/jobs/gan/runs", params=params)

    assert response.status_code == 422
    assert [d["location"] for d in response.json()["details"]] == [location]


def test_a_cursor_not_given_by_the_service_is_refused(api, make_job):
    make_job()

    response = api.get("/v1/jobs/gan/runs", params={"cursor": "page-2"})

    assert (response.status_code, response.json()) == (
        422,
        {
            "error": "invalid_input",
            "message": "invalid cursor 'page-2': pass a next_cursor as given",
        },
    )


def test_a_cursor_of_another_sort_is_refused(api, sweep):
    sweep()
    by_name = api.get("/v1/jobs/gan/runs", params={"sort_by": "name", "limit": 1}).json()

    response = api.get("/v1/jobs/gan/runs", params={"cursor": by_name["next_cursor"]})

    assert (response.status_code, response.json()["error"]) == (422, "invalid_input")


def test_the_leaderboard_of_an_unknown_job_is_not_found(api):
    response = api.get("/v1/jobs/gan/runs")

    assert (response.status_code, response.json()["error"]) == (404, "job_not_found")
