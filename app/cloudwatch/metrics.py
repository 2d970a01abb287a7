"""Where every run's stored points are, as CloudWatch names them: metrics.

A metric is a namespace, a name and a set of dimensions (name and value pairs); its
datapoints are the points of one run's metric, each at its chunk's time. A run of a job
made through the SageMaker API is a training job, and its metrics are where SageMaker
publishes an algorithm's metrics: namespace `/aws/sagemaker/TrainingJobs`, each metric
twice, with the dimension `TrainingJobName=<training job>` (which the SageMaker SDK's
`TrainingJobAnalytics` asks for) and with `Host=<training job>/algo-1` (SageMaker's
per-instance dimension; a training job here runs on one host). Every other job is a
namespace of its own, `/logmetrics/<job>` (as its log group is named), each metric with
the dimension `RunName=<run>`. A metric is listed once its run has a point of it.
Nothing is copied: points are read from the storage when asked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from app.errors import JobNotFound, RunNotFound
from app.records import Job, Run
from app.storage import Storage
from app.tuning.tuner import is_sagemaker_job

__all__ = [
    "HOST",
    "JOB_NAMESPACE_PREFIX",
    "RUN_NAME",
    "SAGEMAKER_NAMESPACE",
    "TRAINING_JOB_NAME",
    "Dimensions",
    "Metric",
    "Metrics",
    "Sample",
]

SAGEMAKER_NAMESPACE = "/aws/sagemaker/TrainingJobs"
JOB_NAMESPACE_PREFIX = "/logmetrics/"
TRAINING_JOB_NAME = "TrainingJobName"
HOST = "Host"
RUN_NAME = "RunName"
_HOST_SUFFIX = "/algo-1"
# The last second a datetime holds (9999-12-31T23:59:59Z).
_LATEST = 253402300799.0

Dimensions = tuple[tuple[str, str], ...]
"""A metric's dimensions as (name, value) pairs, sorted by name."""


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric, and the run whose points of `name` are its datapoints.

    `last_at` is the time of the run's last point of it (None if it has none yet).
    """

    namespace: str
    name: str
    dimensions: Dimensions
    job: Job
    run: str
    last_at: datetime | None


@dataclass(frozen=True)
class Sample:
    """A point as CloudWatch sees it: a value at a time (seconds since the epoch)."""

    time: float
    value: float


class Metrics:
    """The metrics of every job, read from one storage."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def listed(self, namespace: str | None = None) -> list[Metric]:
        """Every metric that has a point (of one namespace, if given), in no set order."""
        if namespace is not None and namespace.startswith(JOB_NAMESPACE_PREFIX):
            job = self._job(namespace.removeprefix(JOB_NAMESPACE_PREFIX))
            jobs = [job] if job is not None and not is_sagemaker_job(job) else []
        elif namespace is None or namespace == SAGEMAKER_NAMESPACE:
            jobs = [overview.job for overview in self._storage.list_jobs()]
        else:
            jobs = []
        found = []
        for job in jobs:
            sagemaker = is_sagemaker_job(job)
            if namespace == SAGEMAKER_NAMESPACE and not sagemaker:
                continue
            for run in self._runs(job):
                for summary in run.metrics:
                    if summary.count > 0:
                        found += _metrics_of(job, run.name, summary.name, summary.last_timestamp)
        return found

    def matching(self, namespace: str, name: str, dimensions: Dimensions) -> list[Metric]:
        """The metrics whose namespace, name and dimensions are exactly these (CloudWatch's
        rule: a dimension more or less is another metric), whether or not they have points
        yet; more than one only where jobs' runs share a training job's name."""
        by_name = dict(dimensions)
        if len(by_name) != 1 or len(dimensions) != 1:
            return []
        found = []
        for job, run in self._runs_named(namespace, by_name):
            found += [
                metric
                for metric in _metrics_of(job, run, name, None)
                if metric.namespace == namespace and metric.dimensions == dimensions
            ]
        return found

    def samples(self, metric: Metric, start: float, end: float) -> list[Sample]:
        """The metric's points from `start` up to `end` (seconds since the epoch), by time,
        read by time where they are stored (never the run's whole series).

        A point whose value is not finite (nan, inf: CloudWatch holds none) is left out,
        as is everything of a run deleted while it is read.
        """
        try:
            found = self._storage.metric_values(
                metric.job, metric.run, metric.name, _moment(start), _moment(end)
            )
        except (RunNotFound, JobNotFound):
            return []
        return [Sample(time, value) for time, value in found if math.isfinite(value)]

    def _runs_named(self, namespace: str, dimension: dict[str, str]) -> list[tuple[Job, str]]:
        """The (job, run) pairs a namespace and its one dimension can name."""
        if namespace == SAGEMAKER_NAMESPACE:
            training_job = dimension.get(TRAINING_JOB_NAME)
            host = dimension.get(HOST, "")
            if training_job is None and host.endswith(_HOST_SUFFIX):
                training_job = host.removesuffix(_HOST_SUFFIX)
            if not training_job:
                return []
            jobs = (self._job(holder) for holder in self._storage.jobs_with_run(training_job))
            return [
                (job, training_job) for job in jobs if job is not None and is_sagemaker_job(job)
            ]
        if namespace.startswith(JOB_NAMESPACE_PREFIX) and RUN_NAME in dimension:
            job = self._job(namespace.removeprefix(JOB_NAMESPACE_PREFIX))
            if job is not None and not is_sagemaker_job(job):
                return [(job, dimension[RUN_NAME])]
        return []

    def _job(self, name: str) -> Job | None:
        try:
            return self._storage.get_job(name)
        except JobNotFound:
            return None

    def _runs(self, job: Job) -> list[Run]:
        """The job's runs with their metric summaries (those deleted meanwhile left out)."""
        found = []
        try:
            runs = self._storage.job_runs(job)
        except JobNotFound:
            return []
        for run in runs:
            try:
                found.append(self._storage.get_run(job, run.name))
            except (RunNotFound, JobNotFound):
                continue
        return found


def _moment(seconds: float) -> datetime:
    """Seconds since the epoch as a time, held within what a datetime holds."""
    return datetime.fromtimestamp(min(max(seconds, 0.0), _LATEST), UTC)


def _metrics_of(job: Job, run: str, name: str, last_at: datetime | None) -> list[Metric]:
    """The metrics one run's points of `name` are."""
    if is_sagemaker_job(job):
        return [
            Metric(SAGEMAKER_NAMESPACE, name, ((HOST, run + _HOST_SUFFIX),), job, run, last_at),
            Metric(SAGEMAKER_NAMESPACE, name, ((TRAINING_JOB_NAME, run),), job, run, last_at),
        ]
    return [Metric(JOB_NAMESPACE_PREFIX + job.name, name, ((RUN_NAME, run),), job, run, last_at)]
