"""A job's webhooks: what a manager gives (`WebhooksUpdate`) and what a reader sees
(`WebhooksPublic`: the URL redacted for one who may not manage, the secret never)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.api.schemas.common import RequestBody
from app.storage.webhook_records import WebhookEventKind
from app.webhooks.addresses import MAX_URL_LENGTH

__all__ = [
    "DeliveryPublic",
    "WebhookCreate",
    "WebhookPublic",
    "WebhooksPublic",
    "WebhooksUpdate",
]

MAX_WEBHOOKS = 10


class WebhookCreate(RequestBody):
    url: str = Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description="Where to POST: http or https, no user or password in it. It may not "
        "reach the service's own machine (loopback) or a link-local address. A secret: "
        "only callers who may manage the job read it back.",
    )
    # The storage's enum: the event names are written once, there.
    events: list[WebhookEventKind] = Field(
        default_factory=lambda: list(WebhookEventKind),
        min_length=1,
        max_length=4,
        description="The events to send (default: all): job_ended, new_best_run, "
        "run_failed, run_stopped_early.",
    )
    format: Literal["json", "slack"] = Field(
        "json",
        description="`json`: the documented JSON body; `slack`: Slack's incoming-webhook "
        "body (`text` and a section block).",
    )
    secret: str | None = Field(
        None,
        min_length=16,
        max_length=256,
        description="Signs each body: X-Logmetrics-Signature-256 is `sha256=` and the hex "
        "HMAC-SHA256 of the body under it. Never returned.",
    )


class WebhooksUpdate(RequestBody):
    webhooks: list[WebhookCreate] = Field(
        max_length=MAX_WEBHOOKS,
        description=f"The job's webhooks, replacing those it had (at most {MAX_WEBHOOKS}); "
        "one with a URL the job had keeps its id and deliveries.",
    )


class DeliveryPublic(BaseModel):
    id: str = Field(description="The delivery's id, sent as X-Logmetrics-Delivery.")
    event: WebhookEventKind = Field(description="The event it tells of.")
    status: Literal["pending", "delivered", "failed", "retrying"] = Field(
        description="`pending` (not tried yet), `retrying` (failed, tried again at "
        "next_attempt_at), `delivered` (a 2xx answer) or `failed` (every attempt failed)."
    )
    attempts: int = Field(description="Attempts made so far.")
    last_status_code: int | None = Field(description="The receiver's last answer's status.")
    last_error: str | None = Field(description="Why the last attempt failed, in words.")
    created_at: datetime = Field(description="When the event was recorded.")
    last_attempt_at: datetime | None = Field(description="When it was last tried.")
    next_attempt_at: datetime | None = Field(description="When it is tried next, if it is.")


class WebhookPublic(BaseModel):
    id: str = Field(description="The webhook's id (DELETE /v1/jobs/{job}/webhooks/{id}).")
    url: str = Field(
        description="The URL; `scheme://host/…` for a caller who may not manage the job."
    )
    events: list[WebhookEventKind] = Field(description="The events it is sent.")
    format: Literal["json", "slack"] = Field(description="The body's form: json or slack.")
    signed: bool = Field(description="Whether a secret signs its bodies.")
    deliveries: list[DeliveryPublic] = Field(description="The latest 20, newest first.")


class WebhooksPublic(BaseModel):
    webhooks: list[WebhookPublic] = Field(description="The job's webhooks, in the order given.")
