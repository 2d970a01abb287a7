"""No client input can store a value that breaks a read (issue 10, items 4, 5 and 9).

Each case first shows the refusal, then that every read of the job still answers, on
SQLite and on PostgreSQL (whose text columns cannot hold NUL at all).
"""

from __future__ import annotations

import json

import pytest

from app.auth import load_tokens

JOB = {
    "name": "gan",
    "objective": {"MetricName": "loss", "Type": "Minimize"},
    "metric_definitions": [{"Name": "loss", "Regex": "loss=(.*?);"}],
}
READS = [
    "/v1/jobs",
    "/v1/jobs/gan",
    "/v1/jobs/gan/runs",
    "/v1/jobs/gan/best",
    "/v1/jobs/gan/runs/run-1",
    "/v1/jobs/gan/runs/run-1/metrics/loss",
    "/",
    "/jobs/gan",
    "/jobs/gan/runs/run-1",
]


@pytest.fixture
def service(start_service, service_database_url):
    service = start_service(database_url=service_database_url)
    assert service.client.post("/v1/jobs", json=JOB).status_code == 201
    assert service.client.post("/v1/jobs/gan/runs", json={"name": "run-1"}).status_code == 201
    return service


def assert_reads_answer(api):
    for path in READS:
        assert api.get(path).status_code in (200, 404), path  # 404: no best run yet


def post_json(api, path, text):
    return api.post(path, content=text.encode(), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    "timestamp",
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "1969-12-31T23:59:59Z",
        "-1",
        "253402300800",  # 10000-01-01 in Unix seconds
    ],
)
def test_a_timestamp_outside_1970_to_9999_is_refused_and_reads_still_answer(service, timestamp):
    api = service.client

    refused = api.post(
        "/v1/jobs/gan/runs/run-1/logs", params={"timestamp": timestamp}, content=b"loss=1;\n"
    )
    api.post("/v1/jobs/gan/runs/run-1/complete", json={"status": "Completed"})

    assert refused.status_code == 422
    assert refused.json()["error"] == "invalid_request"
    assert "is outside 1970-01-01 to 9999-12-31 (UTC)" in refused.json()["message"]
    assert [d["location"] for d in refused.json()["details"]] == ["query.timestamp"]
    assert api.get("/v1/jobs/gan/runs/run-1").json()["streams"] == []  # nothing stored
    assert_reads_answer(api)


def test_the_last_moments_of_the_window_are_taken(service):
    api = service.client

    first = api.post(
        "/v1/jobs/gan/runs/run-1/logs",
        params={"timestamp": "1970-01-01T00:00:00Z"},
        content=b"loss=1;\n",
    )
    last = api.post(
        "/v1/jobs/gan/runs/run-1/logs",
        params={"timestamp": "9999-12-31T23:59:59Z"},
        content=b"loss=2;\n",
    )

    assert (first.status_code, last.status_code) == (200, 200)
    points = api.get("/v1/jobs/gan/runs/run-1/metrics/loss").json()["points"]
    assert [p["timestamp"] for p in points] == ["1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z"]
    assert_reads_answer(api)


# JSON escapes for what no database text can hold: a lone surrogate, and NUL.
@pytest.mark.parametrize("bad", ["\\ud800", "\\udfff", "x\\u0000y"])
@pytest.mark.parametrize(
    ("path", "template", "where"),
    [
        (
            "/v1/jobs",
            '{{"name": "j2", "objective": {{"MetricName": "loss", "Type": "Minimize"}},'
            ' "metric_definitions": [{{"Name": "loss", "Regex": "l(.*)"}}],'
            ' "environment": {{"A": "{bad}"}}}}',
            "environment.A",
        ),
        (
            "/v1/jobs",
            '{{"name": "j2", "objective": {{"MetricName": "l{bad}", "Type": "Minimize"}},'
            ' "metric_definitions": [{{"Name": "l{bad}", "Regex": "l(.*)"}}]}}',
            "objective.MetricName",
        ),
        (
            "/v1/jobs/gan/runs",
            '{{"name": "run-2", "hyperparameters": {{"lr": "{bad}"}}}}',
            "hyperparameters.lr",
        ),
        (
            "/v1/jobs/gan/runs",
            '{{"name": "run-2", "hyperparameters": {{"{bad}": "1"}}}}',
            "hyperparameters",
        ),
    ],
)
def test_a_string_no_database_can_hold_is_refused_where_it_enters(
    service, bad, path, template, where
):
    api = service.client

    refused = post_json(api, path, template.format(bad=bad))

    assert refused.status_code == 422, refused.text
    assert f"{where}: a string may not hold" in refused.json()["message"]
    assert_reads_answer(api)


def test_a_failure_reason_is_text_and_keeps_what_it_can(service):
    api = service.client

    ended = post_json(
        api,
        "/v1/jobs/gan/runs/run-1/complete",
        json.dumps({"status": "Failed"})[:-1] + ', "failure_reason": "OOM \\u0000 \\ud800"}',
    )

    assert ended.status_code == 200, ended.text
    assert ended.json()["failure_reason"] == "OOM \ufffd \ufffd"
    assert_reads_answer(api)


def test_a_dry_runs_lone_surrogate_is_a_replacement_character(service):
    parsed = post_json(
        service.client,
        "/v1/parse",
        '{"metric_definitions": [{"Name": "x", "Regex": "x=(\\\\S+)"}], "log": "x=\\ud800\\n"}',
    )

    assert parsed.status_code == 200, parsed.text
    assert parsed.json()["rejections"][0]["capture"] == "\ufffd"


@pytest.mark.parametrize("name", ["run-1%00", "%00"])
def test_a_name_with_nul_in_a_path_is_not_found(service, name):
    assert service.client.get(f"/v1/jobs/gan/runs/{name}").status_code == 404
    assert service.client.get(f"/v1/jobs/gan/runs/run-1/metrics/lo{name}").status_code == 404


ADMIN = "admin-token-0123456789abcdef"


@pytest.mark.parametrize(
    "token",
    [
        "lmr_999999999999999999999999999999_abc",
        "lmr_9223372036854775808_abc",
        "lmr_0_abc",
        "lmr_1_",
        "lmr__abc",
        "lmr_1_abc\u00e9",
    ],
)
def test_a_forged_or_malformed_run_token_is_401(start_service, token):
    service = start_service(api_tokens=f"admin:{ADMIN}")
    assert load_tokens(f"admin:{ADMIN}", None).enabled

    answer = service.client.get("/v1/jobs", headers={"Authorization": f"Bearer {token}".encode()})

    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthenticated"
