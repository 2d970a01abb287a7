"""Host and Origin checks: DNS rebinding and cross-site writes (issue 10, item 7)."""

from __future__ import annotations

import pytest

JOB = {
    "name": "gan",
    "objective": {"MetricName": "loss", "Type": "Minimize"},
    "metric_definitions": [{"Name": "loss", "Regex": "Loss = (.*?);"}],
}


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example"])
def test_a_host_not_allowed_is_refused_for_reads_and_writes(api, host):
    read = api.get("/v1/jobs", headers={"Host": host})
    write = api.post("/v1/jobs", json=JOB, headers={"Host": host})

    for answer in (read, write):
        assert answer.status_code == 403
        assert answer.json()["error"] == "host_not_allowed"
    assert api.get("/v1/jobs").json()["jobs"] == []


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:9", "[::1]:8000", "LOCALHOST"])
def test_loopback_names_are_allowed_by_default(api, host):
    assert api.get("/healthz", headers={"Host": host}).status_code == 200


def test_allowed_hosts_can_be_configured(start_service):
    service = start_service(allowed_hosts="127.0.0.1,metrics.internal")

    assert service.client.get("/healthz", headers={"Host": "metrics.internal"}).status_code == 200
    assert service.client.get("/healthz", headers={"Host": "localhost"}).status_code == 403
    assert (
        start_service(allowed_hosts="*")
        .client.get("/healthz", headers={"Host": "anything.example"})
        .status_code
        == 200
    )


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://localhost:1"])
def test_a_write_from_another_origin_is_refused(api, origin):
    refused = api.post("/v1/jobs", json=JOB, headers={"Origin": origin})

    assert refused.status_code == 403
    assert refused.json()["error"] == "origin_not_allowed"
    assert api.get("/v1/jobs", headers={"Origin": origin}).status_code == 200  # reads pass
    assert api.get("/v1/jobs").json()["jobs"] == []


def test_a_write_from_the_services_own_origin_or_without_origin_is_taken(service):
    own = service.client.post("/v1/jobs", json=JOB, headers={"Origin": service.url})
    plain = service.client.post("/v1/jobs", json={**JOB, "name": "plain"})

    assert (own.status_code, plain.status_code) == (201, 201)


def test_an_allowed_origin_may_write(start_service):
    service = start_service(allowed_origins="https://dashboards.example")

    created = service.client.post(
        "/v1/jobs", json=JOB, headers={"Origin": "https://dashboards.example"}
    )

    assert created.status_code == 201
