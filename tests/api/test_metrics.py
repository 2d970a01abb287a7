"""GET /v1/jobs/{job}/runs/{run}/metrics/{metric}: a metric's points, a page at a time."""

from __future__ import annotations

import pytest

LOG = (
    "[epoch 1] Loss = 0.9;\n"
    "[epoch 2] Loss = 0.7;\n"
    "[epoch 3] Loss = 0.6;\n"
    "[epoch 4] Loss = 0.55;\n"
    "[epoch 5] Loss = 0.52;\n"
)
AT = "2024-05-01T12:00:00Z"


@pytest.fixture
def run(make_job, make_run, post_log):
    """Run `lr-0-01` of the GAN job, with five `loss` points logged at noon."""
    make_job()
    make_run(name="lr-0-01")
    post_log("lr-0-01", LOG, timestamp=AT)


def series(api, metric="loss", **params):
    response = api.get(f"/v1/jobs/gan/runs/lr-0-01/metrics/{metric}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_series_lists_its_points_in_arrival_order(api, run):
    assert series(api) == {
        "metric_name": "loss",
        "points": [
            {"step": 1, "value": 0.9, "timestamp": AT, "stream": "stdout", "line": 1, "offset": 0},
            {"step": 2, "value": 0.7, "timestamp": AT, "stream": "stdout", "line": 2, "offset": 22},
            {"step": 3, "value": 0.6, "timestamp": AT, "stream": "stdout", "line": 3, "offset": 44},
            {
                "step": 4,
                "value": 0.55,
                "timestamp": AT,
                "stream": "stdout",
                "line": 4,
                "offset": 66,
            },
            {
                "step": 5,
                "value": 0.52,
                "timestamp": AT,
                "stream": "stdout",
                "line": 5,
                "offset": 89,
            },
        ],
        "next_cursor": None,
    }


def test_a_series_pages_with_its_cursor(api, run):
    first = series(api, limit=2)
    second = series(api, limit=2, cursor=first["next_cursor"])
    last = series(api, limit=2, cursor=second["next_cursor"])

    assert [
        ([p["step"] for p in page["points"]], page["next_cursor"]) for page in (first, second, last)
    ] == [
        ([1, 2], "2"),
        ([3, 4], "4"),
        ([5], None),
    ]


def test_a_page_that_ends_the_series_has_no_cursor(api, run):
    page = series(api, limit=5)

    assert (len(page["points"]), page["next_cursor"]) == (5, None)


def test_steps_come_from_the_step_group_when_the_regex_has_one(api, make_job, make_run, post_log):
    make_job(
        metric="val_loss",
        definitions=[
            {"Name": "val_loss", "Regex": r"Epoch (?P<step>\d+)/\d+ .*val_loss: (?P<value>\S+)"}
        ],
    )
    make_run(name="keras-1")
    post_log(
        "keras-1",
        "Epoch 1/3 - 2s - loss: 0.6931 - val_loss: 0.6523\n"
        "Epoch 2/3 - 1s - loss: 0.5017 - val_loss: 0.4988\n"
        "Epoch 10/3 - 1s - loss: 0.4203 - val_loss: 0.4410\n",
        timestamp=AT,
    )

    points = api.get("/v1/jobs/gan/runs/keras-1/metrics/val_loss").json()["points"]

    assert [(p["step"], p["value"]) for p in points] == [(1, 0.6523), (2, 0.4988), (10, 0.441)]


def test_a_defined_metric_without_points_has_an_empty_series(api, run):
    assert series(api, "GAN_loss") == {"metric_name": "GAN_loss", "points": [], "next_cursor": None}


def test_an_undefined_metric_is_not_found(api, run):
    response = api.get("/v1/jobs/gan/runs/lr-0-01/metrics/accuracy")

    assert (response.status_code, response.json()) == (
        404,
        {
            "error": "metric_not_found",
            "message": "job 'gan' has no metric definition named 'accuracy'",
            "job": "gan",
            "metric": "accuracy",
        },
    )


def test_the_series_of_an_unknown_run_is_not_found(api, run):
    response = api.get("/v1/jobs/gan/runs/lr-0-02/metrics/loss")

    assert (response.status_code, response.json()["error"]) == (404, "run_not_found")


@pytest.mark.parametrize("cursor", ["abc", "-1", "1.5"])
def test_a_cursor_not_given_by_the_service_is_refused(api, run, cursor):
    response = api.get("/v1/jobs/gan/runs/lr-0-01/metrics/loss", params={"cursor": cursor})

    assert (response.status_code, response.json()) == (
        422,
        {
            "error": "invalid_input",
            "message": f"invalid cursor {cursor!r}: pass a next_cursor as given",
        },
    )


def test_a_superscript_digit_cursor_is_refused(api, run):
    response = api.get("/v1/jobs/gan/runs/lr-0-01/metrics/loss", params={"cursor": "²"})

    assert (response.status_code, response.json()["error"]) == (422, "invalid_input")


def test_a_cursor_beyond_64_bits_is_refused(api, run):
    response = api.get("/v1/jobs/gan/runs/lr-0-01/metrics/loss", params={"cursor": "9" * 20})

    assert (response.status_code, response.json()["error"]) == (422, "invalid_input")


@pytest.mark.parametrize("limit", ["0", "100001", "ten"])
def test_a_bad_limit_is_refused(api, run, limit):
    response = api.get("/v1/jobs/gan/runs/lr-0-01/metrics/loss", params={"limit": limit})

    assert response.status_code == 422
    assert [d["location"] for d in response.json()["details"]] == ["query.limit"]


def test_a_metric_named_with_a_slash_has_a_series(api, make_job, make_run, post_log):
    make_job(
        metric="train/loss", definitions=[{"Name": "train/loss", "Regex": r"train/loss=(\S+)"}]
    )
    make_run(name="lr-0-01")
    post_log("lr-0-01", "step 1 train/loss=0.5\n", timestamp=AT)

    response = api.get("/v1/jobs/gan/runs/lr-0-01/metrics/train%2Floss")

    assert (response.status_code, response.json()["points"][0]["value"]) == (200, 0.5)
