"""A batch's lines taken in by their runs: each chunk through `Intake.take`, as `/v1`'s
chunk route does, so a line gives the same points whichever face brought it.

A record is refused, and the others kept, when it names a job that does not exist, a
search's run that does not exist, a run or job that has ended, or (for a run token)
another run than the token's. A run that does not exist in a job without a search is
created, as `Intake.open_run` says. Once a chunk of a run's stream is refused, the
stream's later chunks in the request are too: lines are never stored out of order.

Retries. An exporter that times out, or is answered 429 or 503, sends the same request
again. A run's stream's chunks are stored by `Intake.take_batch`, with their digests: a
chunk the stream holds already (bytes and time) is not stored again, whenever the retry
comes, so a retried request counts once; a chunk of records without a time (its time is
its arrival's) is stored again. A stream that keeps moving under other writes makes the
whole request a 503 (`Unavailable`), which exporters send again, rather than a partial
success they would not.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.auth import Action, Principal, Role
from app.errors import LogmetricsError, StreamMoved
from app.intake import Intake, TimedChunk
from app.otlp.errors import Unavailable
from app.otlp.records import Batch, StreamLines
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
    """Take `batch`'s lines in, stream by stream, and count the records refused.

    Blocking: run it off the event loop.

    Args:
        principal: the caller (None when access control is off); a read token is
            refused before this is called.

    Returns: the records refused and why; every other record is stored.

    Raises: only what the storage raises unexpectedly (a domain error refuses records).
    """
    refused: dict[str, int] = {reason.reason: reason.records for reason in batch.unplaced}
    opened: dict[tuple[str, str], Job | str] = {}  # a run's job, or why it takes nothing
    for lines in batch.streams:
        run = (lines.job, lines.run)
        if run not in opened:
            opened[run] = _open(lines.job, lines.run, principal, storage, intake)
        job = opened[run]
        if isinstance(job, str):
            refused[job] = refused.get(job, 0) + lines.records
            continue
        writer = _StreamWriter(intake, job, lines)
        try:
            writer.store()
        except StreamMoved as exc:
            # Worth sending again (503), as OTLP's exporters do: what this request stored
            # is known again by its chunks' digests and stored once.
            raise Unavailable(exc.message) from exc
        except LogmetricsError as exc:
            where = f"run {lines.run[:100]!r} of job {lines.job[:100]!r}"
            reason = f"{where}, stream {lines.stream!r}: {exc.message}"
            refused[reason] = refused.get(reason, 0) + lines.records - writer.stored
    return Delivered(
        batch.records,
        sum(refused.values()),
        tuple(
            f"{count} {'record' if count == 1 else 'records'}: {reason[:_REASON_CHARS]}"
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


class _StreamWriter:
    """Stores a request's lines of one run's stream (`Intake.take_batch`: chunks an
    earlier try stored left out); `stored` counts the records stored, or found stored,
    so far."""

    def __init__(self, intake: Intake, job: Job, lines: StreamLines) -> None:
        self._intake, self._job, self._lines = intake, job, lines
        self.stored = 0

    def store(self) -> None:
        """Raises: as `Intake.take_batch`."""
        pieces = self._lines.pieces
        chunks = [TimedChunk(piece.data, piece.timestamp) for piece in pieces]
        taken = self._intake.take_batch(self._job, self._lines.run, self._lines.stream, chunks)
        for piece, _length in zip(pieces, taken, strict=True):
            self.stored += piece.records
