"""Request and response bodies of the HTTP API (v1), a module per resource as the routes
are (`common` holds the base of request bodies and the error body, `definitions` the
metric definitions and objective that jobs, dry runs, re-parses and presets share).

One family of names, by suffix: `...Create` is a body a client sends to make a thing (a
job, a run, a lease, a heartbeat, a dry run, a re-parse), or a part of one
(`ObjectiveCreate`); `...Update` one that changes a thing (`RunUpdate` ends a run);
`...Public` what the API returns, and `...sPublic` a list of them (`JobsPublic`; AMT's
`...CountersPublic` and `MetricDiagnosticsPublic` are one thing each, plural in name).
Requests accept SageMaker's spelling of keys too (`Name`, `Regex`, `MetricName`, `Type`)
where the table in `tests/api/test_request_spellings.py` says; responses use one
spelling, snake_case. Routes name the bodies through this package (`schemas.JobPublic`),
which re-exports them all.
"""

from __future__ import annotations

from app.api.schemas.analysis import (
    DimensionPublic,
    HistoryPublic,
    HistoryRunPublic,
    ImportancePublic,
    ImportanceRowPublic,
    ParallelCoordinatesPublic,
    ParallelRunPublic,
)
from app.api.schemas.common import ErrorPublic, error_responses
from app.api.schemas.definitions import (
    MetricDefinitionCreate,
    MetricDefinitionPublic,
    ObjectiveCreate,
    ObjectivePublic,
    definitions_of,
)
from app.api.schemas.early_stopping import EarlyStoppingPublic, EarlyStoppingStepPublic
from app.api.schemas.jobs import (
    BestRunPublic,
    CompletionPublic,
    JobCreate,
    JobPublic,
    JobsPublic,
    JobStatePublic,
    MedianCurvePublic,
    MedianPointPublic,
    ObjectiveStatusCountersPublic,
    SearchProgressPublic,
    TrainingJobStatusCountersPublic,
)
from app.api.schemas.leases import GpuOfferCreate, LeaseAnswerPublic, LeaseCreate, LeasePublic
from app.api.schemas.logs import ChunkPublic
from app.api.schemas.metrics import (
    JobSeriesPublic,
    RunSeriesPublic,
    SeriesPointPublic,
    SeriesPublic,
)
from app.api.schemas.parse import (
    ParseCreate,
    ParsedDefinitionPublic,
    ParsedPointPublic,
    ParsedRejectionPublic,
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
    FinalMetricPublic,
    HeartbeatCreate,
    HeartbeatPublic,
    MetricDiagnosticsPublic,
    RejectionPublic,
    RunAttemptPublic,
    RunCreate,
    RunCreatedPublic,
    RunDetailPublic,
    RunObjectivePublic,
    RunPublic,
    RunsPublic,
    RunUpdate,
    StreamPublic,
)
from app.api.schemas.webhooks import (
    DeliveryPublic,
    WebhookCreate,
    WebhookPublic,
    WebhooksPublic,
    WebhooksUpdate,
)

__all__ = [
    "BestRunPublic",
    "ChunkPublic",
    "CompletionPublic",
    "DefinitionsHistoryPublic",
    "DefinitionsVersionPublic",
    "DeliveryPublic",
    "DimensionPublic",
    "EarlyStoppingPublic",
    "EarlyStoppingStepPublic",
    "ErrorPublic",
    "FinalMetricPublic",
    "GpuOfferCreate",
    "HeartbeatCreate",
    "HeartbeatPublic",
    "HistoryPublic",
    "HistoryRunPublic",
    "ImportancePublic",
    "ImportanceRowPublic",
    "JobCreate",
    "JobPublic",
    "JobSeriesPublic",
    "JobStatePublic",
    "JobsPublic",
    "LeaseAnswerPublic",
    "LeaseCreate",
    "LeasePublic",
    "MedianCurvePublic",
    "MedianPointPublic",
    "MetricDefinitionCreate",
    "MetricDefinitionPublic",
    "MetricDiagnosticsPublic",
    "ObjectiveCreate",
    "ObjectivePublic",
    "ObjectiveStatusCountersPublic",
    "ParallelCoordinatesPublic",
    "ParallelRunPublic",
    "ParseCreate",
    "ParsePublic",
    "ParsedDefinitionPublic",
    "ParsedPointPublic",
    "ParsedRejectionPublic",
    "PresetPublic",
    "PresetsPublic",
    "RejectionPublic",
    "ReparseCreate",
    "ReparsePublic",
    "RunAttemptPublic",
    "RunCreate",
    "RunCreatedPublic",
    "RunDetailPublic",
    "RunObjectivePublic",
    "RunPublic",
    "RunSeriesPublic",
    "RunUpdate",
    "RunsPublic",
    "SearchProgressPublic",
    "SeriesPointPublic",
    "SeriesPublic",
    "StreamPublic",
    "TrainingJobStatusCountersPublic",
    "WebhookCreate",
    "WebhookPublic",
    "WebhooksPublic",
    "WebhooksUpdate",
    "definitions_of",
    "error_responses",
]
