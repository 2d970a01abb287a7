"""A job's webhooks: the URLs it calls on its events, and their last deliveries."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from app.api.deps import CanManage, CanRead, JobDep, PrincipalDep, SettingsDep, StorageDep
from app.api.schemas import error_responses
from app.api.schemas import webhooks as schemas
from app.auth import Action
from app.errors import Forbidden, InvalidWebhook
from app.storage.webhook_records import Webhook, WebhookEventKind, WebhookFormat, WebhookSpec
from app.webhooks.addresses import check_url, redact

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
    specs = []
    for given in body.webhooks:
        # Resolves the host: a blocking call, off the event loop.
        await run_in_threadpool(check_url, given.url, settings.webhook_allow_loopback)
        specs.append(
            WebhookSpec(
                url=given.url,
                events=tuple(dict.fromkeys(WebhookEventKind(e) for e in given.events)),
                format=WebhookFormat(given.format),
                secret=given.secret,
            )
        )
    urls = [spec.url for spec in specs]
    if len(set(urls)) != len(urls):
        raise InvalidWebhook("each of a job's webhooks needs its own URL")
    return _public(await run_in_threadpool(storage.replace_webhooks, job, specs), True)


@router.delete(
    "/{webhook}", status_code=204, dependencies=[CanManage], responses=error_responses(404)
)
def delete_webhook(job: JobDep, webhook: str, storage: StorageDep) -> None:
    """Delete one of the job's webhooks, with its deliveries."""
    storage.delete_webhook(job, webhook)


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
