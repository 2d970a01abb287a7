"""Re-parses: a job's new metric definitions (and objective), how far re-parsing its runs
has come, and every version of its definitions (`routes/reparse.py`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.api.schemas.common import SageMakerBody
from app.api.schemas.definitions import (
    Definitions,
    MetricDefinitionPublic,
    ObjectiveCreate,
    ObjectivePublic,
)

__all__ = [
    "DefinitionsHistoryPublic",
    "DefinitionsVersionPublic",
    "ReparseCreate",
    "ReparsePublic",
]


class ReparseCreate(SageMakerBody):
    metric_definitions: Definitions = Field(
        description="The job's new named regexes (all of them), or the name of a preset.",
    )
    objective: ObjectiveCreate | None = Field(
        None,
        description="A new objective; by default the job keeps its own, which must then be "
        "among the new definitions.",
    )


class ReparsePublic(BaseModel):
    job: str = Field(description="The job's name.")
    definitions_version: int = Field(
        description="The version of the job's definitions: 1 at creation, one more each re-parse."
    )
    runs: int = Field(description="The job's runs.")
    runs_reparsed: int = Field(
        description="Runs whose points now come from the current definitions."
    )
    done: bool = Field(description="Whether every run's points come from the current definitions.")


class DefinitionsVersionPublic(BaseModel):
    version: int = Field(description="The version: 1 at creation, one more each re-parse.")
    objective: ObjectivePublic = Field(description="The objective of this version.")
    metric_definitions: list[MetricDefinitionPublic] = Field(
        description="The metric definitions of this version, in order."
    )
    replaced_at: datetime | None = Field(
        description="When a re-parse replaced this version; null for the current one."
    )


class DefinitionsHistoryPublic(BaseModel):
    versions: list[DefinitionsVersionPublic] = Field(
        description="Every version of the job's definitions, oldest first, the current one last."
    )
