"""Request and response bodies of the HTTP API (v1).

Families by suffix: `...Create` is what a client sends to make a thing, `...Public` what
the API returns. Requests accept SageMaker's spelling of keys too (`Name`, `Regex`,
`MetricName`, `Type`); responses use one spelling, snake_case.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from app.jobs import NAME_PATTERN
from app.objective import ObjectiveStatus, ObjectiveType, Strategy
from app.parsing import LogFormat, MetricDefinition
from app.presets import Presets
from app.protocol.search import SearchSpec
from app.records import JobStatus, RunStatus

__all__ = [
    "ChunkAccepted",
    "ErrorPublic",
    "FinalMetric",
    "JobCreate",
    "JobPublic",
    "JobSeriesPublic",
    "JobsPublic",
    "MetricDefinitionIn",
    "MetricDiagnostics",
    "ObjectiveIn",
    "ParseCreate",
    "ParsePublic",
    "PresetPublic",
    "PresetsPublic",
    "RunComplete",
    "RunCreate",
    "RunCreated",
    "RunDetailPublic",
    "RunPublic",
    "RunsPublic",
    "SeriesPublic",
]


# Free text that comes from a log (a run's last stderr line, a dry run's sample): data,
# never refused for what it holds; what UTF-8 cannot carry becomes U+FFFD.
_TEXT_FIELDS = frozenset({"log", "failure_reason"})
_SURROGATE = re.compile("[\ud800-\udfff]")  # JSON joins the pairs: these are lone


class _Request(BaseModel):
    """A request body. No string in it may hold what UTF-8 or a database text column
    cannot store (a lone surrogate such as "\\ud800", or NUL), except the free-text
    fields, where such characters become U+FFFD (NUL stays in a log: it is data)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _storable_strings(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {
                _checked(key, ()): (
                    _as_text(value, key) if key in _TEXT_FIELDS else _checked(value, (key,))
                )
                for key, value in data.items()
            }
        return data


def _unstorable(text: str) -> str | None:
    if "\x00" in text:
        return "NUL (\\u0000)"
    try:
        text.encode()
    except UnicodeEncodeError:
        return "a lone surrogate (\\ud800 to \\udfff), which UTF-8 cannot encode"
    return None


def _checked(value: Any, where: tuple[Any, ...]) -> Any:
    """`value`, after checking every string in it; ValueError names the first bad one."""
    if isinstance(value, str):
        reason = _unstorable(value)
        if reason is not None:
            place = ".".join(str(part) for part in where) or "a key"
            raise ValueError(f"{place}: a string may not hold {reason}")
    elif isinstance(value, dict):
        for key, item in value.items():
            _checked(key, where)
            _checked(item, (*where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _checked(item, (*where, index))
    return value


def _as_text(value: Any, field: str) -> Any:
    if not isinstance(value, str):
        return value
    text = _SURROGATE.sub("\ufffd", value)
    return text.replace("\x00", "\ufffd") if field == "failure_reason" else text


class MetricDefinitionIn(_Request):
    name: str = Field(
        validation_alias=AliasChoices("name", "Name"),
        examples=["loss"],
        description="The metric's name: 1 to 255 characters, unique in the job.",
    )
    regex: str = Field(
        validation_alias=AliasChoices("regex", "Regex"),
        examples=["Loss = (.*?);"],
        description="A regex of the `regex` module, 1 to 500 characters, with at least one group: "
        "the named group `value`, else the first, is the value.",
    )
    log_format: LogFormat | None = Field(
        None,
        validation_alias=AliasChoices("log_format", "LogFormat"),
        description="The rendering this regex is matched against, whatever the job's log "
        "format: `cloudwatch` shows control characters as `#011` and the like, `text` "
        "removes them. By default a regex that names a CloudWatch escape (`#011`) gets "
        "`cloudwatch` and any other the job's log format.",
    )


class ObjectiveIn(_Request):
    metric_name: str = Field(
        validation_alias=AliasChoices("metric_name", "MetricName"),
        description="One of the job's metric definitions.",
    )
    type: ObjectiveType = Field(
        validation_alias=AliasChoices("type", "Type"), description="Maximize or Minimize."
    )
    strategy: Strategy = Field(
        Strategy.LATEST,
        validation_alias=AliasChoices("strategy", "Strategy"),
        description="Which value of the metric counts: the last one (AMT), the min or the max.",
    )


def _definitions_shape(value: Any) -> str:
    return "preset" if isinstance(value, str) else "definitions"


# Named regexes, or a preset's name: validated as the one its shape says, so a typo in a
# definition is reported once, not also as "not a string".
Definitions = Annotated[
    Annotated[list[MetricDefinitionIn], Tag("definitions")] | Annotated[str, Tag("preset")],
    Discriminator(_definitions_shape),
]


class JobCreate(_Request):
    name: str = Field(
        pattern=NAME_PATTERN,
        max_length=63,
        examples=["gan-tuning"],
        description="The job's name: 1 to 63 letters, digits and hyphens, starting and ending "
        "with a letter or digit.",
    )
    objective: ObjectiveIn = Field(
        description="The metric that ranks the runs, and whether to maximize or minimize it."
    )
    metric_definitions: Definitions = Field(
        validation_alias=AliasChoices("metric_definitions", "MetricDefinitions"),
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


class RunCreate(_Request):
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


class LeaseCreate(_Request):
    worker: str = Field(
        min_length=1, max_length=255, description="Who asks: a name for people, host:pid say."
    )
    jobs: list[Annotated[str, Field(max_length=63)]] | None = Field(
        None, max_length=100, description="Only these jobs (default: any job with a search)."
    )


class HeartbeatCreate(_Request):
    worker: str = Field(
        min_length=1, max_length=255, description="The worker holding the run's lease."
    )


class RunComplete(_Request):
    status: Literal["Completed", "Failed", "Stopped"] = Field(
        description="Completed, Failed or Stopped."
    )
    failure_reason: str | None = Field(
        None, max_length=1024, description="Why the run failed, shown with it."
    )


class ParseCreate(_Request):
    metric_definitions: Definitions = Field(
        validation_alias=AliasChoices("metric_definitions", "MetricDefinitions"),
        description="Named regexes, or the name of a preset.",
    )
    log: str = Field(description="The log text to try the definitions on.")
    log_format: LogFormat = Field(
        LogFormat.TEXT,
        description="How the log is cut into lines and rendered: `text` (default) or `cloudwatch`.",
    )


class MetricDefinitionPublic(BaseModel):
    name: str = Field(description="The metric's name, unique in its job.")
    regex: str = Field(description="The regex; its first group (or `value`) is the value.")
    log_format: LogFormat | None = Field(
        None, description="The rendering the definition asks for; null leaves it to the parser."
    )


class ReparseCreate(_Request):
    metric_definitions: Definitions = Field(
        validation_alias=AliasChoices("metric_definitions", "MetricDefinitions"),
        description="The job's new named regexes (all of them), or the name of a preset.",
    )
    objective: ObjectiveIn | None = Field(
        None,
        validation_alias=AliasChoices("objective", "Objective"),
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


class PresetPublic(BaseModel):
    name: str = Field(description="The preset's name, usable as a job's `metric_definitions`.")
    metric_definitions: list[MetricDefinitionPublic] = Field(description="Its named regexes.")


class PresetsPublic(BaseModel):
    presets: list[PresetPublic] = Field(description="Every preset, by name.")


class ErrorPublic(BaseModel):
    """Every error: a stable code, a message for people, and fields a client can act on."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(
        description="A stable code for the error (`job_not_found`, `invalid_metric_definition`, "
        "...)."
    )
    message: str = Field(description="What went wrong, for a person to read.")


class ObjectivePublic(BaseModel):
    metric_name: str = Field(description="The objective metric.")
    type: ObjectiveType = Field(description="Maximize or Minimize.")
    strategy: Strategy = Field(description="Which value of the metric counts: latest, min or max.")


class BestRunBrief(BaseModel):
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


class TrainingJobStatusCounters(BaseModel):
    """AMT's counters of a tuning job's training jobs."""

    completed: int = Field(description="Runs that completed.")
    in_progress: int = Field(description="Runs in progress.")
    retryable_error: int = Field(
        description="Runs that failed and could be retried (always 0 here)."
    )
    non_retryable_error: int = Field(description="Runs that failed.")
    stopped: int = Field(description="Runs that were stopped.")


class ObjectiveStatusCounters(BaseModel):
    succeeded: int = Field(description="Runs that ended with an objective value.")
    pending: int = Field(description="Runs in progress.")
    failed: int = Field(description="Runs that ended without an objective value.")


class SearchProgress(BaseModel):
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
    best_run: BestRunBrief | None = Field(
        description="The best completed or stopped run so far; null while none has an objective "
        "value."
    )
    search: SearchSpec | None = Field(
        description="The search the service runs for the job; null for a job whose runs are "
        "started elsewhere."
    )
    search_progress: SearchProgress | None = Field(
        description="How far the search has come; null without a search."
    )
    completion: CompletionPublic | None = Field(
        description="The completion criterion the search met, and when; null while it has met "
        "none, and for a job without a search."
    )
    training_job_status_counters: TrainingJobStatusCounters = Field(
        description="AMT's counts of the runs by status."
    )
    objective_status_counters: ObjectiveStatusCounters = Field(
        description="AMT's counts of the runs by whether their objective value is known."
    )


class JobStatePublic(BaseModel):
    name: str = Field(description="The job's name.")
    status: JobStatus = Field(description="The job's status after the request.")
    completion: CompletionPublic | None = Field(
        description="The completion criterion that ended the search, if one did."
    )


class LeasePublic(BaseModel):
    """A run for a worker to execute, and how."""

    job: str = Field(description="The job the run belongs to.")
    run: str = Field(description="The new run's name.")
    hyperparameters: dict[str, str] = Field(
        description="The run's hyperparameters, as text: the search's choice and the static ones."
    )
    command: list[str] | None = Field(
        description="The argv to run; null when the job names no command: run `training_image`."
    )
    training_image: str | None = Field(
        description="The image the job names, for a worker to run when there is no command."
    )
    channels: dict[str, str] = Field(description="Input channels a worker can read: file:// URIs.")
    environment: dict[str, str] = Field(description="Environment variables to set for the command.")
    max_runtime_seconds: int | None = Field(
        description="Stop the run after this many seconds; null for no limit."
    )
    lease_seconds: float = Field(
        description="Seconds without a heartbeat after which the run fails as `worker lost`."
    )
    ingest_token: str | None = Field(
        description="A token that may post logs to this run only; null when access control is off."
    )


class LeaseAnswer(BaseModel):
    lease: LeasePublic | None = Field(
        description="The run to start, and how; null when no job has a run to start now."
    )
    jobs_in_progress: int = Field(
        description="Jobs among those asked about that have not ended: 0 means none ever will."
    )


class HeartbeatPublic(BaseModel):
    status: RunStatus = Field(description="The run's status.")
    stop_requested: str | None = Field(
        description="Why the service asks the run to stop (end the command); null while it does "
        "not."
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


class JobsPublic(BaseModel):
    jobs: list[JobPublic] = Field(description="Every job, newest first.")


class RunObjective(BaseModel):
    metric_name: str = Field(description="The objective metric.")
    value: float | None = Field(
        description="The run's objective value; null until the metric has a point."
    )
    status: ObjectiveStatus = Field(
        description="AMT's: Succeeded (a value), Pending (in progress) or Failed."
    )


class FinalMetric(BaseModel):
    """A metric's last value by arrival (AMT's FinalMetricDataList entry)."""

    metric_name: str = Field(description="The metric's name.")
    value: float = Field(description="Its last value by arrival.")
    timestamp: datetime = Field(description="The time of that value's point.")


class StreamPublic(BaseModel):
    name: str = Field(description="The stream's name.")
    next_offset: int = Field(description="Bytes the stream has: where its next chunk starts.")
    lines: int = Field(description="Lines ended so far.")
    pending_bytes: int = Field(description="Bytes of a last line held until more arrive.")


class RejectionPublic(BaseModel):
    stream: str = Field(description="The stream of the line.")
    line: int = Field(description="The 1-based line number in its stream.")
    capture: str | None = Field(description="What the value group captured; null for a time-out.")
    reason: str = Field(description="Why no point was made.")


class MetricDiagnostics(BaseModel):
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
    objective: RunObjective = Field(
        description="The run's objective value and AMT's status for it."
    )
    final_metrics: list[FinalMetric] = Field(
        description="Each metric's last value (AMT's FinalMetricDataList)."
    )


class RunDetailPublic(RunPublic):
    streams: list[StreamPublic] = Field(description="The run's log streams.")
    diagnostics: list[MetricDiagnostics] = Field(
        description="Per metric definition: why the metric has the points it has."
    )


class RunCreated(RunDetailPublic):
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


class ChunkAccepted(BaseModel):
    stream: str = Field(description="The stream the chunk was appended to.")
    next_offset: int = Field(description="The stream's length in bytes: where to send from next.")
    lines: int = Field(description="Lines this chunk completed.")
    points: int = Field(description="Points found in those lines.")
    stop_requested: str | None = Field(
        None,
        description="Present when the service asks the run to stop: why. The sender "
        "should end the command and complete the run.",
    )


class SeriesPoint(BaseModel):
    step: int = Field(description="The point's step.")
    value: float = Field(description="The value.")
    timestamp: datetime = Field(
        description="When its chunk was received, or the time the chunk's `timestamp` query "
        "parameter gave."
    )
    stream: str = Field(description="The stream of its line.")
    line: int = Field(description="Its 1-based line number in the stream.")
    offset: int = Field(description="The 0-based byte offset of the line's start in its stream.")


class SeriesPublic(BaseModel):
    metric_name: str = Field(description="The metric.")
    points: list[SeriesPoint] = Field(description="Points in arrival order.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last."
    )


class RunSeriesPublic(BaseModel):
    run: str = Field(description="The run's name.")
    status: RunStatus = Field(description="The run's status.")
    objective_value: float | None = Field(
        description="The run's objective value; null while it has none."
    )
    count: int = Field(description="The run's points of the metric, before thinning.")
    points: list[tuple[int, float]] = Field(description="(step, value) pairs.")


class JobSeriesPublic(BaseModel):
    metric_name: str = Field(description="The metric.")
    runs: list[RunSeriesPublic] = Field(
        description="Each run's points of the metric, thinned out, in order of creation."
    )


class ParsedPoint(BaseModel):
    metric_name: str = Field(description="The metric.")
    value: float = Field(description="The value.")
    step: int = Field(
        description="The `step` group's integer, else the point's 1-based number among its "
        "metric's points."
    )
    line: int = Field(description="The 1-based line number.")
    span: tuple[int, int] | None = Field(
        description="Where the value lies in the line's entry of `texts`, as 0-based [start, end) "
        "character offsets; null when the definition was matched against another rendering."
    )


class ParsedRejection(BaseModel):
    metric_name: str = Field(description="The metric.")
    line: int = Field(description="The 1-based line number.")
    capture: str | None = Field(description="What the value group captured; null for a time-out.")
    reason: str = Field(description="Why no point was made.")
    span: tuple[int, int] | None = Field(
        description="Where the capture lies in the line's entry of `texts`, as 0-based [start, "
        "end) character offsets; null for a time-out, and when the definition was matched "
        "against another rendering."
    )


class ParsedDefinition(BaseModel):
    metric_name: str = Field(description="The definition's name.")
    log_format: LogFormat = Field(description="The rendering its regex was matched against.")
    log_format_reason: str = Field(description="Why that rendering.")
    hint: str | None = Field(
        description="For a definition that matched no line: whether the literal text its "
        "regex needs occurs in the log, and in how many lines."
    )


class ParsePublic(BaseModel):
    lines: int = Field(description="Lines in the log.")
    points: list[ParsedPoint] = Field(description="Every point, in line order, steps numbered.")
    rejections: list[ParsedRejection] = Field(
        description="Every match whose capture was not a number, and every time-out."
    )
    texts: list[str] = Field(
        description="Each line as the definitions saw it: decoded, cleaned, cut at the limit."
    )
    definitions: list[ParsedDefinition] = Field(
        description="How each definition saw the log, in order."
    )


def definitions_of(
    given: list[MetricDefinitionIn] | str, presets: Presets
) -> tuple[MetricDefinition, ...]:
    """The definitions a request gives, or those of the preset it names."""
    if isinstance(given, str):
        return presets.definitions(given)
    return tuple(MetricDefinition(d.name, d.regex, d.log_format) for d in given)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer."""
    return {status: {"model": ErrorPublic} for status in statuses}
