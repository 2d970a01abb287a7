"""A batch's chunks taken in by their runs: each through `Intake.take`, as `/v1`'s chunk
route does, so a line gives the same points whichever face brought it.

A record is refused, and the others kept, when it names a job that does not exist, a
search's run that does not exist, a run or job that has ended, or (for a run token)
another run than the token's. A run that does not exist in a job without a search is
created, as `Intake.open_run` says. Once a chunk of a run's stream is refused, the
stream's later chunks in the request are too: lines are never stored out of order.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.auth import Action, Principal, Role
from app.errors import LogmetricsError
from app.intake import Intake
from app.otlp.records import Batch, RunChunk
from app.records import Job
from app.storage import Storage

__all__ = ["Delivered", "deliver"]

_REASONS_SAID = 10  # an answer's error message names at most this many reasons
_REASON_CHARS = 500
_OWN_RUN_ONLY = "a run token may post only its own run's records"


@dataclass(frozen=True)
class Delivered:
    """What became of a batch's records: how many were refused, and why."""

    records: int
    rejected: int
    reasons: tuple[str, ...]  # "<n> records: <why>", one per reason

    @property
    def error_message(self) -> str:
        """The reasons, as OTLP's partial success carries them ('' when none)."""
        said = "; ".join(self.reasons[:_REASONS_SAID])
        more = len(self.reasons) - _REASONS_SAID
        return f"{said}; and {more} more reasons" if more > 0 else said


def deliver(
    batch: Batch, principal: Principal | None, storage: Storage, intake: Intake
) -> Delivered:
    """Take `batch`'s chunks in, in order, and count the records refused.

    Blocking: run it off the event loop.

    Args:
        principal: the caller (None when access control is off); a read token is
            refused before this is called.

    Returns: the records refused and why; every other record is stored.

    Raises: only what the storage raises unexpectedly (a domain error refuses records).
    """
    refused: dict[str, int] = {reason.reason: reason.records for reason in batch.unplaced}
    stopped: dict[tuple[str, str, str], str] = {}  # a stream's refusal, for its later chunks
    opened: dict[tuple[str, str], Job | str] = {}  # a run's job, or why it takes nothing
    for chunk in batch.chunks:
        stream = (chunk.job, chunk.run, chunk.stream)
        reason = stopped.get(stream)
        if reason is None:
            run = (chunk.job, chunk.run)
            if run not in opened:
                opened[run] = _open(chunk.job, chunk.run, principal, storage, intake)
            job = opened[run]
            reason = job if isinstance(job, str) else _take(job, chunk, intake)
        if reason is not None:
            stopped[stream] = reason
            refused[reason] = refused.get(reason, 0) + chunk.records
    return Delivered(
        batch.records,
        sum(refused.values()),
        tuple(
            f"{count} {_records(count)}: {reason[:_REASON_CHARS]}"
            for reason, count in refused.items()
        ),
    )


def _open(
    job_name: str, run: str, principal: Principal | None, storage: Storage, intake: Intake
) -> Job | str:
    """The run's job if the caller may write the run and it takes lines, else why not."""
    where = f"run {run[:100]!r} of job {job_name[:100]!r}"
    try:
        job = storage.get_job(job_name)
        if principal is not None and principal.role is Role.RUN:
            # Whether another job or run exists is not a run token's business: one answer.
            principal.authorize(Action.INGEST, storage.run_id(job, run))
        else:
            intake.open_run(job, run)
    except LogmetricsError as exc:
        if principal is not None and principal.role is Role.RUN:
            return f"{where}: {_OWN_RUN_ONLY}"
        return f"{where}: {exc.message}"
    return job


def _take(job: Job, chunk: RunChunk, intake: Intake) -> str | None:
    try:
        intake.take(job, chunk.run, chunk.stream, chunk.data, None, chunk.timestamp)
    except LogmetricsError as exc:
        where = f"run {chunk.run[:100]!r} of job {chunk.job[:100]!r}"
        return f"{where}, stream {chunk.stream!r}: {exc.message}"
    return None


def _records(count: int) -> str:
    return "record" if count == 1 else "records"
