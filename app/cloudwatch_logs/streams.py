"""Where every run's stored log is, as CloudWatch Logs names it: log groups and streams.

A run of a job made through the SageMaker API (a tuning job's training job, or a lone
CreateTrainingJob's) is a training job, and its log is where SageMaker puts one: group
`/aws/sagemaker/TrainingJobs`, stream `<training job>/algo-1-<run start, epoch seconds>`,
the run's streams (stdout, stderr) merged as SageMaker's one stream per instance merges
them. Every other job is a group of its own, `/logmetrics/<job>`, with a stream per run
and stream, `<run>/<stream>` (`train-1/stdout`). Nothing is copied: each is read from the
run's stored chunks when asked (`app.cloudwatch_logs.events`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.cloudwatch_logs.errors import log_group_not_found, log_stream_not_found
from app.errors import JobNotFound, RunNotFound
from app.records import Job, Run
from app.storage import Storage
from app.tuning.tuner import is_sagemaker_job

__all__ = [
    "JOB_GROUP_PREFIX",
    "SAGEMAKER_GROUP",
    "LogGroup",
    "LogStream",
    "Streams",
]

SAGEMAKER_GROUP = "/aws/sagemaker/TrainingJobs"
JOB_GROUP_PREFIX = "/logmetrics/"


@dataclass(frozen=True)
class LogGroup:
    name: str
    created_at: datetime | None


@dataclass(frozen=True)
class LogStream:
    """A CloudWatch Logs stream: a run's stored log, or one stream of it.

    `sources` are the run's streams it holds (a SageMaker training job's: all of them);
    `cloudwatch` says whether its lines read as CloudWatch holds SageMaker's (control
    characters as `#ooo`).
    """

    group: str
    name: str
    job: Job
    run: Run
    sources: tuple[str, ...]
    cloudwatch: bool


class Streams:
    """The log groups and streams of every job, read from one storage."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def groups(self) -> list[LogGroup]:
        """Every log group, by name: SageMaker's (always there, as it is in an account
        that has run a training job) and one per other job."""
        jobs = [overview.job for overview in self._storage.list_jobs()]
        sagemaker = [job.created_at for job in jobs if is_sagemaker_job(job)]
        found = [LogGroup(SAGEMAKER_GROUP, min(sagemaker) if sagemaker else None)]
        found += [
            LogGroup(JOB_GROUP_PREFIX + job.name, job.created_at)
            for job in jobs
            if not is_sagemaker_job(job)
        ]
        return sorted(found, key=lambda group: group.name)

    def streams(self, group: str, prefix: str = "") -> list[LogStream]:
        """The group's streams whose names start with `prefix`, by name.

        Raises: LogsError (ResourceNotFoundException) for a group that does not exist.
        """
        if group == SAGEMAKER_GROUP:
            found = [
                self._training_job_stream(job, run) for job, run in self._training_jobs(prefix)
            ]
        else:
            job = self.job_of_group(group)
            # A run without a byte yet (made by CreateLogStream, say) has its stdout.
            found = [
                LogStream(group, f"{run.name}/{source}", job, run, (source,), False)
                for run in self._runs(job)
                for source in [info.name for info in run.streams] or ["stdout"]
            ]
        return sorted(
            (stream for stream in found if stream.name.startswith(prefix)),
            key=lambda stream: stream.name,
        )

    def stream(self, group: str, name: str) -> LogStream:
        """The stream of that name. In a job's group, `<run>` is `<run>/stdout` (where
        PutLogEvents writes a stream named `<run>`), and every stream of a run that
        exists is there, empty until written (as CreateLogStream answers it exists).

        Raises: LogsError (ResourceNotFoundException).
        """
        if group != SAGEMAKER_GROUP and "/" not in name:
            name = f"{name}/stdout"
        for stream in self.streams(group, name):
            if stream.name == name:
                return stream
        if group == SAGEMAKER_GROUP:
            raise log_stream_not_found()
        job = self.job_of_group(group)
        run, _, source = name.partition("/")
        try:
            found = self._storage.get_run(job, run)
        except RunNotFound:
            raise log_stream_not_found() from None
        if not source:
            raise log_stream_not_found()
        return LogStream(group, name, job, found, (source,), False)

    def streams_named(self, group: str, names: Sequence[str]) -> list[LogStream]:
        """The group's streams of those names that exist, by name (FilterLogEvents skips
        a name that is none). Raises: LogsError for a group that does not exist."""
        wanted = set(names)
        return [stream for stream in self.streams(group) if stream.name in wanted]

    def job_of_group(self, group: str) -> Job:
        """The job whose group (`/logmetrics/<job>`) it is.

        Raises: LogsError (ResourceNotFoundException) for any other name, a job that
            does not exist, and a SageMaker job (its logs are in SageMaker's group).
        """
        if not group.startswith(JOB_GROUP_PREFIX):
            raise log_group_not_found()
        try:
            job = self._storage.get_job(group.removeprefix(JOB_GROUP_PREFIX))
        except JobNotFound:
            raise log_group_not_found() from None
        if is_sagemaker_job(job):
            raise log_group_not_found()  # its runs' logs are in SageMaker's group
        return job

    def _training_jobs(self, prefix: str) -> list[tuple[Job, Run]]:
        """Every SageMaker job's started runs; only those of one training job's name when
        the prefix names one (`<job>/`, as the SageMaker SDK asks)."""
        if "/" in prefix:
            name = prefix.split("/", 1)[0]
            jobs = []
            for holder in self._storage.jobs_with_run(name):
                try:
                    jobs.append(self._storage.get_job(holder))
                except JobNotFound:
                    continue  # deleted since it was found
        else:
            jobs = [overview.job for overview in self._storage.list_jobs()]
        return [
            (job, run)
            for job in jobs
            if is_sagemaker_job(job)
            for run in self._runs(job)
            if "/" not in prefix or run.name == prefix.split("/", 1)[0]
        ]

    def _runs(self, job: Job) -> list[Run]:
        """The job's runs with their streams."""
        found = []
        for run in self._storage.job_runs(job):
            try:
                found.append(self._storage.get_run(job, run.name))
            except RunNotFound:
                continue  # deleted since it was listed
        return found

    @staticmethod
    def _training_job_stream(job: Job, run: Run) -> LogStream:
        started = int(run.created_at.timestamp())
        return LogStream(
            SAGEMAKER_GROUP,
            f"{run.name}/algo-1-{started}",
            job,
            run,
            tuple(info.name for info in run.streams),
            True,
        )
