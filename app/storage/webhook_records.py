"""The records of webhooks the storage takes and gives: a job's webhook, an event to
deliver, a delivery and how its attempt went."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "DeliveryAttempt",
    "DeliveryStatus",
    "DueDelivery",
    "Webhook",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookEventKind",
    "WebhookFormat",
    "WebhookSpec",
]


class WebhookEventKind(enum.StrEnum):
    JOB_ENDED = "job_ended"
    NEW_BEST_RUN = "new_best_run"
    RUN_FAILED = "run_failed"
    RUN_STOPPED_EARLY = "run_stopped_early"


class WebhookFormat(enum.StrEnum):
    JSON = "json"
    SLACK = "slack"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # not tried yet
    RETRYING = "retrying"  # tried, failed, due again at next_attempt_at
    DELIVERED = "delivered"  # a 2xx answer
    FAILED = "failed"  # every attempt failed


@dataclass(frozen=True)
class WebhookSpec:
    """A webhook as a manager gives it (the URL already checked)."""

    url: str
    events: tuple[WebhookEventKind, ...]
    format: WebhookFormat = WebhookFormat.JSON
    secret: str | None = None


@dataclass(frozen=True)
class WebhookDelivery:
    """One event sent (or to be sent) to one webhook."""

    id: str
    event: WebhookEventKind
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class Webhook:
    """A job's webhook with its latest deliveries, newest first. `secret` is for
    signing only: no read of the API returns it."""

    id: str
    url: str
    events: tuple[WebhookEventKind, ...]
    format: WebhookFormat
    secret: str | None
    created_at: datetime
    deliveries: tuple[WebhookDelivery, ...] = ()


@dataclass(frozen=True)
class WebhookEvent:
    """Something that happened in a job, recorded once per webhook under `key` (e.g.
    `run_failed:<run>`): two processes that record it store one delivery."""

    kind: WebhookEventKind
    key: str
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DueDelivery:
    """A delivery this process claimed (under `claim`, which noting its attempt must
    name), with what sending needs."""

    id: str
    claim: str
    event: WebhookEventKind
    attempts: int
    payload: Mapping[str, Any]
    created_at: datetime
    webhook_id: str
    url: str
    format: WebhookFormat
    secret: str | None


@dataclass(frozen=True)
class DeliveryAttempt:
    """How one attempt went, and what follows: `status` DELIVERED, RETRYING (then
    `next_attempt_at`) or FAILED."""

    status: DeliveryStatus
    at: datetime
    status_code: int | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None
