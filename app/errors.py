"""Domain errors: every way a request can fail, one class each.

    LogmetricsError
     ├── NotFound                   the thing named does not exist (404)
     │    ├── JobNotFound
     │    ├── RunNotFound
     │    ├── StreamNotFound
     │    ├── MetricNotFound
     │    ├── PresetNotFound
     │    ├── WebhookNotFound
     │    └── NoBestRun             no run qualifies as best yet
     ├── Conflict                   the request contradicts what is stored (409)
     │    ├── JobExists
     │    ├── RunExists
     │    ├── RunEnded              logs or a different status for a run that has ended
     │    ├── JobEnded              a new run, or a stop, for a job that has ended
     │    ├── SearchStartsRuns      a run created by hand in a job whose search starts them
     │    ├── OffsetGap             a chunk starts beyond the stream's next offset
     │    ├── OverlapMismatch       a resent chunk's bytes differ from those stored
     │    ├── LeaseHeld             a heartbeat for a run another worker holds
     │    ├── NotLeased             a heartbeat for a run no worker was given
     │    ├── ChunkStored           a shipper's chunk the stream holds already (a retry)
     │    ├── RunAwaitsAttempt      logs or an end for a run waiting for its next attempt,
     │    │                         or from an attempt that has ended
     │    └── StreamMoved           another request appended to the stream first
     │         └── DefinitionsChanged  the job was re-parsed, or deleted, since it was read
     ├── InvalidInput               well-formed input the domain refuses (422)
     │    ├── InvalidMetricDefinition
     │    ├── InvalidObjective
     │    ├── InvalidRunSpec
     │    └── InvalidWebhook        a webhook's URL refused (scheme, userinfo, address)
     ├── ChunkTooLarge              a log chunk above the configured maximum (413)
     ├── Unauthenticated            no token, or one that matches nothing (401)
     └── Forbidden                  a valid token without the right to do this (403)

The API maps each branch to exactly one HTTP status, in one table in `app.main`.
Nothing below the API layer raises `HTTPException`; these errors carry the message the
user reads, plus any fields a client can act on (`extra`).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ChunkStored",
    "ChunkTooLarge",
    "Conflict",
    "Forbidden",
    "InvalidInput",
    "InvalidMetricDefinition",
    "InvalidObjective",
    "InvalidRunSpec",
    "InvalidWebhook",
    "JobEnded",
    "JobExists",
    "JobNotFound",
    "LeaseHeld",
    "LogmetricsError",
    "MetricNotFound",
    "NoBestRun",
    "NotFound",
    "NotLeased",
    "OffsetGap",
    "OverlapMismatch",
    "PresetNotFound",
    "RunAwaitsAttempt",
    "RunEnded",
    "RunExists",
    "RunNotFound",
    "SearchStartsRuns",
    "StreamMoved",
    "StreamNotFound",
    "Unauthenticated",
    "WebhookNotFound",
]


class LogmetricsError(Exception):
    """Base of every error the service answers with a message."""

    code = "error"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class NotFound(LogmetricsError):
    code = "not_found"


class JobNotFound(NotFound):
    code = "job_not_found"

    def __init__(self, job: str) -> None:
        super().__init__(f"job {job!r} does not exist", job=job)


class RunNotFound(NotFound):
    code = "run_not_found"

    def __init__(self, job: str, run: str) -> None:
        super().__init__(f"run {run!r} does not exist in job {job!r}", job=job, run=run)


class StreamNotFound(NotFound):
    code = "stream_not_found"

    def __init__(self, run: str, stream: str) -> None:
        super().__init__(f"run {run!r} has no stream {stream!r}", run=run, stream=stream)


class MetricNotFound(NotFound):
    code = "metric_not_found"

    def __init__(self, job: str, metric: str) -> None:
        super().__init__(
            f"job {job!r} has no metric definition named {metric!r}", job=job, metric=metric
        )


class PresetNotFound(NotFound):
    code = "preset_not_found"


class WebhookNotFound(NotFound):
    code = "webhook_not_found"

    def __init__(self, job: str, webhook: str) -> None:
        super().__init__(f"job {job!r} has no webhook {webhook!r}", job=job, webhook=webhook)


class NoBestRun(NotFound):
    code = "no_best_run"


class Conflict(LogmetricsError):
    code = "conflict"


class JobExists(Conflict):
    code = "job_exists"

    def __init__(self, job: str) -> None:
        super().__init__(f"job {job!r} already exists", job=job)


class RunExists(Conflict):
    code = "run_exists"

    def __init__(self, job: str, run: str) -> None:
        super().__init__(f"run {run!r} already exists in job {job!r}", job=job, run=run)


class RunEnded(Conflict):
    code = "run_ended"


class JobEnded(Conflict):
    code = "job_ended"

    def __init__(self, job: str, status: str) -> None:
        super().__init__(f"job {job!r} has ended ({status})", job=job, status=status)


class SearchStartsRuns(Conflict):
    code = "search_starts_runs"

    def __init__(self, job: str) -> None:
        super().__init__(
            f"job {job!r} has a search: the service starts its runs when a worker asks for "
            "work (`logmetrics worker`), so none can be created by hand",
            job=job,
        )


class OffsetGap(Conflict):
    code = "offset_gap"

    def __init__(self, stream: str, offset: int, expected_offset: int) -> None:
        super().__init__(
            f"stream {stream!r} has {expected_offset} bytes; a chunk at offset {offset} would "
            f"leave a gap: send the bytes from offset {expected_offset}",
            stream=stream,
            offset=offset,
            expected_offset=expected_offset,
        )


class OverlapMismatch(Conflict):
    code = "overlap_mismatch"

    def __init__(self, stream: str, first_difference: int) -> None:
        super().__init__(
            f"stream {stream!r} holds other bytes at offset {first_difference} than this "
            "chunk resends there; bytes already stored are never rewritten",
            stream=stream,
            first_difference=first_difference,
        )


class LeaseHeld(Conflict):
    """A heartbeat from a worker other than the one the run is leased to: it may not
    take the run over (the holder's lease goes on, or lapses and the run is ended)."""

    code = "lease_held"

    def __init__(self, run: str, worker: str, holder: str) -> None:
        super().__init__(
            f"run {run!r} is leased to worker {holder!r}, not to {worker!r}",
            run=run,
            worker=worker,
            holder=holder,
        )


class NotLeased(Conflict):
    """A heartbeat for a run no worker leased (one `logmetrics run` or a client
    started): such a run has no lease to extend, and a heartbeat cannot give it one."""

    code = "not_leased"

    def __init__(self, run: str, worker: str) -> None:
        super().__init__(
            f"run {run!r} has no lease: it was not started by a worker, so {worker!r} "
            "cannot send its heartbeats",
            run=run,
            worker=worker,
        )


class ChunkStored(Conflict):
    """Raised by storage for a shipper's chunk whose digest (its bytes and time) the
    stream already holds: an earlier try of its batch stored it. Ingest answers it as
    stored; no client sees it."""

    code = "chunk_stored"


class RunAwaitsAttempt(Conflict):
    """Logs, a heartbeat or an end for a run whose attempt it is not: the run waits for
    its next attempt (no worker holds it), or the sender's attempt has ended and another
    holds it. The sender's work no longer counts."""

    code = "run_awaits_attempt"


class StreamMoved(Conflict):
    """Raised by storage when a stream's next_offset changed since it was read.

    Ingest retries on it; a client only sees it if the stream keeps moving under it.
    """

    code = "stream_moved"


class DefinitionsChanged(StreamMoved):
    """Raised by storage when a chunk was parsed with definitions older than those its
    run's points now come from (a re-parse reached the run meanwhile), or with those of
    a job deleted since it was read (another process may have created one of its name).

    Ingest reads the job again and parses the chunk again; clients never see it.
    """


class InvalidInput(LogmetricsError):
    code = "invalid_input"


class InvalidMetricDefinition(InvalidInput):
    code = "invalid_metric_definition"


class InvalidObjective(InvalidInput):
    code = "invalid_objective"


class InvalidRunSpec(InvalidInput):
    code = "invalid_run"


class InvalidWebhook(InvalidInput):
    """A webhook's URL the service will not call. The message names the reason, never
    the URL: it is a secret, and error bodies end up in logs."""

    code = "invalid_webhook"


class ChunkTooLarge(LogmetricsError):
    code = "chunk_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"a log chunk may hold at most {limit} bytes; send the log in smaller chunks",
            limit=limit,
        )


class Unauthenticated(LogmetricsError):
    code = "unauthenticated"


class Forbidden(LogmetricsError):
    code = "forbidden"
