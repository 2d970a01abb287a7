"""How every error reads: JSON with a stable code and a message, never a 500."""

from __future__ import annotations

import pytest

from tests.samples import GAN_DEFINITIONS


def test_the_service_is_healthy(api):
    response = api.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.parametrize("path", ["/v1/job", "/v1/jobs/gan/runs/lr-0-01/metrics", "/v2/jobs"])
def test_an_unknown_route_is_not_found(api, path):
    response = api.get(path)

    assert (response.status_code, response.json()) == (
        404,
        {"error": "http_error", "message": "Not Found"},
    )


def test_an_unknown_method_is_not_allowed(api):
    response = api.delete("/v1/jobs")

    assert (response.status_code, response.json()) == (
        405,
        {"error": "http_error", "message": "Method Not Allowed"},
    )


def test_not_allowed_names_every_method_of_the_path(api):
    response = api.delete("/v1/jobs")

    assert response.headers["allow"] == "GET, POST"


def test_a_json_body_that_is_not_utf8_is_an_invalid_request(api):
    response = api.post(
        "/v1/jobs", content=b'{"name": "g\xe9"}', headers={"content-type": "application/json"}
    )

    assert (response.status_code, response.json()) == (
        422,
        {
            "error": "invalid_request",
            "message": "body: not JSON text (JSON is UTF-8)",
            "details": [],
        },
    )


def test_malformed_json_is_an_invalid_request(api):
    response = api.post(
        "/v1/jobs", content=b'{"name": "gan",', headers={"content-type": "application/json"}
    )

    assert (response.status_code, response.json()) == (
        422,
        {
            "error": "invalid_request",
            "message": "body.15: JSON decode error",
            "details": [{"location": "body.15", "message": "JSON decode error"}],
        },
    )


def test_a_body_that_is_not_json_is_an_invalid_request(api):
    response = api.post("/v1/jobs", content=b"name=gan", headers={"content-type": "text/plain"})

    assert (response.status_code, response.json()["error"]) == (422, "invalid_request")


JOB = {
    "name": "gan",
    "objective": {"MetricName": "loss", "Type": "Minimize"},
    "metric_definitions": GAN_DEFINITIONS,
}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "location"),
    [
        ("post", "/v1/jobs", {"json": [JOB]}, "body"),
        ("post", "/v1/jobs", {"json": {**JOB, "name": 7}}, "body.name"),
        ("post", "/v1/jobs", {"json": {**JOB, "objective": "loss"}}, "body.objective"),
        (
            "post",
            "/v1/jobs",
            {"json": {**JOB, "environment": {"SEED": 1}}},
            "body.environment.SEED",
        ),
        (
            "post",
            "/v1/jobs",
            {"json": {**JOB, "metric_definitions": [{"Name": "loss", "Regex": 1}]}},
            "body.metric_definitions.0.Regex",
        ),
        ("post", "/v1/jobs/gan/runs", {"json": {"name": 1}}, "body.name"),
        ("post", "/v1/jobs/gan/runs/lr-0-01/complete", {"json": {"status": 1}}, "body.status"),
        (
            "get",
            "/v1/jobs/gan/best",
            {"params": {"include_in_progress": "maybe"}},
            "query.include_in_progress",
        ),
        ("post", "/v1/jobs/gan/runs/lr-0-01/logs", {"params": {"offset": "-1"}}, "query.offset"),
    ],
    ids=[
        "job-as-list",
        "name-as-number",
        "objective-as-string",
        "environment-value-as-number",
        "regex-as-number",
        "run-name-as-number",
        "status-as-number",
        "flag-as-word",
        "negative-offset",
    ],
)
def test_wrong_types_are_invalid_requests(api, make_job, make_run, method, path, kwargs, location):
    make_job()
    make_run(name="lr-0-01")

    response = getattr(api, method)(path, **kwargs)

    assert response.status_code == 422
    body = response.json()
    assert (body["error"], set(body)) == ("invalid_request", {"error", "message", "details"})
    assert location in [d["location"] for d in body["details"]]
    assert body["message"].startswith(f"{body['details'][0]['location']}: ")


def test_a_forged_leaderboard_cursor_is_an_invalid_input(api, make_job, make_run):
    make_job()
    make_run(name="lr-0-01", log="Loss = 0.5;\n")
    # base64url of `[0.5, 1714564800.0, 1000000000000000000000000000000]`
    cursor = "WzAuNSwgMTcxNDU2NDgwMC4wLCAxMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwXQ"

    response = api.get("/v1/jobs/gan/runs", params={"cursor": cursor})

    assert (response.status_code, response.json()["error"]) == (422, "invalid_input")
