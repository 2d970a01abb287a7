"""Sending one delivery: its body (JSON, or Slack's incoming-webhook form), signed with
the webhook's secret, POSTed to the address its host resolves to now, once checked.

A receiver identifies a delivery by `X-Logmetrics-Delivery` (the same on every attempt:
dedupe on it) and verifies `X-Logmetrics-Signature-256`, `sha256=` and the hex
HMAC-SHA256 of the body under the secret, as GitHub's webhooks do.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

import app
from app.config import Settings
from app.errors import InvalidWebhook
from app.storage.webhook_records import (
    DeliveryAttempt,
    DeliveryStatus,
    DueDelivery,
    WebhookEventKind,
    WebhookFormat,
)
from app.webhooks.addresses import check_address, parse_url, resolve
from app.webhooks.cutoff import Cutoff

__all__ = [
    "DeliveryPolicy",
    "attempt",
    "backoff",
    "claim_seconds",
    "json_body",
    "sign",
    "slack_body",
]

USER_AGENT = f"logmetrics-webhooks/{app.__version__}"
_MAX_BACKOFF = 3600.0
_ERROR_CHARS = 300
# What an attempt may spend beyond its deadline: resolving the host (the system's
# resolver, which nothing here can cut short) and noting the outcome.
_CLAIM_MARGIN = 30.0


_SETTINGS = Settings.model_fields


@dataclass(frozen=True)
class DeliveryPolicy:
    """How deliveries are sent and retried (the `webhook_*` settings, whose defaults
    are its own)."""

    timeout: float = _SETTINGS["webhook_timeout_seconds"].default
    max_attempts: int = _SETTINGS["webhook_max_attempts"].default
    backoff: float = _SETTINGS["webhook_backoff_seconds"].default
    allow_loopback: bool = False
    public_url: str | None = None


def json_body(delivery: DueDelivery, public_url: str | None) -> dict[str, Any]:
    """The JSON body: the delivery's id and event, then the event's own fields."""
    payload = dict(delivery.payload)
    return {
        "delivery": delivery.id,
        "event": delivery.event.value,
        "created_at": _iso(delivery.created_at),
        **payload,
        "url": _link(public_url, payload),
    }


def slack_body(delivery: DueDelivery, public_url: str | None) -> dict[str, Any]:
    """Slack's incoming-webhook body: a line of text, and the same as a section block."""
    text = _sentence(delivery.event, delivery.payload, _link(public_url, delivery.payload))
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


def sign(secret: str, body: bytes) -> str:
    """The `X-Logmetrics-Signature-256` header's value for `body`."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def backoff(attempts: int, base: float) -> float:
    """Seconds before the attempt after `attempts` failed ones: doubling from `base`
    (at most an hour), less up to half at random, so that retries to a receiver that
    came back do not all arrive at once."""
    full = min(_MAX_BACKOFF, base * 2.0 ** max(0, attempts - 1))
    return float(full * random.uniform(0.5, 1.0))


def claim_seconds(policy: DeliveryPolicy) -> float:
    """How long a claimed delivery is held: longer than any attempt can take, so that
    no other sender takes it meanwhile (an attempt is cut at `policy.timeout`)."""
    return policy.timeout + _CLAIM_MARGIN


def attempt(
    client: httpx.Client,
    delivery: DueDelivery,
    policy: DeliveryPolicy,
    cutoff: Cutoff | None = None,
) -> DeliveryAttempt:
    """Try one delivery once, for at most `policy.timeout` seconds from now (less if
    `cutoff` is cut sooner); the outcome to note (never raises for the receiver).

    Args:
        client: a client that keeps no connection alive (see `Cutoff`).
        delivery: the delivery claimed.
        policy: the time-out, attempts and back-off.
        cutoff: a `Cutoff(policy.timeout)` the caller may cut (when stopping); one of
            its own when None.

    Returns:
        The outcome: delivered, retrying at a time, or failed for good.
    """
    cutoff = cutoff or Cutoff(policy.timeout)
    status_code: int | None = None
    try:
        with cutoff:
            status_code = _post(client, delivery, policy, cutoff)
        error = None if 200 <= status_code < 300 else f"the receiver answered {status_code}"
    except InvalidWebhook as exc:
        error = exc.message
    except httpx.TimeoutException:
        error = cutoff.reason or f"no answer within {policy.timeout:g} s"
    except httpx.HTTPError as exc:
        error = cutoff.reason or f"could not reach the receiver: {_cause(exc)}"
    except OSError as exc:  # the name did not resolve
        error = f"could not resolve the host: {exc.strerror or type(exc).__name__}"
    except (UnicodeError, ValueError, httpx.InvalidURL):  # a host no resolver takes
        error = "the URL's host cannot be resolved or called"
    now = datetime.now(UTC)
    if error is None:
        return DeliveryAttempt(DeliveryStatus.DELIVERED, now, status_code)
    tried = delivery.attempts + 1
    if tried >= policy.max_attempts:
        return DeliveryAttempt(DeliveryStatus.FAILED, now, status_code, error[:_ERROR_CHARS])
    due = now + timedelta(seconds=backoff(tried, policy.backoff))
    return DeliveryAttempt(DeliveryStatus.RETRYING, now, status_code, error[:_ERROR_CHARS], due)


def _post(
    client: httpx.Client, delivery: DueDelivery, policy: DeliveryPolicy, cutoff: Cutoff
) -> int:
    started = time.monotonic()
    target = parse_url(delivery.url)
    addresses = resolve(target)
    left = policy.timeout - (time.monotonic() - started)
    if left <= 0 or cutoff.reason:
        raise httpx.ConnectTimeout("resolving took the attempt's time")
    for address in addresses:
        check_address(address, policy.allow_loopback)
    address = addresses[0]
    body_of = slack_body if delivery.format is WebhookFormat.SLACK else json_body
    body = json.dumps(body_of(delivery, policy.public_url), separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Logmetrics-Event": delivery.event.value,
        "X-Logmetrics-Delivery": delivery.id,
        "X-Logmetrics-Webhook": delivery.webhook_id,
    }
    if delivery.secret:
        headers["X-Logmetrics-Signature-256"] = sign(delivery.secret, body)
    # Connect to the address just checked, not to the name (which could resolve
    # elsewhere by now); the Host header and TLS's server name stay the URL's host.
    url = httpx.URL(delivery.url)
    headers["Host"] = url.netloc.decode("ascii")
    pinned = url.copy_with(host=str(address))
    # Only the status line and headers are read: closing the response unread drops the
    # connection, so a receiver's body, however large, is never held in memory. Reads
    # time out at the policy's time-out, and the whole attempt is cut there (`cutoff`).
    with client.stream(
        "POST",
        pinned,
        content=body,
        headers=headers,
        timeout=httpx.Timeout(policy.timeout, connect=left),
        extensions={"sni_hostname": target.host, "trace": cutoff.trace},
    ) as response:
        return response.status_code


def _sentence(event: WebhookEventKind, payload: Mapping[str, Any], link: str | None) -> str:
    job = _slack_escape(str(payload.get("job")))
    run = _slack_escape(str(payload.get("run")))
    metric = _slack_escape(str(payload.get("objective_metric")))
    reason = payload.get("reason")
    best = payload.get("best_run")
    best_value = payload.get("best_objective_value")
    if event is WebhookEventKind.JOB_ENDED:
        text = f"Job {job} ended {payload.get('job_status')}"
        if best is not None:
            text += f"; best run {_slack_escape(str(best))} ({metric} {best_value:g})"
    elif event is WebhookEventKind.NEW_BEST_RUN:
        text = f"New best run in job {job}: {run} ({metric} {payload.get('objective_value'):g})"
    elif event is WebhookEventKind.RUN_FAILED:
        text = f"Run {run} of job {job} failed"
    else:
        text = f"Run {run} of job {job} was stopped early"
    if reason:
        text += f": {_slack_escape(str(reason))}"
    if link:
        text += f" <{link}|open>"
    return text


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn reads <, > and & as markup: escaped, a name cannot make a link.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(public_url: str | None, payload: Mapping[str, Any]) -> str | None:
    if not public_url:
        return None
    link = f"{public_url.rstrip('/')}/jobs/{quote(str(payload.get('job')), safe='')}"
    if payload.get("run") is not None:
        link += f"/runs/{quote(str(payload['run']), safe='')}"
    return link


def _cause(exc: httpx.HTTPError) -> str:
    # The exception's text may hold the URL, a secret: name the failure's kind only.
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or failed"
    return type(exc).__name__


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")
