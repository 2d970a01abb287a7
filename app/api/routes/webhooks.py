"""A job's webhooks: the URLs it calls on its events, and their last deliveries."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from app.api.deps import CanManage, CanRead, JobDep, PrincipalDep, SettingsDep, StorageDep
from app.api.schemas import error_responses
from app.api.schemas import webhooks as schemas
from app.auth import Action
from app.errors import Forbidden, InvalidWebhook
from app.storage.webhook_records import Webhook, WebhookEventKind, WebhookFormat, WebhookSpec
from app.webhooks.addresses import canonical_url, check_url, redact

router = APIRouter(prefix="/v1/jobs/{job}/webhooks", tags=["webhooks"])


@router.get("", dependencies=[CanRead], responses=error_responses(404))
def read_webhooks(
    job: JobDep, storage: StorageDep, principal: PrincipalDep
) -> schemas.WebhooksPublic:
    """The job's webhooks with their latest deliveries (URLs redacted for readers)."""
    may_manage = True
    if principal is not None:
        try:
            principal.authorize(Action.MANAGE)
        except Forbidden:
            may_manage = False
    return _public(storage.webhooks(job), may_manage)


@router.put("", dependencies=[CanManage], responses=error_responses(404, 422))
async def replace_webhooks(
    body: schemas.WebhooksUpdate, job: JobDep, storage: StorageDep, settings: SettingsDep
) -> schemas.WebhooksPublic:
    """Replace the job's webhooks."""
    # Resolves each host: blocking calls, off the event loop.
    specs = await run_in_threadpool(webhook_specs, body.webhooks, settings.webhook_allow_loopback)
    return _public(await run_in_threadpool(storage.replace_webhooks, job, specs), True)


@router.delete(
    "/{webhook}", status_code=204, dependencies=[CanManage], responses=error_responses(404)
)
def delete_webhook(job: JobDep, webhook: str, storage: StorageDep) -> None:
    """Delete one of the job's webhooks, with its deliveries."""
    storage.delete_webhook(job, webhook)


def webhook_specs(
    given: Sequence[schemas.WebhookCreate], allow_loopback: bool
) -> list[WebhookSpec]:
    """The webhooks a client gave, each URL checked (`check_url`: it resolves the host)
    and its scheme and host put in lower case, so that one URL is one webhook however
    its host is written.

    Raises: InvalidWebhook for a URL refused, or one given twice.
    """
    specs = []
    for hook in given:
        check_url(hook.url, allow_loopback)
        specs.append(
            WebhookSpec(
                url=canonical_url(hook.url),
                events=tuple(dict.fromkeys(WebhookEventKind(e) for e in hook.events)),
                format=WebhookFormat(hook.format),
                secret=hook.secret,
            )
        )
    urls = [spec.url for spec in specs]
    if len(set(urls)) != len(urls):
        raise InvalidWebhook("each of a job's webhooks needs its own URL")
    return specs


def _public(webhooks: list[Webhook], may_manage: bool) -> schemas.WebhooksPublic:
    return schemas.WebhooksPublic(
        webhooks=[
            schemas.WebhookPublic(
                id=hook.id,
                url=hook.url if may_manage else redact(hook.url),
                events=[kind.value for kind in hook.events],
                format=hook.format.value,
                signed=hook.secret is not None,
                deliveries=[
                    schemas.DeliveryPublic(
                        id=d.id,
                        event=d.event.value,
                        status=d.status.value,
                        attempts=d.attempts,
                        last_status_code=d.last_status_code,
                        last_error=d.last_error,
                        created_at=d.created_at,
                        last_attempt_at=d.last_attempt_at,
                        next_attempt_at=d.next_attempt_at,
                    )
                    for d in hook.deliveries
                ],
            )
            for hook in webhooks
        ]
    )
