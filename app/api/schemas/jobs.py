"""Jobs: the body that creates one, a job as the API returns it with its progress and
AMT's counters, and the median curve of its runs (`routes/jobs.py`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.api.schemas.common import RequestBody
from app.api.schemas.definitions import (
    Definitions,
    MetricDefinitionPublic,
    ObjectiveCreate,
    ObjectivePublic,
)
from app.api.schemas.webhooks import MAX_WEBHOOKS, WebhookCreate
from app.jobs import NAME_PATTERN
from app.parsing import LogFormat
from app.protocol.ranges import pascal_too
from app.protocol.search import SearchSpec
from app.records import JobStatus

__all__ = [
    "BestRunPublic",
    "CompletionPublic",
    "JobCreate",
    "JobPublic",
    "JobStatePublic",
    "JobsPublic",
    "MedianCurvePublic",
    "MedianPointPublic",
    "ObjectiveStatusCountersPublic",
    "SearchProgressPublic",
    "TrainingJobStatusCountersPublic",
]


class JobCreate(RequestBody):
    name: str = Field(
        pattern=NAME_PATTERN,
        max_length=63,
        examples=["gan-tuning"],
        description="The job's name: 1 to 63 letters, digits and hyphens, starting and ending "
        "with a letter or digit.",
    )
    objective: ObjectiveCreate = Field(
        description="The metric that ranks the runs, and whether to maximize or minimize it."
    )
    metric_definitions: Definitions = Field(
        validation_alias=pascal_too("metric_definitions"),
        description=(
            "0 to 40 named regexes (the named group `value`, else group 1, is the value), "
            "or the name of a preset (GET /v1/presets)."
        ),
    )
    log_format: LogFormat = Field(
        LogFormat.TEXT,
        description="How log bytes are cut into lines and rendered: `text` (default) or "
        "`cloudwatch`.",
    )
    environment: dict[str, str] = Field(
        default_factory=dict,
        description="Variables set for every run's training command (at most 48).",
    )
    search: SearchSpec | None = Field(
        None,
        description=(
            "The search the service runs: it picks each run's hyperparameters when a worker "
            "asks for work (`POST /v1/leases`). Left out, the job watches runs started "
            "elsewhere."
        ),
    )
    webhooks: list[WebhookCreate] = Field(
        default_factory=list,
        max_length=MAX_WEBHOOKS,
        description=f"URLs the job calls on its events (at most {MAX_WEBHOOKS}), as "
        "PUT /v1/jobs/{job}/webhooks takes them; each URL is checked before the job is made.",
    )


class BestRunPublic(BaseModel):
    name: str = Field(description="The best run's name.")
    objective_value: float = Field(description="Its objective value.")


class CompletionPublic(BaseModel):
    criterion: str = Field(
        description="TargetObjectiveMetricValue, BestObjectiveNotImproving, "
        "ConvergenceDetected or MaxNumberOfTrainingJobs."
    )
    detail: str = Field(
        description="What was met, in words (the value reached, the runs without improvement)."
    )
    at: datetime | None = Field(description="When the criterion was met.")


class TrainingJobStatusCountersPublic(BaseModel):
    """AMT's counters of a tuning job's training jobs."""

    completed: int = Field(description="Runs that completed.")
    in_progress: int = Field(description="Runs in progress.")
    retryable_error: int = Field(
        description="Attempts that failed for the infrastructure (a worker lost, a launch "
        "failed) and were tried again, as the job's retry strategy allows."
    )
    non_retryable_error: int = Field(description="Runs that failed.")
    stopped: int = Field(description="Runs that were stopped.")


class ObjectiveStatusCountersPublic(BaseModel):
    succeeded: int = Field(description="Runs that ended with an objective value.")
    pending: int = Field(description="Runs in progress.")
    failed: int = Field(description="Runs that ended without an objective value.")


class SearchProgressPublic(BaseModel):
    started: int = Field(description="Runs the search has started.")
    max_runs: int = Field(description="Runs it may start in all.")
    pending: int = Field(description="Runs it has yet to start (unless a criterion ends it).")
    leased: int = Field(description="Runs in progress, held by a worker.")
    stopped_early: int = Field(description="Runs early stopping (or Hyperband) stopped.")


class JobPublic(BaseModel):
    name: str = Field(description="The job's name.")
    status: JobStatus = Field(description="InProgress, Completed, Failed, Stopping or Stopped.")
    status_reason: str | None = Field(
        description="Why the job failed (no run reported a value of the objective metric); "
        "null unless it failed."
    )
    objective: ObjectivePublic = Field(description="The metric that ranks the runs.")
    metric_definitions: list[MetricDefinitionPublic] = Field(
        description="The named regexes, in order."
    )
    definitions_version: int = Field(
        description="The version of the metric definitions: 1 at creation, one more each "
        "re-parse (`GET /v1/jobs/{job}/definitions` has them all)."
    )
    log_format: LogFormat = Field(description="How log bytes are cut into lines and rendered.")
    environment: dict[str, str] = Field(
        description="Environment variables set for every run a worker starts."
    )
    created_at: datetime = Field(description="When the job was created.")
    ended_at: datetime | None = Field(description="When the job ended; null while it has not.")
    run_counts: dict[str, int] = Field(description="The job's runs by status.")
    best_run: BestRunPublic | None = Field(
        description="The best completed or stopped run so far; null while none has an objective "
        "value."
    )
    search: SearchSpec | None = Field(
        description="The search the service runs for the job; null for a job whose runs are "
        "started elsewhere."
    )
    search_progress: SearchProgressPublic | None = Field(
        description="How far the search has come; null without a search."
    )
    completion: CompletionPublic | None = Field(
        description="The completion criterion the search met, and when; null while it has met "
        "none, and for a job without a search."
    )
    training_job_status_counters: TrainingJobStatusCountersPublic = Field(
        description="AMT's counts of the runs by status."
    )
    objective_status_counters: ObjectiveStatusCountersPublic = Field(
        description="AMT's counts of the runs by whether their objective value is known."
    )


class JobsPublic(BaseModel):
    jobs: list[JobPublic] = Field(description="Every job, newest first.")


class JobStatePublic(BaseModel):
    name: str = Field(description="The job's name.")
    status: JobStatus = Field(description="The job's status after the request.")
    completion: CompletionPublic | None = Field(
        description="The completion criterion that ended the search, if one did."
    )


class MedianPointPublic(BaseModel):
    step: int = Field(description="The step.")
    median: float = Field(
        description="The median of the runs' running averages of the objective at this step."
    )
    runs: int = Field(description="How many runs reached this step.")


class MedianCurvePublic(BaseModel):
    metric_name: str = Field(description="The objective metric.")
    points: list[MedianPointPublic] = Field(description="The median by step, in step order.")
