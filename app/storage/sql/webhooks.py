"""Webhooks and the outbox of their deliveries.

A job's webhooks are rows of `webhooks`; each event recorded for them is a row of
`webhook_deliveries`, unique per webhook and event key, so that an event recorded twice
(two processes, two reapers) is one delivery. A dispatcher claims due deliveries with an
expiring claim: an UPDATE that only succeeds on a row nobody holds, the same on SQLite
and PostgreSQL (where the rows are chosen FOR UPDATE SKIP LOCKED, so that two processes
claiming at once take different rows), so two processes never send one delivery at once,
and a claim left by a process that died lapses and the delivery is tried again.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.errors import WebhookNotFound
from app.records import Job
from app.storage.schema import webhook_deliveries, webhooks
from app.storage.sql.rows import to_datetime
from app.storage.sql.runs import lock_job
from app.storage.webhook_records import (
    DeliveryAttempt,
    DeliveryStatus,
    DueDelivery,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookEventKind,
    WebhookFormat,
    WebhookSpec,
)

__all__ = [
    "DELIVERIES_SHOWN",
    "any_due",
    "claim_deliveries",
    "delete_webhook",
    "finish_delivery",
    "job_webhooks",
    "record_event",
    "replace_webhooks",
]

DELIVERIES_SHOWN = 20
_OPEN = (DeliveryStatus.PENDING.value, DeliveryStatus.RETRYING.value)


def job_webhooks(conn: Connection, job: Job) -> list[Webhook]:
    """The job's webhooks in the order given, each with its latest deliveries."""
    rows = conn.execute(
        select(webhooks).where(webhooks.c.job_id == job.id).order_by(webhooks.c.position)
    ).all()
    return [_webhook_of(row, _deliveries(conn, int(row.id))) for row in rows]


def replace_webhooks(
    conn: Connection, job: Job, specs: Sequence[WebhookSpec], created: float
) -> None:
    """Make `specs` the job's webhooks. One whose URL the job held already keeps its id
    and deliveries (its events, format and secret replaced); the others go, with theirs.

    Raises: JobNotFound.
    """
    lock_job(conn, job)
    held = {
        row.url: int(row.id)
        for row in conn.execute(
            select(webhooks.c.id, webhooks.c.url).where(webhooks.c.job_id == job.id)
        )
    }
    kept: set[int] = set()
    for position, spec in enumerate(specs):
        values = {
            "events": [kind.value for kind in spec.events],
            "format": spec.format.value,
            "secret": spec.secret,
            "position": position,
        }
        if spec.url in held:
            conn.execute(update(webhooks).where(webhooks.c.id == held[spec.url]).values(values))
            kept.add(held[spec.url])
        else:
            conn.execute(
                insert(webhooks).values(
                    public_id=f"wh_{secrets.token_hex(8)}",
                    job_id=job.id,
                    url=spec.url,
                    created_at=created,
                    **values,
                )
            )
    gone = set(held.values()) - kept
    if gone:
        conn.execute(delete(webhooks).where(webhooks.c.id.in_(sorted(gone))))


def delete_webhook(conn: Connection, job: Job, webhook: str) -> None:
    """Raises: WebhookNotFound; JobNotFound."""
    lock_job(conn, job)
    deleted = conn.execute(
        delete(webhooks).where(webhooks.c.job_id == job.id, webhooks.c.public_id == webhook)
    )
    if deleted.rowcount != 1:
        raise WebhookNotFound(job.name, webhook)


def record_event(conn: Connection, job: Job, event: WebhookEvent, created: float) -> int:
    """A delivery of `event` for each of the job's webhooks that wants it, unless one
    of its key is stored already; how many were stored now.

    Raises: JobNotFound.
    """
    lock_job(conn, job, share=True)
    wanting = [
        int(row.id)
        for row in conn.execute(
            select(webhooks.c.id, webhooks.c.events).where(webhooks.c.job_id == job.id)
        )
        if event.kind.value in row.events
    ]
    stored = 0
    for webhook_id in wanting:
        values = {
            "public_id": secrets.token_hex(16),
            "webhook_id": webhook_id,
            "event": event.kind.value,
            "event_key": event.key,
            "payload": dict(event.payload),
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "created_at": created,
            "next_attempt_at": created,
        }
        stored += _insert_new(conn, values)
    return stored


def _due(now: float) -> Any:
    return (
        webhook_deliveries.c.next_attempt_at <= now,
        webhook_deliveries.c.status.in_(_OPEN),
        or_(
            webhook_deliveries.c.claimed_until.is_(None),
            webhook_deliveries.c.claimed_until < now,
        ),
    )


def any_due(conn: Connection, now: float) -> bool:
    """Whether a delivery is due at `now` that nobody holds."""
    return (
        conn.execute(select(webhook_deliveries.c.id).where(*_due(now)).limit(1)).first() is not None
    )


def claim_deliveries(conn: Connection, now: float, until: float, limit: int) -> list[DueDelivery]:
    """Claim up to `limit` deliveries due at `now` that nobody holds, until `until`:
    the longest due first, those due at one instant in the order they were stored."""
    chosen = (
        select(webhook_deliveries.c.id)
        .where(*_due(now))
        .order_by(webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        # Rows another process is claiming now are passed over, not waited for (its
        # UPDATE would leave this one none of them): this one claims the next ones.
        # SQLite has one writer at a time, so nothing to pass over.
        chosen = chosen.with_for_update(skip_locked=True)
    due = conn.execute(chosen).all()
    claimed = []
    for (delivery_id,) in due:
        claim = secrets.token_hex(8)
        # Checked again in the UPDATE: another process may have claimed it since.
        taken = conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery_id, *_due(now))
            .values(claim=claim, claimed_until=until)
        )
        if taken.rowcount == 1:
            claimed.append((int(delivery_id), claim))
    return [_due_of(conn, delivery_id, claim) for delivery_id, claim in claimed]


def finish_delivery(conn: Connection, delivery: str, claim: str, attempt: DeliveryAttempt) -> bool:
    """Note an attempt of a delivery this process claimed; False if its claim lapsed
    and another took it (this attempt is then not counted)."""
    done = attempt.status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)
    result = conn.execute(
        update(webhook_deliveries)
        .where(webhook_deliveries.c.public_id == delivery, webhook_deliveries.c.claim == claim)
        .values(
            status=attempt.status.value,
            attempts=webhook_deliveries.c.attempts + 1,
            last_status_code=attempt.status_code,
            last_error=attempt.error,
            last_attempt_at=attempt.at.timestamp(),
            next_attempt_at=(
                None
                if done or attempt.next_attempt_at is None
                else attempt.next_attempt_at.timestamp()
            ),
            claim=None,
            claimed_until=None,
        )
    )
    return bool(result.rowcount == 1)


def _insert_new(conn: Connection, values: dict[str, Any]) -> int:
    """Insert unless the (webhook, key) is stored; 1 if inserted. ON CONFLICT DO
    NOTHING, not "check, then insert": another process may insert between the two."""
    name = conn.dialect.name
    if name == "postgresql":
        statement: Any = postgresql.insert(webhook_deliveries).on_conflict_do_nothing(
            index_elements=["webhook_id", "event_key"]
        )
    elif name == "sqlite":
        statement = sqlite.insert(webhook_deliveries).on_conflict_do_nothing(
            index_elements=["webhook_id", "event_key"]
        )
    else:
        held = conn.execute(
            select(webhook_deliveries.c.id).where(
                webhook_deliveries.c.webhook_id == values["webhook_id"],
                webhook_deliveries.c.event_key == values["event_key"],
            )
        ).first()
        if held is not None:
            return 0
        statement = insert(webhook_deliveries)
    # RETURNING, not rowcount: on PostgreSQL rowcount read 0 for rows inserted.
    inserted = conn.execute(statement.values(values).returning(webhook_deliveries.c.id))
    return 1 if inserted.first() is not None else 0


def _deliveries(conn: Connection, webhook_id: int) -> tuple[WebhookDelivery, ...]:
    rows = conn.execute(
        select(webhook_deliveries)
        .where(webhook_deliveries.c.webhook_id == webhook_id)
        .order_by(webhook_deliveries.c.created_at.desc(), webhook_deliveries.c.id.desc())
        .limit(DELIVERIES_SHOWN)
    )
    return tuple(_delivery_of(row) for row in rows)


def _delivery_of(row: Row[Any]) -> WebhookDelivery:
    return WebhookDelivery(
        id=row.public_id,
        event=WebhookEventKind(row.event),
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        created_at=to_datetime(row.created_at),
        last_attempt_at=_time(row.last_attempt_at),
        next_attempt_at=_time(row.next_attempt_at),
    )


def _webhook_of(row: Row[Any], deliveries: tuple[WebhookDelivery, ...]) -> Webhook:
    return Webhook(
        id=row.public_id,
        url=row.url,
        events=tuple(WebhookEventKind(name) for name in row.events),
        format=WebhookFormat(row.format),
        secret=row.secret,
        created_at=to_datetime(row.created_at),
        deliveries=deliveries,
    )


def _due_of(conn: Connection, delivery_id: int, claim: str) -> DueDelivery:
    row = conn.execute(
        select(
            webhook_deliveries,
            webhooks.c.public_id.label("webhook_public_id"),
            webhooks.c.url,
            webhooks.c.format,
            webhooks.c.secret,
        )
        .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
        .where(webhook_deliveries.c.id == delivery_id)
    ).one()
    return DueDelivery(
        id=row.public_id,
        claim=claim,
        event=WebhookEventKind(row.event),
        attempts=row.attempts,
        payload=row.payload,
        created_at=to_datetime(row.created_at),
        webhook_id=row.webhook_public_id,
        url=row.url,
        format=WebhookFormat(row.format),
        secret=row.secret,
    )


def _time(seconds: float | None) -> Any:
    return None if seconds is None else to_datetime(seconds)
