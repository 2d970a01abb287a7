"""Records rendered as response bodies."""

from __future__ import annotations

from collections.abc import Mapping

from app.api import schemas
from app.objective import ObjectiveType, Strategy, job_counters, objective_status
from app.parsing import LogFormat, MetricDefinition
from app.parsing.definitions import rendering_of
from app.records import (
    DefinitionsVersion,
    Job,
    JobOverview,
    JobState,
    ReparseProgress,
    Run,
    RunStatus,
    StopCause,
)
from app.tuning.tuner import runs_pending, search_of

__all__ = [
    "completion_public",
    "definitions_public",
    "job_public",
    "reparse_public",
    "run_detail_public",
    "run_public",
]


def job_public(overview: JobOverview) -> schemas.JobPublic:
    job, best, state, tallies = overview.job, overview.best_run, overview.state, overview.tallies
    search = search_of(job)
    progress = None
    if search is not None:
        progress = schemas.SearchProgressPublic(
            started=tallies.get("started", 0),
            max_runs=search.max_training_jobs(),
            pending=runs_pending(overview),
            leased=tallies.get("leased", 0),
            stopped_early=tallies.get("stopped_early", 0),
        )
    counters = job_counters(overview)
    return schemas.JobPublic(
        name=job.name,
        status=state.status,
        status_reason=state.reason,
        ended_at=state.ended_at,
        search=search,
        search_progress=progress,
        completion=completion_public(state),
        training_job_status_counters=schemas.TrainingJobStatusCountersPublic(
            completed=counters.completed,
            in_progress=counters.in_progress,
            retryable_error=counters.retryable_error,
            non_retryable_error=counters.failed,
            stopped=counters.stopped,
        ),
        objective_status_counters=schemas.ObjectiveStatusCountersPublic(
            succeeded=counters.objective_succeeded,
            pending=counters.objective_pending,
            failed=counters.objective_failed,
        ),
        objective=schemas.ObjectivePublic(
            metric_name=job.objective_metric,
            type=ObjectiveType(job.objective_type),
            strategy=Strategy(job.objective_strategy),
        ),
        metric_definitions=_definitions(job.metric_definitions),
        definitions_version=job.definitions_version,
        log_format=LogFormat(job.log_format),
        environment=dict(job.environment),
        created_at=job.created_at,
        run_counts=dict(overview.run_counts),
        best_run=(
            schemas.BestRunPublic(name=best.name, objective_value=best.objective_value)
            if best is not None and best.objective_value is not None
            else None
        ),
    )


def _definitions(
    definitions: tuple[MetricDefinition, ...],
) -> list[schemas.MetricDefinitionPublic]:
    return [
        schemas.MetricDefinitionPublic(name=d.name, regex=d.regex, log_format=d.log_format)
        for d in definitions
    ]


def definitions_public(version: DefinitionsVersion) -> schemas.DefinitionsVersionPublic:
    return schemas.DefinitionsVersionPublic(
        version=version.version,
        objective=schemas.ObjectivePublic(
            metric_name=version.objective_metric,
            type=ObjectiveType(version.objective_type),
            strategy=Strategy(version.objective_strategy),
        ),
        metric_definitions=_definitions(version.metric_definitions),
        replaced_at=version.replaced_at,
    )


def reparse_public(job: Job, progress: ReparseProgress) -> schemas.ReparsePublic:
    return schemas.ReparsePublic(
        job=job.name,
        definitions_version=progress.version,
        runs=progress.runs,
        runs_reparsed=progress.reparsed,
        done=progress.done,
    )


def completion_public(state: JobState) -> schemas.CompletionPublic | None:
    if state.completion is None:
        return None
    criterion, detail = state.completion
    return schemas.CompletionPublic(criterion=criterion, detail=detail, at=state.completed_at)


def run_public(run: Run, job: Job) -> schemas.RunPublic:
    return schemas.RunPublic(**_run_fields(run, job))


def run_detail_public(
    run: Run, job: Job, hints: Mapping[str, str] | None = None
) -> schemas.RunDetailPublic:
    """A run in full; `hints` says, for metrics that matched no line, whether their text
    occurs (see `app.diagnostics`)."""
    by_name = {summary.name: summary for summary in run.metrics}
    log_format = LogFormat(job.log_format)
    diagnostics = []
    for definition in job.metric_definitions:
        name = definition.name
        summary = by_name.get(name)
        diagnostics.append(
            schemas.MetricDiagnosticsPublic(
                metric_name=name,
                log_format=rendering_of(definition, log_format),
                hint=(hints or {}).get(name),
                points=summary.count if summary else 0,
                rejected=summary.rejected if summary else 0,
                timeouts=summary.timeouts if summary else 0,
                examples=[
                    schemas.RejectionPublic(
                        stream=e.stream, line=e.line, capture=e.capture, reason=e.reason
                    )
                    for e in (summary.examples if summary else ())
                ],
            )
        )
    return schemas.RunDetailPublic(
        **_run_fields(run, job),
        streams=[
            schemas.StreamPublic(
                name=s.name,
                next_offset=s.next_offset,
                lines=s.lines,
                partial_length=s.partial_length,
                pending_bytes=s.partial_length,
            )
            for s in run.streams
        ],
        attempts=[
            schemas.RunAttemptPublic(
                attempt=a.attempt,
                worker=a.worker,
                started_at=a.started_at,
                ended_at=a.ended_at,
                reason=a.reason,
            )
            for a in run.attempts
        ],
        diagnostics=diagnostics,
    )


def _run_fields(run: Run, job: Job) -> dict[str, object]:
    order = {name: index for index, name in enumerate(job.metric_names)}
    summaries = sorted(run.metrics, key=lambda m: order.get(m.name, len(order)))
    return {
        "job": run.job,
        "name": run.name,
        "status": run.status,
        "failure_reason": run.failure_reason,
        "stopped_early": run.status is RunStatus.STOPPED
        and run.stop_cause == StopCause.EARLY_STOPPING,
        "worker": run.worker,
        "created_at": run.created_at,
        "ended_at": run.ended_at,
        "hyperparameters": dict(run.hyperparameters),
        "objective": schemas.RunObjectivePublic(
            metric_name=run.objective_metric,
            value=run.objective_value,
            status=objective_status(run),
        ),
        "final_metrics": [
            schemas.FinalMetricPublic(metric_name=m.name, value=m.last, timestamp=m.last_timestamp)
            for m in summaries
            if m.last is not None and m.last_timestamp is not None
        ],
        "gpus": list(run.gpus) if run.gpus is not None else None,
        "attempt": run.attempt,
    }
