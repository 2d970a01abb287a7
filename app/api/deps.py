"""Dependencies shared by the routes, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from app.config import Settings
from app.ingest import Ingestor
from app.presets import Presets
from app.records import Job
from app.storage import Storage

__all__ = ["IngestorDep", "JobDep", "PresetsDep", "SettingsDep", "StorageDep"]


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


def get_job(storage: StorageDep, job: Annotated[str, Path(max_length=63)]) -> Job:
    return storage.get_job(job)


JobDep = Annotated[Job, Depends(get_job)]
