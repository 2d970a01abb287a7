from __future__ import annotations

from fastapi import APIRouter

from app.api import schemas
from app.api.deps import CanRead, PresetsDep
from app.presets import Preset

router = APIRouter(prefix="/v1/presets", tags=["presets"], dependencies=[CanRead])


@router.get("")
def read_presets(presets: PresetsDep) -> schemas.PresetsPublic:
    """Metric-definition presets for common trainers, usable by name in a job."""
    return schemas.PresetsPublic(presets=[_public(p) for p in presets.all()])


@router.get("/{preset}", responses=schemas.error_responses(404))
def read_preset(preset: str, presets: PresetsDep) -> schemas.PresetPublic:
    """One preset's metric definitions."""
    return _public(presets.get(preset))


def _public(preset: Preset) -> schemas.PresetPublic:
    return schemas.PresetPublic(
        name=preset.name,
        metric_definitions=[
            schemas.MetricDefinitionPublic(name=d.name, regex=d.regex) for d in preset.definitions
        ],
    )
