"""Presets: named sets of metric definitions a job can name (`routes/presets.py`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.api.schemas.definitions import MetricDefinitionPublic

__all__ = ["PresetPublic", "PresetsPublic"]


class PresetPublic(BaseModel):
    name: str = Field(description="The preset's name, usable as a job's `metric_definitions`.")
    metric_definitions: list[MetricDefinitionPublic] = Field(description="Its named regexes.")


class PresetsPublic(BaseModel):
    presets: list[PresetPublic] = Field(description="Every preset, by name.")
