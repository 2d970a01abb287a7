"""Dependencies shared by the routes, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.auth import Action, Principal, TokenBook
from app.config import Settings
from app.ingest import Ingestor
from app.presets import Presets
from app.records import Job
from app.storage import Storage

__all__ = [
    "CanIngest",
    "CanManage",
    "CanRead",
    "IngestorDep",
    "JobDep",
    "PresetsDep",
    "PrincipalDep",
    "SettingsDep",
    "StorageDep",
    "TokensDep",
]


def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


def get_ingestor(request: Request) -> Ingestor:
    ingestor: Ingestor = request.app.state.ingestor
    return ingestor


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_presets(request: Request) -> Presets:
    presets: Presets = request.app.state.presets
    return presets


StorageDep = Annotated[Storage, Depends(get_storage)]
PresetsDep = Annotated[Presets, Depends(get_presets)]
IngestorDep = Annotated[Ingestor, Depends(get_ingestor)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_job(storage: StorageDep, job: str) -> Job:
    return storage.get_job(job)


JobDep = Annotated[Job, Depends(get_job)]


def get_principal(request: Request, storage: StorageDep) -> Principal | None:
    """Who is calling; None when access control is off (everyone may do everything)."""
    tokens: TokenBook = request.app.state.tokens
    if not tokens.enabled:
        return None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    presented = token.strip() if scheme.lower() == "bearer" else None
    return tokens.identify(presented, storage.run_token_hash)


PrincipalDep = Annotated[Principal | None, Depends(get_principal)]


def get_tokens(request: Request) -> TokenBook:
    tokens: TokenBook = request.app.state.tokens
    return tokens


TokensDep = Annotated[TokenBook, Depends(get_tokens)]


def require_read(principal: PrincipalDep) -> None:
    if principal is not None:
        principal.authorize(Action.READ)


def require_manage(principal: PrincipalDep) -> None:
    if principal is not None:
        principal.authorize(Action.MANAGE)


def require_ingest(
    principal: PrincipalDep,
    job: JobDep,
    run: str,
    storage: StorageDep,
) -> None:
    """Admin tokens, or the run's own token, may post a run's logs and complete it."""
    if principal is not None and principal.run_id is not None:
        principal.authorize(Action.INGEST, storage.run_id(job, run))
    elif principal is not None:
        principal.authorize(Action.INGEST)


CanRead = Depends(require_read)
CanManage = Depends(require_manage)
CanIngest = Depends(require_ingest)
