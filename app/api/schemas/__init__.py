"""Request and response bodies of the HTTP API (v1), a module per resource as the routes
are (`common` holds the base of request bodies and the error body, `definitions` the
metric definitions and objective that jobs, dry runs, re-parses and presets share).

Families by suffix: `...Create` is what a client sends to make a thing, `...Public` what
the API returns. Requests accept SageMaker's spelling of keys too (`Name`, `Regex`,
`MetricName`, `Type`); responses use one spelling, snake_case. Routes name the bodies
through this package (`schemas.JobPublic`), which re-exports them all.
"""

from __future__ import annotations

from app.api.schemas.common import ErrorPublic, error_responses
from app.api.schemas.definitions import (
    MetricDefinitionIn,
    MetricDefinitionPublic,
    ObjectiveIn,
    ObjectivePublic,
    definitions_of,
)
from app.api.schemas.jobs import (
    BestRunBrief,
    CompletionPublic,
    JobCreate,
    JobPublic,
    JobsPublic,
    JobStatePublic,
    MedianCurvePublic,
    MedianPointPublic,
    ObjectiveStatusCounters,
    SearchProgress,
    TrainingJobStatusCounters,
)
from app.api.schemas.leases import LeaseAnswer, LeaseCreate, LeasePublic
from app.api.schemas.logs import ChunkAccepted
from app.api.schemas.metrics import JobSeriesPublic, RunSeriesPublic, SeriesPoint, SeriesPublic
from app.api.schemas.parse import (
    ParseCreate,
    ParsedDefinition,
    ParsedPoint,
    ParsedRejection,
    ParsePublic,
)
from app.api.schemas.presets import PresetPublic, PresetsPublic
from app.api.schemas.reparse import (
    DefinitionsHistoryPublic,
    DefinitionsVersionPublic,
    ReparseCreate,
    ReparsePublic,
)
from app.api.schemas.runs import (
    FinalMetric,
    HeartbeatCreate,
    HeartbeatPublic,
    MetricDiagnostics,
    RejectionPublic,
    RunComplete,
    RunCreate,
    RunCreated,
    RunDetailPublic,
    RunObjective,
    RunPublic,
    RunsPublic,
    StreamPublic,
)

__all__ = [
    "BestRunBrief",
    "ChunkAccepted",
    "CompletionPublic",
    "DefinitionsHistoryPublic",
    "DefinitionsVersionPublic",
    "ErrorPublic",
    "FinalMetric",
    "HeartbeatCreate",
    "HeartbeatPublic",
    "JobCreate",
    "JobPublic",
    "JobSeriesPublic",
    "JobStatePublic",
    "JobsPublic",
    "LeaseAnswer",
    "LeaseCreate",
    "LeasePublic",
    "MedianCurvePublic",
    "MedianPointPublic",
    "MetricDefinitionIn",
    "MetricDefinitionPublic",
    "MetricDiagnostics",
    "ObjectiveIn",
    "ObjectivePublic",
    "ObjectiveStatusCounters",
    "ParseCreate",
    "ParsePublic",
    "ParsedDefinition",
    "ParsedPoint",
    "ParsedRejection",
    "PresetPublic",
    "PresetsPublic",
    "RejectionPublic",
    "ReparseCreate",
    "ReparsePublic",
    "RunComplete",
    "RunCreate",
    "RunCreated",
    "RunDetailPublic",
    "RunObjective",
    "RunPublic",
    "RunSeriesPublic",
    "RunsPublic",
    "SearchProgress",
    "SeriesPoint",
    "SeriesPublic",
    "StreamPublic",
    "TrainingJobStatusCounters",
    "definitions_of",
    "error_responses",
]
