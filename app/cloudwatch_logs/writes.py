"""CloudWatch Logs' write operations: CreateLogGroup, CreateLogStream and PutLogEvents,
whose events go to the run their stream names, taken in as any chunk is (`Intake.take`).

Where events go:
  - `/aws/sagemaker/TrainingJobs`, stream `<training job>/algo-1-<start>` (the name the
    read side gives it): that training job's run, its stdout.
  - `/logmetrics/<job>`, stream `<run>` (its stdout) or `<run>/<stream>`: that run, which
    must exist, or, in a job without a search, is created (`Intake.open_run`).
Groups are never created: a job needs metric definitions, which only `/v1` and SageMaker
take. A group or stream that exists answers ResourceAlreadyExistsException, which
shippers take as success.

Retries. A shipper that times out sends the same batch again. A batch is stored as its
chunks (`app.cloudwatch_logs.batches`); before storing, the stream's last stored chunks
are compared with the batch's first ones, bytes and time: those that match were stored
by an earlier try and are not stored, counted or parsed again. Each chunk is written at
the offset where the stream ended when it was read, so two tries of one batch in flight
at once (in any two processes sharing the database) store it once: the second finds the
first's bytes there (`Ingestor.append`'s resent overlap). A retry that comes after
another batch reached the stream is not recognised, and is stored again.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.cloudwatch_logs.batches import Batch, Piece, read_batch
from app.cloudwatch_logs.errors import LogsError, already_exists, invalid_parameter
from app.cloudwatch_logs.events import milliseconds
from app.cloudwatch_logs.streams import (
    JOB_GROUP_PREFIX,
    SAGEMAKER_GROUP,
    Streams,
    is_sagemaker_job,
)
from app.errors import JobNotFound, OverlapMismatch, RunNotFound, StreamMoved, StreamNotFound
from app.intake import Intake
from app.records import Job
from app.storage import Storage

__all__ = ["LogsWriter"]

_ATTEMPTS = 20
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A run's stream as `/v1` names one (`?stream=`).
_STREAM_NAME_MAX = 255


@dataclass(frozen=True)
class Target:
    """Where a CloudWatch Logs stream's events go: a run's stream."""

    job: Job
    run: str
    stream: str


class LogsWriter:
    """The write operations, by the names `LogsOperations.handlers` serves them under."""

    def __init__(self, storage: Storage, intake: Intake, streams: Streams) -> None:
        self._storage = storage
        self._intake = intake
        self._streams = streams

    def create_log_group(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        """Answer that a group exists, or why it cannot be made: groups come with jobs."""
        group = body["logGroupName"]
        if group == SAGEMAKER_GROUP:
            raise already_exists("log group")
        if not group.startswith(JOB_GROUP_PREFIX):
            raise invalid_parameter(
                f"logmetrics serves the log groups {SAGEMAKER_GROUP} (SageMaker training "
                f"jobs) and {JOB_GROUP_PREFIX}<job> (every other job), not {group!r}."
            )
        name = group.removeprefix(JOB_GROUP_PREFIX)
        try:
            job = self._storage.get_job(name)
        except JobNotFound:
            raise invalid_parameter(
                f"There is no job {name!r}, and CreateLogGroup makes none: a job's log group "
                "is made with the job (POST /v1/jobs with its metric definitions, or "
                "SageMaker's CreateHyperParameterTuningJob or CreateTrainingJob)."
            ) from None
        if is_sagemaker_job(job):
            raise invalid_parameter(
                f"Job {name!r} was made through SageMaker: its training jobs' logs are in "
                f"{SAGEMAKER_GROUP}."
            )
        raise already_exists("log group")

    def create_log_stream(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        """Make the run a job group's stream names (`Intake.open_run`), if it is new."""
        group, name = body["logGroupName"], body["logStreamName"]
        if group == SAGEMAKER_GROUP:
            try:
                self._streams.stream(group, name)
            except LogsError:
                raise invalid_parameter(
                    f"No training job has the stream {name!r}: a training job's stream "
                    "(<training job>/algo-1-<start>) is made when it starts."
                ) from None
            raise already_exists("log stream")
        job = self._streams.job_of_group(group)
        run, _stream = _run_and_stream(name)
        try:
            self._storage.get_run(job, run)
        except RunNotFound:
            self._intake.open_run(job, run)
            return {}
        # Every stream of a run that exists is there with it.
        raise already_exists("log stream")

    def put_log_events(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        """Append the batch's events, one line each, to the run its stream names."""
        # The batch is judged first: a refused one makes no run either.
        batch = read_batch(body["logEvents"], milliseconds(datetime.now(UTC)))
        target = self._target(body["logGroupName"], body["logStreamName"])
        length = self._store(target, batch) if batch.pieces else self._tail(target, 0)[0]
        # sequenceToken is ignored, as CloudWatch Logs has ignored it since 2023; the
        # token answered (the stream's length) is for shippers that still send one back.
        answer: dict[str, Any] = {"nextSequenceToken": str(length)}
        rejected = batch.rejected_info()
        if rejected:
            answer["rejectedLogEventsInfo"] = rejected
        return answer

    def _target(self, group: str, name: str) -> Target:
        """Where the stream's events go; in a job's group, its run opened.

        Raises: LogsError (ResourceNotFoundException, InvalidParameterException),
            RunNotFound, JobEnded, InvalidInput (as `Intake.open_run`).
        """
        if group == SAGEMAKER_GROUP:
            found = self._streams.stream(group, name)
            return Target(found.job, found.run.name, "stdout")
        job = self._streams.job_of_group(group)
        run, stream = _run_and_stream(name)
        self._intake.open_run(job, run)
        return Target(job, run, stream)

    def _store(self, target: Target, batch: Batch) -> int:
        """Store the batch's chunks an earlier try did not; returns the stream's length
        after them. Raises: as `Intake.take`; StreamMoved if other writes kept landing."""
        done, position = self._stored_before(target, batch.pieces)
        for piece in batch.pieces[done:]:
            for _ in range(_ATTEMPTS):
                try:
                    self._intake.take(
                        target.job,
                        target.run,
                        target.stream,
                        piece.data,
                        position,
                        _EPOCH + timedelta(milliseconds=piece.timestamp),
                    )
                    break
                except OverlapMismatch:
                    # Another batch reached the stream since it was read: this chunk goes
                    # after it.
                    position = self._tail(target, 0)[0]
            else:
                raise StreamMoved(f"stream {target.stream!r} kept moving; send the batch again")
            # Not the stream's length: another try of this batch may have stored the
            # chunks after this one too, and they must be found where this try puts them.
            position += len(piece.data)
        return position

    def _tail(self, target: Target, size: int) -> tuple[int, bytes]:
        """The stream's length and its last `size` bytes (0 and none for a new stream)."""
        try:
            found = self._storage.read_log(target.job, target.run, target.stream, tail=size)
        except StreamNotFound:
            return 0, b""
        return found.length, b"".join(found.pieces)

    def _stored_before(self, target: Target, pieces: tuple[Piece, ...]) -> tuple[int, int]:
        """How many of the batch's first chunks are the stream's last stored chunks,
        bytes and time (an earlier try of the batch stored them), and where the stream
        ends after them.

        The stream's last bytes are compared first; only when they could be such chunks
        are the stored chunks and their times read (the run's whole log: a cost paid by
        a retry, or a batch that repeats the stream's last lines, not by every batch).
        Both answers come from that one read, never from the bytes read before it: a try
        in flight may have stored more of the batch in between.
        """
        # Views, not copies: a batch is up to a MiB, and there are up to 100 heads of it.
        data = memoryview(b"".join(piece.data for piece in pieces))
        length, tail = self._tail(target, len(data))
        stored_tail = memoryview(tail)
        ends = list(itertools.accumulate(len(piece.data) for piece in pieces))
        if not any(
            end <= len(tail) and stored_tail[len(tail) - end :] == data[:end] for end in ends
        ):
            return 0, length
        log = self._storage.read_run_log(target.job, target.run)
        stored = sorted(
            (chunk for chunk in log.chunks if chunk.stream == target.stream),
            key=lambda chunk: chunk.offset,
        )
        end = stored[-1].offset + len(stored[-1].data) if stored else 0
        for count in range(min(len(pieces), len(stored)), 0, -1):
            if all(
                chunk.data == piece.data and milliseconds(chunk.timestamp) == piece.timestamp
                for chunk, piece in zip(stored[-count:], pieces[:count], strict=True)
            ):
                return count, end
        return 0, end


def _run_and_stream(name: str) -> tuple[str, str]:
    """A job group's stream name as its run and the run's stream: `<run>` is its stdout.

    Raises: LogsError (InvalidParameterException) for a stream `/v1` would refuse.
    """
    run, slash, stream = name.partition("/")
    if not slash:
        return run, "stdout"
    if not (
        0 < len(stream) <= _STREAM_NAME_MAX
        and stream[0].isascii()
        and stream[0].isalnum()
        and all(c.isascii() and (c.isalnum() or c in "._/-") for c in stream)
    ):
        raise invalid_parameter(
            f"Log stream {name[:300]!r} is not <run> or <run>/<stream>, the stream 1 to "
            f"{_STREAM_NAME_MAX} letters, digits, '.', '_', '/' and '-', starting with a "
            "letter or digit."
        )
    return run, stream
