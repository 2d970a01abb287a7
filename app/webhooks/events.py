"""Recording a job's events for its webhooks, where they happen: a run's end (failed,
stopped early, a new best) and the job's.

Each event is stored once per webhook under its key (`run_failed:<run>`), so that the
same end seen twice (two processes, a reaper and a worker's report) is one delivery.
Recording follows the run's or job's own commit: a failure to record is logged and
never undoes or fails the end it follows.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from app.errors import JobNotFound
from app.objective import qualifying_statuses
from app.records import Job, JobState, JobStatus, ObjectiveType, Run, RunStatus, StopCause
from app.storage import Storage
from app.storage.records import RunQuery, SortOrder
from app.storage.webhook_records import WebhookEvent, WebhookEventKind

__all__ = ["best_before", "new_best", "record_job_end", "record_run_end", "run_end_events"]

log = logging.getLogger("logmetrics.webhooks")

_ENDED_JOB = (JobStatus.COMPLETED, JobStatus.STOPPED, JobStatus.FAILED)
# Runs read at a time, best first, looking for the best that ended before a run: the
# first page holds it unless that many better runs ended at or after it.
_PAGE = 20


def record_run_end(storage: Storage, job: Job, run: Run) -> None:
    """Record the events of `run`'s end for the job's webhooks (none if it has none)."""
    try:
        if not storage.webhooks(job):
            return
        best = storage.best_run(job, qualifying_statuses(include_in_progress=False))
        before = best_before(storage, job, run) if run.ended_at is not None else None
        for event in run_end_events(job, run, before, best):
            storage.record_webhook_event(job, event)
    except JobNotFound:
        return  # deleted meanwhile, with its webhooks
    except Exception:  # the run has ended whatever happens here
        log.exception("could not record the webhook events of run %s of job %s", run.name, job.name)


def record_job_end(storage: Storage, job: Job, state: JobState) -> None:
    """Record `job_ended` for the job's webhooks once its state is an ended one."""
    if state.status not in _ENDED_JOB:
        return
    try:
        if not storage.webhooks(job):
            return
        best = storage.best_run(job, qualifying_statuses(include_in_progress=False))
        reason = state.reason or (state.completion[1] if state.completion else None)
        payload = _common(job, best) | {
            "job_status": state.status.value,
            "reason": reason,
            "completion_criterion": state.completion[0] if state.completion else None,
            "occurred_at": _iso(state.ended_at),
        }
        storage.record_webhook_event(
            job, WebhookEvent(WebhookEventKind.JOB_ENDED, "job_ended", payload)
        )
    except JobNotFound:
        return
    except Exception:
        log.exception("could not record the webhook event of job %s's end", job.name)


def run_end_events(job: Job, run: Run, before: Run | None, best: Run | None) -> list[WebhookEvent]:
    """The events `run`'s end makes, given the best run that ended before it
    (`best_before`) and the job's best run after it."""
    payload = _common(job, best) | {
        "run": run.name,
        "run_status": run.status.value,
        "objective_value": run.objective_value,
        "hyperparameters": dict(run.hyperparameters),
        "reason": run.failure_reason,
        "occurred_at": _iso(run.ended_at),
    }
    events = []
    if run.status is RunStatus.FAILED:
        events.append(WebhookEvent(WebhookEventKind.RUN_FAILED, f"run_failed:{run.name}", payload))
    if run.status is RunStatus.STOPPED and run.stop_cause == StopCause.EARLY_STOPPING.value:
        events.append(
            WebhookEvent(
                WebhookEventKind.RUN_STOPPED_EARLY, f"run_stopped_early:{run.name}", payload
            )
        )
    if new_best(job, run, before):
        events.append(
            WebhookEvent(WebhookEventKind.NEW_BEST_RUN, f"new_best_run:{run.name}", payload)
        )
    return events


def best_before(storage: Storage, job: Job, run: Run) -> Run | None:
    """The counting run with the best value among those that ended strictly before
    `run` (runs that ended at the same instant are not before each other, as the job's
    history has it: `app.analysis.history`), if any: the job's counting runs are read
    best first, a page at a time, to the first that ended before it, not all of them.

    Raises: JobNotFound.
    """
    counted = tuple(qualifying_statuses(include_in_progress=False))
    order: SortOrder = "desc" if job.objective_type is ObjectiveType.MAXIMIZE else "asc"
    cursor = None
    while True:
        query = RunQuery("objective", order, statuses=counted, limit=_PAGE, cursor=cursor)
        page = storage.list_runs(job, query)
        for other in page.runs:
            if _ended_before(other, run):
                return other
        if page.next_cursor is None:
            return None
        cursor = page.next_cursor


def new_best(job: Job, run: Run, before: Run | None) -> bool:
    """Whether `run` ended with a counting value strictly better than that of every run
    that ended before it, `before` being the best of those (the first run is a new best)."""
    counted = qualifying_statuses(include_in_progress=False)
    if run.status not in counted or run.objective_value is None or run.ended_at is None:
        return False
    if before is None or before.objective_value is None:
        return True
    if job.objective_type is ObjectiveType.MAXIMIZE:
        return run.objective_value > before.objective_value
    return run.objective_value < before.objective_value


def _ended_before(other: Run, run: Run) -> bool:
    if other.id == run.id or other.objective_value is None or other.ended_at is None:
        return False
    return run.ended_at is not None and other.ended_at < run.ended_at


def _common(job: Job, best: Run | None) -> dict[str, Any]:
    return {
        "job": job.name,
        "objective_metric": job.objective_metric,
        "objective_type": str(job.objective_type),
        "best_run": best.name if best is not None else None,
        "best_objective_value": best.objective_value if best is not None else None,
    }


def _iso(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at is not None else None
