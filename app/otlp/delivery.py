"""A batch's lines taken in by their runs: each chunk through `Intake.take`, as `/v1`'s
chunk route does, so a line gives the same points whichever face brought it.

A record is refused, and the others kept, when it names a job that does not exist, a
search's run that does not exist, a run or job that has ended, or (for a run token)
another run than the token's. A run that does not exist in a job without a search is
created, as `Intake.open_run` says. Once a chunk of a run's stream is refused, the
stream's later chunks in the request are too: lines are never stored out of order.

Retries. An exporter that times out, or is answered 429 or 503, sends the same request
again. Before a run's stream's chunks are stored, the stream's last stored chunks are
compared with the request's first ones, bytes and time: those that match were stored by
an earlier try and are not stored, counted or parsed again. Each chunk is written at the
offset where the stream ended when it was read, so two tries of one request in flight at
once (in any two processes sharing the database) store it once: the second finds the
first's bytes there (`Ingestor.append`'s resent overlap). A retry that comes after other
lines reached the stream is not recognised and is stored again, and so is a chunk of
records without a time (its time is its arrival's, never the same twice). This is how
CloudWatch Logs' PutLogEvents recognises its retries (`app.cloudwatch_logs.writes`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from app.auth import Action, Principal, Role
from app.errors import LogmetricsError, OverlapMismatch, StreamMoved, StreamNotFound
from app.intake import Intake
from app.otlp.records import Batch, Piece, StreamLines
from app.records import Job
from app.storage import Storage

__all__ = ["Delivered", "deliver"]

_ATTEMPTS = 20
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
        writer = _StreamWriter(storage, intake, job, lines)
        try:
            writer.store()
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
    """Stores a request's lines of one run's stream, chunks an earlier try stored left
    out; `stored` counts the records stored (or found stored) so far."""

    def __init__(self, storage: Storage, intake: Intake, job: Job, lines: StreamLines) -> None:
        self._storage, self._intake, self._job, self._lines = storage, intake, job, lines
        self.stored = 0

    def store(self) -> None:
        """Raises: as `Intake.take`; StreamMoved if other writes kept landing."""
        pieces = self._lines.pieces
        position, tail = self._tail(sum(len(piece.data) for piece in pieces))
        done = self._stored_before(pieces, tail)
        self.stored = sum(piece.records for piece in pieces[:done])
        for piece in pieces[done:]:
            for _ in range(_ATTEMPTS):
                try:
                    self._intake.take(
                        self._job,
                        self._lines.run,
                        self._lines.stream,
                        piece.data,
                        position,
                        piece.timestamp,
                    )
                    break
                except OverlapMismatch:
                    # Other lines reached the stream since it was read: these go after.
                    position = self._tail(0)[0]
            else:
                raise StreamMoved(f"stream {self._lines.stream!r} kept moving; send again")
            # Not the stream's length: another try of this request may have stored the
            # chunks after this one too, and they must be found where this try puts them.
            position += len(piece.data)
            self.stored += piece.records

    def _tail(self, size: int) -> tuple[int, bytes]:
        """The stream's length and its last `size` bytes (0 and none for a new stream)."""
        try:
            found = self._storage.read_log(
                self._job, self._lines.run, self._lines.stream, tail=size
            )
        except StreamNotFound:
            return 0, b""
        return found.length, b"".join(found.pieces)

    def _stored_before(self, pieces: tuple[Piece, ...], tail: bytes) -> int:
        """How many of the first pieces are the stream's last stored chunks, bytes and
        time: an earlier try of the request stored them.

        The stored bytes are compared first; only when they match are the stored chunks
        and their times read (the run's whole log, a cost paid by a retry or a request
        that repeats the stream's last lines, not by every request).
        """
        data = memoryview(b"".join(piece.data for piece in pieces))
        stored_tail = memoryview(tail)
        ends = list(itertools.accumulate(len(piece.data) for piece in pieces))
        counts = [
            count
            for count in range(len(pieces), 0, -1)
            if ends[count - 1] <= len(tail)
            and stored_tail[len(tail) - ends[count - 1] :] == data[: ends[count - 1]]
        ]
        if not counts:
            return 0
        log = self._storage.read_run_log(self._job, self._lines.run)
        stored = sorted(
            (chunk for chunk in log.chunks if chunk.stream == self._lines.stream),
            key=lambda chunk: chunk.offset,
        )
        for count in counts:
            last = stored[-count:]
            if len(last) == count and all(
                piece.timestamp is not None
                and chunk.data == piece.data
                and chunk.timestamp == piece.timestamp
                for chunk, piece in zip(last, pieces[:count], strict=True)
            ):
                return count
        return 0
