"""Bodies above the limits are refused with a JSON 413 before they are all read."""

import json


def test_a_json_body_above_the_request_limit_is_a_413(start_service):
    service = start_service(max_request_bytes=1000)
    body = {
        "name": "gan",
        "objective": {"MetricName": "loss", "Type": "Minimize"},
        "metric_definitions": [{"Name": "loss", "Regex": "Loss = (.*?);"}] * 30,
    }
    response = service.client.post("/v1/jobs", json=body)
    assert response.status_code == 413
    assert response.json() == {
        "error": "request_too_large",
        "message": "a request body may hold at most 1000 bytes",
        "limit": 1000,
    }


def test_a_chunked_body_without_a_length_is_cut_off_at_the_limit_too(start_service):
    service = start_service(max_request_bytes=1000)

    def pieces():
        yield b'{"name": "gan", "padding": "'
        for _ in range(100):
            yield b"x" * 100
        yield b'"}'

    response = service.client.post(
        "/v1/jobs", content=pieces(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"


def test_log_chunks_have_their_own_larger_limit(start_service, make_job):
    service = start_service(max_request_bytes=1000, max_chunk_bytes=5000)
    api = service.client
    created = api.post(
        "/v1/jobs",
        json={
            "name": "gan",
            "objective": {"MetricName": "loss", "Type": "Minimize"},
            "metric_definitions": [{"Name": "loss", "Regex": "Loss = (.*?);"}],
        },
    )
    assert created.status_code == 201
    api.post("/v1/jobs/gan/runs", json={})
    accepted = api.post("/v1/jobs/gan/runs/run-0001/logs", content=b"Loss = 1;\n" * 400)
    assert accepted.status_code == 200
    refused = api.post("/v1/jobs/gan/runs/run-0001/logs", content=b"x" * 5001)
    assert refused.status_code == 413
    assert json.loads(refused.content)["error"] == "chunk_too_large"
    # Nothing of the refused chunk was stored.
    assert api.get("/v1/jobs/gan/runs/run-0001").json()["streams"][0]["next_offset"] == 4000
