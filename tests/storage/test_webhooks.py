"""Webhooks and their outbox: replaced keeping the deliveries of a URL kept, an event
stored once per webhook and key, claims that exclude one another and lapse, attempts
noted only under the claim, and everything gone with its job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.errors import WebhookNotFound
from app.storage.webhook_records import (
    DeliveryAttempt,
    DeliveryStatus,
    WebhookEvent,
    WebhookEventKind,
    WebhookFormat,
    WebhookSpec,
)

FAILED = WebhookEventKind.RUN_FAILED
ENDED = WebhookEventKind.JOB_ENDED


def _event(kind=FAILED, key="run_failed:r1"):
    return WebhookEvent(kind, key, {"job": "gan", "run": "r1"})


def test_webhooks_are_replaced_keeping_those_whose_url_stays(backend, make_job):
    job = make_job()
    first = backend.replace_webhooks(
        job,
        [
            WebhookSpec("https://a.example/h", (FAILED,), WebhookFormat.JSON, "k" * 16),
            WebhookSpec("https://b.example/h", (ENDED,)),
        ],
    )
    assert [(h.url, h.events, h.secret) for h in first] == [
        ("https://a.example/h", (FAILED,), "k" * 16),
        ("https://b.example/h", (ENDED,), None),
    ]
    assert backend.record_webhook_event(job, _event()) == 1

    after = backend.replace_webhooks(
        job,
        [
            WebhookSpec("https://c.example/h", (ENDED,)),
            WebhookSpec("https://a.example/h", (FAILED, ENDED), WebhookFormat.SLACK),
        ],
    )

    assert [h.url for h in after] == ["https://c.example/h", "https://a.example/h"]
    kept = after[1]
    assert (kept.id, kept.format, kept.secret) == (first[0].id, WebhookFormat.SLACK, None)
    assert [d.event for d in kept.deliveries] == [FAILED]
    assert backend.webhooks(job) == after


def test_an_event_is_stored_once_per_webhook_and_key_for_those_that_want_it(backend, make_job):
    job = make_job()
    backend.replace_webhooks(
        job,
        [
            WebhookSpec("https://a.example/h", (FAILED,)),
            WebhookSpec("https://b.example/h", (ENDED,)),
        ],
    )

    assert backend.record_webhook_event(job, _event()) == 1
    assert backend.record_webhook_event(job, _event()) == 0
    assert backend.record_webhook_event(job, _event(key="run_failed:r2")) == 1
    assert backend.record_webhook_event(job, _event(ENDED, "job_ended")) == 1

    first, second = backend.webhooks(job)
    assert [d.status for d in first.deliveries] == [DeliveryStatus.PENDING] * 2
    assert [(d.event, d.attempts) for d in second.deliveries] == [(ENDED, 0)]


def test_a_claimed_delivery_is_nobody_elses_until_it_is_noted_or_its_claim_lapses(
    backend, make_job
):
    job = make_job()
    backend.replace_webhooks(job, [WebhookSpec("https://a.example/h", (FAILED,), secret="k" * 16)])
    backend.record_webhook_event(job, _event())
    now = datetime.now(UTC) + timedelta(seconds=1)

    [claimed] = backend.claim_deliveries(now, now + timedelta(seconds=30), limit=5)
    assert (claimed.url, claimed.secret, claimed.event) == ("https://a.example/h", "k" * 16, FAILED)
    assert claimed.payload == {"job": "gan", "run": "r1"}
    assert backend.claim_deliveries(now, now + timedelta(seconds=30), limit=5) == []

    # Its process died: once the claim lapses another takes it, and the first's note is void.
    later = now + timedelta(seconds=31)
    [again] = backend.claim_deliveries(later, later + timedelta(seconds=30), limit=5)
    assert again.id == claimed.id and again.claim != claimed.claim
    retry = DeliveryAttempt(DeliveryStatus.RETRYING, later, 500, "answered 500", later)
    assert backend.finish_delivery(claimed.id, claimed.claim, retry) is False
    assert backend.finish_delivery(again.id, again.claim, retry) is True

    [delivery] = backend.webhooks(job)[0].deliveries
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.RETRYING,
        1,
        500,
    )
    # Due again at its next attempt; once delivered, never again.
    [third] = backend.claim_deliveries(later, later + timedelta(seconds=30), limit=5)
    done = DeliveryAttempt(DeliveryStatus.DELIVERED, later, 204)
    assert backend.finish_delivery(third.id, third.claim, done) is True
    far = later + timedelta(days=1)
    assert backend.claim_deliveries(far, far + timedelta(seconds=30), limit=5) == []
    [delivery] = backend.webhooks(job)[0].deliveries
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryStatus.DELIVERED,
        2,
        None,
    )


def test_webhooks_and_deliveries_go_with_their_webhook_and_job(backend, make_job):
    job = make_job()
    [hook] = backend.replace_webhooks(job, [WebhookSpec("https://a.example/h", (FAILED,))])
    backend.record_webhook_event(job, _event())

    with pytest.raises(WebhookNotFound):
        backend.delete_webhook(job, "wh_none")
    backend.delete_webhook(job, hook.id)
    assert backend.webhooks(job) == []

    backend.replace_webhooks(job, [WebhookSpec("https://a.example/h", (FAILED,))])
    backend.record_webhook_event(job, _event())
    backend.delete_job(job)
    now = datetime.now(UTC) + timedelta(seconds=1)
    assert backend.claim_deliveries(now, now + timedelta(seconds=30), limit=5) == []


def test_deliveries_due_at_one_instant_are_claimed_in_the_order_they_were_stored(backend, make_job):
    job = make_job()
    urls = ["https://a.example/h", "https://b.example/h", "https://c.example/h"]
    backend.replace_webhooks(job, [WebhookSpec(url, (FAILED,)) for url in urls])
    backend.record_webhook_event(job, _event())
    now = datetime.now(UTC) + timedelta(seconds=1)
    claimed = backend.claim_deliveries(now, now + timedelta(seconds=30), limit=5)
    # Noted in the reverse order, each due again at one instant (PostgreSQL then holds
    # the rows in that order): the claim's order is the id's, not the table's.
    again = now + timedelta(seconds=5)
    retry = DeliveryAttempt(DeliveryStatus.RETRYING, now, 500, "answered 500", again)
    for delivery in sorted(claimed, key=lambda d: d.url, reverse=True):
        assert backend.finish_delivery(delivery.id, delivery.claim, retry) is True

    order = []
    for _ in urls:
        [one] = backend.claim_deliveries(again, again + timedelta(seconds=30), limit=1)
        order.append(one.url)

    assert order == urls
