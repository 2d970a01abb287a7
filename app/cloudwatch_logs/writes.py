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
chunks (`app.cloudwatch_logs.batches`) by `Intake.take_batch`, each with its digest (its
bytes and time): a chunk the stream holds already is not stored again, whenever the
retry comes and whatever came in between, and tries in flight at once in any processes
store it once. A stream that keeps moving under other writes is a 503
ServiceUnavailableException, which shippers retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.cloudwatch_logs.batches import Batch, read_batch
from app.cloudwatch_logs.errors import LogsError, already_exists, invalid_parameter
from app.cloudwatch_logs.events import milliseconds
from app.cloudwatch_logs.streams import JOB_GROUP_PREFIX, SAGEMAKER_GROUP, Streams
from app.errors import JobNotFound, RunNotFound
from app.intake import Intake, TimedChunk
from app.records import STREAM_NAME_RULE, Job, is_stream_name
from app.storage import Storage
from app.tuning.tuner import is_sagemaker_job

__all__ = ["LogsWriter"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
        length = (
            self._store(target, batch)
            if batch.pieces
            else self._intake.stream_length(target.job, target.run, target.stream)
        )
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
        """Store the batch's chunks an earlier try did not (`Intake.take_batch`); returns
        the stream's length after them. Raises: as `Intake.take_batch`."""
        chunks = [
            TimedChunk(piece.data, _EPOCH + timedelta(milliseconds=piece.timestamp))
            for piece in batch.pieces
        ]
        # The stream's length after each chunk; the last is after the batch.
        *_, length = self._intake.take_batch(target.job, target.run, target.stream, chunks)
        return length


def _run_and_stream(name: str) -> tuple[str, str]:
    """A job group's stream name as its run and the run's stream: `<run>` is its stdout.

    Raises: LogsError (InvalidParameterException) for a stream `/v1` would refuse.
    """
    run, slash, stream = name.partition("/")
    if not slash:
        return run, "stdout"
    if not is_stream_name(stream):
        raise invalid_parameter(
            f"Log stream {name[:300]!r} is not <run> or <run>/<stream>, the stream "
            f"{STREAM_NAME_RULE}."
        )
    return run, stream
