"""A delivery connects to the address it checked: a name is resolved once, checked, and
the connection made to that address with the name as Host; resolved to loopback at
delivery time, it is refused."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

import httpx

from app.storage.webhook_records import DeliveryStatus, DueDelivery, WebhookEventKind, WebhookFormat
from app.webhooks import delivery as delivery_module
from app.webhooks.addresses import redact
from app.webhooks.delivery import DeliveryPolicy, attempt


def _due(url: str) -> DueDelivery:
    return DueDelivery(
        id="d1",
        claim="c1",
        event=WebhookEventKind.RUN_FAILED,
        attempts=0,
        payload={"job": "gan", "run": "r1"},
        created_at=datetime(2026, 12, 6, tzinfo=UTC),
        webhook_id="wh_1",
        url=url,
        format=WebhookFormat.JSON,
        secret=None,
    )


def test_the_connection_goes_to_the_address_checked_with_the_name_as_host(receiver_of, monkeypatch):
    receiver = receiver_of()
    port = receiver.url.split(":")[2].split("/")[0]
    looked_up = []

    def resolve(target):
        looked_up.append(target.host)
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(delivery_module, "resolve", resolve)
    with httpx.Client(timeout=2, trust_env=False) as client:
        outcome = attempt(
            client,
            _due(f"http://hooks.example.test:{port}/hook?k=1"),
            DeliveryPolicy(allow_loopback=True),
        )

    assert (outcome.status, outcome.status_code) == (DeliveryStatus.DELIVERED, 200)
    assert looked_up == ["hooks.example.test"]  # once: the address checked is the one used
    [request] = receiver.received
    assert request.headers["host"] == f"hooks.example.test:{port}"
    assert request.path == "/hook?k=1"


def test_a_name_that_resolves_to_loopback_at_delivery_is_not_called(receiver_of, monkeypatch):
    receiver = receiver_of()
    port = receiver.url.split(":")[2].split("/")[0]
    monkeypatch.setattr(
        delivery_module,
        "resolve",
        lambda _target: [ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("127.0.0.1")],
    )
    with httpx.Client(timeout=2, trust_env=False) as client:
        outcome = attempt(
            client, _due(f"http://rebound.example.test:{port}/hook"), DeliveryPolicy(max_attempts=3)
        )

    assert outcome.status is DeliveryStatus.RETRYING and outcome.status_code is None
    assert (
        outcome.error == "a webhook may not reach the service's own machine (127.0.0.1 is loopback)"
    )
    assert receiver.received == []


def test_a_url_is_redacted_to_its_scheme_and_host():
    assert redact("https://hooks.slack.com/services/T0/B0/XYZ?x=1") == "https://hooks.slack.com/…"
    assert redact("http://[::1]:8080/a") == "http://[::1]/…"


def test_urls_that_differ_only_in_the_case_of_their_scheme_and_host_are_one_webhook(api, make_job):
    make_job()
    given = api.put(
        "/v1/jobs/gan/webhooks", json={"webhooks": [{"url": "http://Hooks.Example.test/Path"}]}
    )
    assert given.status_code == 200, given.text
    [first] = given.json()["webhooks"]
    assert first["url"] == "http://hooks.example.test/Path"  # the path's case is its own

    again = api.put(
        "/v1/jobs/gan/webhooks", json={"webhooks": [{"url": "HTTP://HOOKS.example.TEST/Path"}]}
    )
    assert [hook["id"] for hook in again.json()["webhooks"]] == [first["id"]]

    twice = api.put(
        "/v1/jobs/gan/webhooks",
        json={
            "webhooks": [
                {"url": "http://hooks.example.test/a"},
                {"url": "http://HOOKS.example.test/a"},
            ]
        },
    )
    assert twice.status_code == 422
    assert twice.json()["message"] == "each of a job's webhooks needs its own URL"
