"""Dependencies shared by the routes, as `Annotated` aliases.

Those that only look something up are `async`: FastAPI runs a plain `def` dependency
on the thread pool, a hop that costs more than the lookup (a log chunk took seven).
What reads the database runs on the pool.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from app.auth import Action, Principal, TokenBook
from app.config import Settings
from app.ingest import Ingestor
from app.intake import Intake
from app.presets import Presets
from app.records import Job
from app.reparse import Reparser
from app.storage import Storage
from app.tuning.tuner import Tuner
from app.workpool import WorkPool

__all__ = [
    "CanIngest",
    "CanManage",
    "CanRead",
    "IngestPoolDep",
    "IngestorDep",
    "IntakeDep",
    "JobDep",
    "ParsePoolDep",
    "PresetsDep",
    "PrincipalDep",
    "SettingsDep",
    "StorageDep",
    "TokensDep",
    "TunerDep",
]


async def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


async def get_ingestor(request: Request) -> Ingestor:
    ingestor: Ingestor = request.app.state.ingestor
    return ingestor


async def get_intake(request: Request) -> Intake:
    intake: Intake = request.app.state.intake
    return intake


async def get_tuner(request: Request) -> Tuner:
    tuner: Tuner = request.app.state.tuner
    return tuner


async def get_reparser(request: Request) -> Reparser:
    reparser: Reparser = request.app.state.reparser
    return reparser


async def get_ingest_pool(request: Request) -> WorkPool:
    pool: WorkPool = request.app.state.ingest_pool
    return pool


async def get_parse_pool(request: Request) -> WorkPool:
    pool: WorkPool = request.app.state.parse_pool
    return pool


IngestPoolDep = Annotated[WorkPool, Depends(get_ingest_pool)]
ParsePoolDep = Annotated[WorkPool, Depends(get_parse_pool)]


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_presets(request: Request) -> Presets:
    presets: Presets = request.app.state.presets
    return presets


StorageDep = Annotated[Storage, Depends(get_storage)]
PresetsDep = Annotated[Presets, Depends(get_presets)]
IngestorDep = Annotated[Ingestor, Depends(get_ingestor)]
IntakeDep = Annotated[Intake, Depends(get_intake)]
TunerDep = Annotated[Tuner, Depends(get_tuner)]
ReparserDep = Annotated[Reparser, Depends(get_reparser)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_job(storage: StorageDep, job: str) -> Job:
    return storage.get_job(job)


JobDep = Annotated[Job, Depends(get_job)]


async def get_principal(request: Request, storage: StorageDep) -> Principal | None:
    """Who is calling; None when access control is off (everyone may do everything)."""
    tokens: TokenBook = request.app.state.tokens
    if not tokens.enabled:
        return None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    presented = token.strip() if scheme.lower() == "bearer" else None
    # A run token is checked against its run's stored hash: a read, off the event loop.
    return await run_in_threadpool(tokens.identify, presented, storage.run_token_hash)


PrincipalDep = Annotated[Principal | None, Depends(get_principal)]


async def get_tokens(request: Request) -> TokenBook:
    tokens: TokenBook = request.app.state.tokens
    return tokens


TokensDep = Annotated[TokenBook, Depends(get_tokens)]


async def require_read(principal: PrincipalDep) -> None:
    if principal is not None:
        principal.authorize(Action.READ)


async def require_manage(principal: PrincipalDep) -> None:
    if principal is not None:
        principal.authorize(Action.MANAGE)


async def require_ingest(
    principal: PrincipalDep,
    job: JobDep,
    run: str,
    storage: StorageDep,
) -> None:
    """Admin tokens, or the run's own token, may post a run's logs and complete it."""
    if principal is not None and principal.run_id is not None:
        principal.authorize(Action.INGEST, await run_in_threadpool(storage.run_id, job, run))
    elif principal is not None:
        principal.authorize(Action.INGEST)


CanRead = Depends(require_read)
CanManage = Depends(require_manage)
CanIngest = Depends(require_ingest)
