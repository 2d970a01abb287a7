"""Runs: the bodies that start, end and keep one alive, and a run as the API returns it,
with its objective, final metrics, streams and diagnostics (`routes/runs.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.api.schemas.common import RequestBody
from app.jobs import NAME_PATTERN
from app.objective import ObjectiveStatus
from app.parsing import LogFormat
from app.records import RunStatus

__all__ = [
    "FinalMetricPublic",
    "HeartbeatCreate",
    "HeartbeatPublic",
    "MetricDiagnosticsPublic",
    "RejectionPublic",
    "RunCreate",
    "RunCreatedPublic",
    "RunDetailPublic",
    "RunObjectivePublic",
    "RunPublic",
    "RunUpdate",
    "RunsPublic",
    "StreamPublic",
]


class RunCreate(RequestBody):
    name: str | None = Field(
        None,
        pattern=NAME_PATTERN,
        max_length=63,
        description="The run's name: 1 to 63 letters, digits and hyphens, starting and ending "
        "with a letter or digit; left out, the next free `run-0001`, `run-0002`, ...",
    )
    hyperparameters: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="The run's hyperparameters, at most 100; numbers and booleans are stored as "
        "strings.",
    )


# How a run ended: the body of `POST .../runs/{run}/complete`.
class RunUpdate(RequestBody):
    status: Literal["Completed", "Failed", "Stopped"] = Field(
        description="Completed, Failed or Stopped."
    )
    failure_reason: str | None = Field(
        None, max_length=1024, description="Why the run failed, shown with it."
    )
    infrastructure_failure: bool = Field(
        False,
        description="The run did not complete for a failure of the infrastructure (its "
        "launch failed, its worker was stopped), not of its code: where the job's retry "
        "strategy allows, it is tried again with the same hyperparameters (its status stays "
        "InProgress, `attempt` one more) instead of ending.",
    )
    attempt: int | None = Field(
        None,
        ge=1,
        description="The attempt that ended (a worker says so): the end of an attempt that "
        "is not the run's current one is refused (409 run_awaits_attempt).",
    )


class HeartbeatCreate(RequestBody):
    worker: str = Field(
        min_length=1, max_length=255, description="The worker holding the run's lease."
    )
    gpus: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(
        None,
        max_length=1024,
        description="The GPUs the worker gave the run (`logmetrics worker --gpus`), by the "
        "worker's names for them; left out where it does not count GPUs.",
    )
    attempt: int | None = Field(
        None,
        ge=1,
        description="The attempt the worker runs: one that is not the run's current one is "
        "refused (409 run_awaits_attempt), and the worker stops it.",
    )


class HeartbeatPublic(BaseModel):
    status: RunStatus = Field(description="The run's status.")
    stop_requested: str | None = Field(
        description="Why the service asks the run to stop (end the command); null while it does "
        "not."
    )


class RunObjectivePublic(BaseModel):
    metric_name: str = Field(description="The objective metric.")
    value: float | None = Field(
        description="The run's objective value; null until the metric has a point."
    )
    status: ObjectiveStatus = Field(
        description="AMT's: Succeeded (a value), Pending (in progress) or Failed."
    )


class FinalMetricPublic(BaseModel):
    """A metric's last value by arrival (AMT's FinalMetricDataList entry)."""

    metric_name: str = Field(description="The metric's name.")
    value: float = Field(description="Its last value by arrival.")
    timestamp: datetime = Field(description="The time of that value's point.")


class StreamPublic(BaseModel):
    name: str = Field(description="The stream's name.")
    next_offset: int = Field(description="Bytes the stream has: where its next chunk starts.")
    lines: int = Field(description="Lines ended so far.")
    partial_length: int = Field(
        description="Bytes of the stream's partial line: its last line, held until it ends."
    )
    pending_bytes: int = Field(
        description="Deprecated: partial_length's old name, sent as well for one release."
    )


class RejectionPublic(BaseModel):
    stream: str = Field(description="The stream of the line.")
    line: int = Field(description="The 1-based line number in its stream.")
    capture: str | None = Field(description="What the value group captured; null for a time-out.")
    reason: str = Field(description="Why no point was made.")


class MetricDiagnosticsPublic(BaseModel):
    metric_name: str = Field(description="The metric's name.")
    log_format: LogFormat = Field(description="The rendering its regex is matched against.")
    hint: str | None = Field(
        None,
        description="For a metric that matched no line: whether the literal text its regex "
        "needs occurs in the run's logs, and in how many lines.",
    )
    points: int = Field(description="Points the metric has in this run.")
    rejected: int = Field(description="Matches whose capture was not a finite number.")
    timeouts: int = Field(description="Lines skipped because the regex ran out of time.")
    examples: list[RejectionPublic] = Field(description="The latest rejections.")


class RunPublic(BaseModel):
    job: str = Field(description="The job's name.")
    name: str = Field(description="The run's name.")
    status: RunStatus = Field(description="InProgress, Completed, Failed or Stopped.")
    failure_reason: str | None = Field(
        description="Why the run failed or was stopped, as given when it ended; null if none was."
    )
    stopped_early: bool = Field(description="Early stopping or Hyperband stopped the run.")
    worker: str | None = Field(
        description="The worker the search leased the run to; null for a run started through "
        "`POST /v1/jobs/{job}/runs`."
    )
    created_at: datetime = Field(description="When the run was created.")
    ended_at: datetime | None = Field(description="When the run ended; null while it has not.")
    hyperparameters: dict[str, str] = Field(description="The run's hyperparameters, as text.")
    objective: RunObjectivePublic = Field(
        description="The run's objective value and AMT's status for it."
    )
    final_metrics: list[FinalMetricPublic] = Field(
        description="Each metric's last value (AMT's FinalMetricDataList)."
    )
    gpus: list[str] | None = Field(
        description="The GPUs the run held on its worker, by the worker's names for them; "
        "null where the worker did not count GPUs."
    )
    attempt: int = Field(
        description="Its attempt: 1, one more each time a failure of the infrastructure was "
        "tried again (the job's retry strategy)."
    )


class RunAttemptPublic(BaseModel):
    """An earlier attempt of a run, ended by a failure of the infrastructure and tried
    again; its log is the run's streams `attempt-<n>/<stream>`."""

    attempt: int = Field(description="Its number, from 1.")
    worker: str | None = Field(description="The worker it ran on.")
    started_at: datetime = Field(description="When its worker was given it.")
    ended_at: datetime = Field(description="When it ended.")
    reason: str = Field(description="Why it ended: `worker lost: ...`, a launch's failure.")


class RunDetailPublic(RunPublic):
    streams: list[StreamPublic] = Field(description="The run's log streams.")
    attempts: list[RunAttemptPublic] = Field(
        description="Its earlier attempts, first first (empty for a run tried once)."
    )
    diagnostics: list[MetricDiagnosticsPublic] = Field(
        description="Per metric definition: why the metric has the points it has."
    )


# The answer to `POST /v1/jobs/{job}/runs`: the new run, and its token this once.
class RunCreatedPublic(RunDetailPublic):
    ingest_token: str | None = Field(
        description=(
            "A token that may only post this run's logs and complete it, shown this once; null "
            "when access control is off."
        )
    )


class RunsPublic(BaseModel):
    runs: list[RunPublic] = Field(description="A page of runs.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last."
    )
