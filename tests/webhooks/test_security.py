"""The URL is a secret and may not point at the service's own machine: refused when
given and again at delivery, hidden from read tokens, the secret never returned."""

from __future__ import annotations

import time

import pytest

from app.storage import create_storage
from app.storage.webhook_records import WebhookEventKind, WebhookSpec

ADMIN = "admin-token-0123456789"
READER = "read-token-0123456789"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:8080/hook", "127.0.0.1 is loopback"),
        ("http://127.1.2.3/hook", "127.1.2.3 is loopback"),
        ("http://localhost:8080/hook", "127.0.0.1 is loopback"),
        ("http://[::1]/hook", "::1 is loopback"),
        ("http://[::ffff:127.0.0.1]/hook", "127.0.0.1 is loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local address (169.254.169.254)"),
        ("http://[fe80::1]/hook", "link-local address (fe80::1)"),
        ("http://0.0.0.0/hook", "unspecified address (0.0.0.0)"),
        ("http://224.0.0.1/hook", "multicast address (224.0.0.1)"),
        ("ftp://example.com/hook", "must use http or https"),
        ("http://user:pass@example.com/hook", "may not hold a user or password"),
        ("http:///hook", "must name a host"),
        ("http://example.com:99999/", "must be a valid http or https URL"),
        ("http://[fd00:ec2::254]/latest/meta-data/", "metadata service (fd00:ec2::254)"),
        ("http://100.100.100.200/latest/meta-data/", "metadata service (100.100.100.200)"),
        ("http://255.255.255.255/hook", "broadcast address (255.255.255.255)"),
        ("http://240.0.0.1/hook", "reserved address (240.0.0.1)"),
        ("http://[64:ff9b::7f00:1]/hook", "127.0.0.1 is loopback"),
        ("http://example.com:0/hook", "may not name port 0"),
    ],
)
def test_a_url_the_service_will_not_call_is_refused_with_why(start_service, url, why):
    api = start_service().client
    api.post(
        "/v1/jobs",
        json={
            "name": "gan",
            "objective": {"MetricName": "loss", "Type": "Minimize"},
            "metric_definitions": [{"Name": "loss", "Regex": "loss=(\\S+)"}],
        },
    )

    response = api.put("/v1/jobs/gan/webhooks", json={"webhooks": [{"url": url}]})

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_webhook"
    assert why in response.json()["message"]
    assert api.get("/v1/jobs/gan/webhooks").json() == {"webhooks": []}


def test_a_url_that_turns_to_loopback_after_it_was_given_is_refused_at_delivery(
    start_service, receiver_of, database_url
):
    receiver = receiver_of()
    api = start_service(webhook_backoff_seconds=0.05, webhook_max_attempts=2).client
    api.post(
        "/v1/jobs",
        json={
            "name": "gan",
            "objective": {"MetricName": "loss", "Type": "Minimize"},
            "metric_definitions": [{"Name": "loss", "Regex": "loss=(\\S+)"}],
        },
    )
    # As if its name resolved elsewhere when it was given: stored past the API's check.
    storage = create_storage(database_url, sqlite_synchronous="NORMAL")
    try:
        spec = WebhookSpec(receiver.url, (WebhookEventKind.RUN_FAILED,))
        storage.replace_webhooks(storage.get_job("gan"), [spec])
    finally:
        storage.close()
    api.post("/v1/jobs/gan/runs", json={"name": "r1"})
    api.post("/v1/jobs/gan/runs/r1/complete", json={"status": "Failed"})

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        [delivery] = api.get("/v1/jobs/gan/webhooks").json()["webhooks"][0]["deliveries"]
        if delivery["status"] == "failed":
            break
        time.sleep(0.05)
    assert delivery["status"] == "failed" and delivery["attempts"] == 2
    assert delivery["last_error"] == (
        "a webhook may not reach the service's own machine (127.0.0.1 is loopback)"
    )
    assert receiver.received == []


def test_a_read_token_sees_the_url_redacted_and_may_not_change_webhooks(start_service):
    service = start_service(api_tokens=f"admin:{ADMIN},read:{READER}", webhook_allow_loopback=True)
    admin = {"Authorization": f"Bearer {ADMIN}"}
    reader = {"Authorization": f"Bearer {READER}"}
    api = service.client
    api.post(
        "/v1/jobs",
        headers=admin,
        json={
            "name": "gan",
            "objective": {"MetricName": "loss", "Type": "Minimize"},
            "metric_definitions": [{"Name": "loss", "Regex": "loss=(\\S+)"}],
        },
    )
    url = "https://hooks.slack.com/services/T000/B000/XXXXSECRET"
    put = api.put(
        "/v1/jobs/gan/webhooks",
        headers=admin,
        json={"webhooks": [{"url": url, "format": "slack", "secret": "x" * 20}]},
    )
    assert put.status_code == 200, put.text
    assert put.json()["webhooks"][0]["url"] == url

    read = api.get("/v1/jobs/gan/webhooks", headers=reader)

    assert read.status_code == 200
    [hook] = read.json()["webhooks"]
    assert hook["url"] == "https://hooks.slack.com/…"
    assert "XXXXSECRET" not in read.text and "x" * 20 not in read.text
    assert "secret" not in hook and hook["signed"] is True
    assert api.get("/v1/jobs/gan/webhooks", headers=admin).json()["webhooks"][0]["url"] == url
    assert "x" * 20 not in api.get("/v1/jobs/gan/webhooks", headers=admin).text
    refused = api.put("/v1/jobs/gan/webhooks", headers=reader, json={"webhooks": []})
    assert refused.status_code == 403
    hook_id = hook["id"]
    assert api.delete(f"/v1/jobs/gan/webhooks/{hook_id}", headers=reader).status_code == 403
    assert api.delete(f"/v1/jobs/gan/webhooks/{hook_id}", headers=admin).status_code == 204
    assert api.delete(f"/v1/jobs/gan/webhooks/{hook_id}", headers=admin).json()["error"] == (
        "webhook_not_found"
    )


def test_a_job_created_with_webhooks_has_them_and_a_refused_url_makes_no_job(start_service):
    api = start_service(webhook_allow_loopback=False).client
    body = {
        "name": "gan",
        "objective": {"MetricName": "loss", "Type": "Minimize"},
        "metric_definitions": [{"Name": "loss", "Regex": "loss=(\\S+)"}],
    }

    refused = api.post(
        "/v1/jobs",
        json={**body, "webhooks": [{"url": "https://192.0.2.7/a"}, {"url": "http://[::1]/b"}]},
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "invalid_webhook"
    assert "::1 is loopback" in refused.json()["message"]
    assert api.get("/v1/jobs/gan").status_code == 404

    made = api.post(
        "/v1/jobs",
        json={
            **body,
            "webhooks": [
                {"url": "https://192.0.2.7/a", "events": ["job_ended"], "format": "slack"}
            ],
        },
    )
    assert made.status_code == 201, made.text
    [hook] = api.get("/v1/jobs/gan/webhooks").json()["webhooks"]
    assert (hook["url"], hook["events"], hook["format"], hook["signed"], hook["deliveries"]) == (
        "https://192.0.2.7/a",
        ["job_ended"],
        "slack",
        False,
        [],
    )
