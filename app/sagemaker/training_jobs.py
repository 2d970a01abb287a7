"""SageMaker's training job operations: Create, Describe, List and Stop TrainingJob, and
ListTrainingJobsForHyperParameterTuningJob, answered from logmetrics' jobs and runs.

A training job is a run, named by the run's name alone: SageMaker's names are unique in
an account, logmetrics' only within a job, so a name two jobs' runs share is refused. A
training job CreateTrainingJob made is a job of one run of the same name
(`training_definitions`); until a worker starts that run it is the job alone, described
as SageMaker describes a training job that is Starting. Each operation takes the
request's JSON (already checked against the model's input shape) and the request's
region, and returns the output shape's JSON. Domain errors are left to the face's
boundary (`app.aws.endpoint`), which answers them as SageMaker does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.errors import JobExists, JobNotFound, RunNotFound
from app.jobs import job_spec
from app.objective import Strategy
from app.parsing import LogFormat
from app.records import Job, JobState, JobStatus, ObjectiveType, Run, RunStatus, StopCause
from app.sagemaker import paging
from app.sagemaker.errors import invalid, training_job_exists, training_job_not_found
from app.sagemaker.shapes import (
    Arns,
    created_with,
    hyperparameter_training_job_summary,
    secondary_status,
    training_definition,
    training_status,
)
from app.sagemaker.training_definitions import (
    NO_METRIC,
    check_input_channels,
    created_training_job,
    metric_definitions,
    output_data_config,
    resource_config,
    stopping_condition,
    training_job_definition,
    training_job_search,
)
from app.sagemaker.tuning_jobs import tuning_job
from app.storage import Storage
from app.tuning.tuner import Tuner, search_of

__all__ = ["FoundTrainingJob", "TrainingJobs"]

_STOPPED_BY_REQUEST = "stopped by StopTrainingJob"
# Members of CreateTrainingJob that ask for what logmetrics does not do; refused rather
# than accepted and ignored.
_UNSUPPORTED = ("ServerlessJobConfig", "ModelPackageConfig")
# Members a training job's description echoes as they were given (by CreateTrainingJob,
# or in a tuning job's TrainingJobDefinition). Most are kept and not acted on.
_ECHOED = (
    "InputDataConfig",
    "VpcConfig",
    "CheckpointConfig",
    "DebugHookConfig",
    "DebugRuleConfigurations",
    "ProfilerConfig",
    "ProfilerRuleConfigurations",
    "TensorBoardOutputConfig",
    "ExperimentConfig",
    "RetryStrategy",
    "RemoteDebugConfig",
    "InfraCheckConfig",
    "MlflowConfig",
)
# Runs that ended with a model: their worker uploads it before it completes them.
_WITH_MODEL = (RunStatus.COMPLETED, RunStatus.STOPPED)
# SageMaker's secondary statuses' messages, which the SDK prints (and indexes) as a job
# goes on.
_STARTING_MESSAGE = "Preparing the instances for training"
_TRAINING_MESSAGE = "Training image download completed. Training in progress."
# A training job CreateTrainingJob made whose run has not started: its job's status.
_BEFORE_ITS_RUN = {
    JobStatus.IN_PROGRESS: ("InProgress", "Starting"),
    JobStatus.STOPPING: ("Stopping", "Stopping"),
    JobStatus.STOPPED: ("Stopped", "Stopped"),
    JobStatus.FAILED: ("Failed", "Failed"),
    JobStatus.COMPLETED: ("Completed", "Completed"),
}


@dataclass(frozen=True)
class FoundTrainingJob:
    """A training job: its job, and its run (None while a job CreateTrainingJob made
    waits for a worker to start it)."""

    job: Job
    run: Run | None

    @property
    def name(self) -> str:
        return self.run.name if self.run is not None else self.job.name

    @property
    def request(self) -> Mapping[str, Any] | None:
        """The CreateTrainingJob request it was made by; None for a tuning job's."""
        return created_training_job(created_with(search_of(self.job)))

    def arn(self, account: str, region: str) -> str:
        # One CreateTrainingJob made keeps the region it was created in.
        stored = created_with(search_of(self.job)).get("Region") if self.request else None
        arns = Arns(account, str(stored or region))
        if self.run is not None:
            return arns.training_job(self.run)
        return _arn(account, arns.region, self.job.name)


class TrainingJobs:
    """The runs of every job, as training jobs; CreateTrainingJob makes a job of one."""

    def __init__(self, storage: Storage, tuner: Tuner, account: str) -> None:
        self._storage = storage
        self._tuner = tuner
        self._account = account

    def create(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        name = body["TrainingJobName"]
        for unsupported in _UNSUPPORTED:
            if unsupported in body:
                raise invalid(f"logmetrics does not support {unsupported}.")
        algorithm = body.get("AlgorithmSpecification")
        if algorithm is None or not (
            algorithm.get("TrainingImage") or algorithm.get("AlgorithmName")
        ):
            raise invalid(
                "AlgorithmSpecification with a TrainingImage or an AlgorithmName is required."
            )
        check_input_channels(body)
        arn = _arn(self._account, region, name)
        if self._storage.jobs_with_run(name):
            raise training_job_exists(arn)
        definition = training_job_definition(body)
        definitions = metric_definitions(algorithm)
        # A job ranks its runs by an objective; a training job has none. Its first metric
        # definition serves (the job's one run is ranked alone, so the direction does not
        # matter), or, with none, NO_METRIC, which never has a point.
        objective = (definitions or [NO_METRIC])[0]
        spec = job_spec(
            name=name,
            objective_metric=objective.name,
            objective_type=ObjectiveType.MINIMIZE.value,
            strategy=Strategy.LATEST.value,  # as AMT: a training job's last value
            definitions=definitions or [NO_METRIC],
            # SageMaker's regexes are written against CloudWatch's rendering of lines.
            log_format=LogFormat.CLOUDWATCH,
            environment=body.get("Environment", {}),
            search=training_job_search(body, definition, region),
        )
        try:
            self._storage.create_job(spec)
        except JobExists:
            # A tuning job's name, or another training job CreateTrainingJob made.
            raise training_job_exists(arn) from None
        return {"TrainingJobArn": arn}

    def describe(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        found = self.find(body["TrainingJobName"])
        job, run, request = found.job, found.run, found.request
        search = search_of(job)
        definition = created_with(search).get("TrainingJobDefinition") or training_definition(
            job, search, self._account
        )
        status, secondary = self._statuses(found)
        # What it was given: a CreateTrainingJob request, or its tuning job's definition.
        given = request if request is not None else definition
        created = job.created_at if request is not None else _run(found).created_at
        described: dict[str, Any] = {
            "TrainingJobName": found.name,
            "TrainingJobArn": found.arn(self._account, region),
            "TrainingJobStatus": status,
            "SecondaryStatus": secondary,
            "HyperParameters": (
                dict(request.get("HyperParameters", {}))
                if request is not None
                else dict(_run(found).hyperparameters)
            ),
            "AlgorithmSpecification": dict(definition["AlgorithmSpecification"]),
            "RoleArn": definition["RoleArn"],
            "OutputDataConfig": output_data_config(definition),
            "ResourceConfig": resource_config(definition),
            "StoppingCondition": stopping_condition(definition),
            "EnableNetworkIsolation": bool(definition.get("EnableNetworkIsolation", False)),
            "EnableInterContainerTrafficEncryption": bool(
                definition.get("EnableInterContainerTrafficEncryption", False)
            ),
            "EnableManagedSpotTraining": bool(definition.get("EnableManagedSpotTraining", False)),
            "CreationTime": created.timestamp(),
            "LastModifiedTime": (
                (run.ended_at or run.created_at) if run is not None else created
            ).timestamp(),
            "Environment": dict(job.environment),
        }
        described.update({key: given[key] for key in _ECHOED if key in given})
        if request is None:
            described["TuningJobArn"] = Arns(self._account, region).tuning_job(job)
        if run is None:
            described["SecondaryStatusTransitions"] = [
                {
                    "Status": "Starting",
                    "StartTime": created.timestamp(),
                    "StatusMessage": _STARTING_MESSAGE,
                }
            ]
            if status != "InProgress":
                described["TrainingEndTime"] = created.timestamp()
            return described
        described.update(self._run_description(run))
        if run.status in _WITH_MODEL:
            output = described["OutputDataConfig"]["S3OutputPath"].rstrip("/")
            described["ModelArtifacts"] = {
                "S3ModelArtifacts": f"{output}/{run.name}/output/model.tar.gz"
            }
        return described

    def _run_description(self, run: Run) -> dict[str, Any]:
        """What a started training job's description has from its run: times, metrics,
        the secondary status's transitions, why it ended."""
        started = run.created_at.timestamp()
        training: dict[str, Any] = {
            "Status": "Training",
            "StartTime": started,
            "StatusMessage": _TRAINING_MESSAGE,
        }
        described: dict[str, Any] = {
            "TrainingStartTime": started,
            "FinalMetricDataList": [
                {"MetricName": m.name, "Value": m.last, "Timestamp": m.last_timestamp.timestamp()}
                for m in run.metrics
                if m.last is not None and m.last_timestamp is not None and math.isfinite(m.last)
            ],
            "SecondaryStatusTransitions": [training],
        }
        if run.ended_at is not None:
            ended = run.ended_at.timestamp()
            described["TrainingEndTime"] = ended
            training["EndTime"] = ended
            # Whole seconds, at least one, as SageMaker bills them.
            seconds = max(1, math.ceil(ended - started))
            described["TrainingTimeInSeconds"] = seconds
            described["BillableTimeInSeconds"] = seconds
            # Why it ended (an early stop's reason, say), where SageMaker's console shows it.
            described["SecondaryStatusTransitions"].append(
                {
                    "Status": secondary_status(run),
                    "StartTime": ended,
                    "StatusMessage": run.failure_reason or "Training job completed",
                }
            )
        if run.failure_reason:
            described["FailureReason"] = run.failure_reason
        return described

    def list(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        found: list[tuple[FoundTrainingJob, JobState]] = []
        for overview in self._storage.list_jobs():
            runs = self._storage.job_runs(overview.job)
            found.extend((FoundTrainingJob(overview.job, run), overview.state) for run in runs)
            if not runs and created_training_job(created_with(search_of(overview.job))):
                found.append((FoundTrainingJob(overview.job, None), overview.state))
        summaries = [
            _training_job_summary(item, state, self._account, region) for item, state in found
        ]
        if body.get("NameContains"):
            summaries = [s for s in summaries if body["NameContains"] in s["TrainingJobName"]]
        if body.get("StatusEquals"):
            summaries = [s for s in summaries if s["TrainingJobStatus"] == body["StatusEquals"]]
        for key, after in (("CreationTimeAfter", True), ("CreationTimeBefore", False)):
            if key in body:
                limit = float(body[key])
                summaries = [s for s in summaries if (s["CreationTime"] > limit) == after]
        keys: dict[str, Callable[[dict[str, Any]], Any]] = {
            "Name": lambda s: s["TrainingJobName"],
            "CreationTime": lambda s: (s["CreationTime"], s["TrainingJobName"]),
            "Status": lambda s: (s["TrainingJobStatus"], s["TrainingJobName"]),
        }
        summaries.sort(
            key=keys[body.get("SortBy", "CreationTime")],
            reverse=body.get("SortOrder", "Descending") == "Descending",
        )
        page, token = paging.page(summaries, body)
        answer: dict[str, Any] = {"TrainingJobSummaries": list(page)}
        if token:
            answer["NextToken"] = token
        return answer

    def list_for_tuning_job(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        job = tuning_job(self._storage, body["HyperParameterTuningJobName"])
        runs = self._storage.job_runs(job)
        if body.get("StatusEquals"):
            runs = [r for r in runs if training_status(r) == body["StatusEquals"]]
        sort_by = body.get("SortBy", "Name")
        descending = body.get("SortOrder", "Ascending") == "Descending"
        if sort_by == "FinalObjectiveMetricValue":
            # As SageMaker: training jobs without an objective value are left out.
            runs = [r for r in runs if r.objective_value is not None]
            runs.sort(key=lambda r: (r.objective_value, r.id), reverse=descending)
        else:
            keys: dict[str, Callable[[Run], Any]] = {
                "Name": lambda r: r.name,
                "CreationTime": lambda r: (r.created_at, r.id),
                "Status": lambda r: (training_status(r), r.name),
            }
            runs.sort(key=keys[sort_by], reverse=descending)
        page, token = paging.page(runs, body)
        arns = Arns(self._account, region)
        answer: dict[str, Any] = {
            "TrainingJobSummaries": [
                hyperparameter_training_job_summary(job, r, arns) for r in page
            ]
        }
        if token:
            answer["NextToken"] = token
        return answer

    def stop(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        found = self.find(body["TrainingJobName"])
        job, run = found.job, found.run
        if run is None:
            # Not started yet: its job starts none now, and is Stopped.
            if self._storage.job_state(job).status is not JobStatus.IN_PROGRESS:
                raise invalid(f"The training job {job.name!r} has already ended.")
            self._tuner.stop_job(job)
            return {}
        if run.status is not RunStatus.IN_PROGRESS:
            raise invalid(f"The training job {run.name!r} has already ended ({run.status.value}).")
        self._storage.request_stop(job, run.name, _STOPPED_BY_REQUEST, StopCause.JOB_STOPPED)
        return {}

    def find(self, name: str) -> FoundTrainingJob:
        """The training job of that name: a run of some job, or a job CreateTrainingJob
        made whose run has not started.

        Raises: SageMakerError (ValidationException: none, or two jobs' runs of that
            name), RunNotFound.
        """
        holders = self._storage.jobs_with_run(name)
        if len(holders) > 1:
            raise invalid(
                f"{len(holders)} tuning jobs ({', '.join(holders[:5])}) have a training job "
                f"named {name!r}; this API cannot tell them apart"
            )
        if not holders:
            return self._not_started(name)
        try:
            job = self._storage.get_job(holders[0])
        except JobNotFound:
            # Deleted since it was found, and its runs with it.
            raise RunNotFound(holders[0], name) from None
        return FoundTrainingJob(job, self._storage.get_run(job, name))

    def _not_started(self, name: str) -> FoundTrainingJob:
        """A job CreateTrainingJob made that has no run yet. Raises: SageMakerError."""
        try:
            job = self._storage.get_job(name)
        except JobNotFound:
            raise training_job_not_found(name) from None
        found = FoundTrainingJob(job, None)
        if found.request is None:
            raise training_job_not_found(name)  # a tuning job's name
        return found

    def _statuses(self, found: FoundTrainingJob) -> tuple[str, str]:
        """TrainingJobStatus and SecondaryStatus."""
        if found.run is not None:
            return training_status(found.run), secondary_status(found.run)
        return _BEFORE_ITS_RUN[self._storage.job_state(found.job).status]


def _arn(account: str, region: str, name: str) -> str:
    # Arns.training_job's, for a training job that has no run yet (Arns takes a run).
    return f"arn:aws:sagemaker:{region}:{account}:training-job/{name}"


def _run(found: FoundTrainingJob) -> Run:
    """The run of a training job of a tuning job, which always has one."""
    assert found.run is not None, "a tuning job's training jobs are its runs"
    return found.run


def _training_job_summary(
    found: FoundTrainingJob, state: JobState, account: str, region: str
) -> dict[str, Any]:
    """A TrainingJobSummary, as ListTrainingJobs lists it."""
    run = found.run
    created: datetime = (
        found.job.created_at if found.request is not None else _run(found).created_at
    )
    if run is not None:
        status, secondary = training_status(run), secondary_status(run)
        modified = run.ended_at or run.created_at
    else:
        status, secondary = _BEFORE_ITS_RUN[state.status]
        modified = state.ended_at or created
    summary: dict[str, Any] = {
        "TrainingJobName": found.name,
        "TrainingJobArn": found.arn(account, region),
        "CreationTime": created.timestamp(),
        "LastModifiedTime": modified.timestamp(),
        "TrainingJobStatus": status,
        "SecondaryStatus": secondary,
    }
    if run is not None and run.ended_at is not None:
        summary["TrainingEndTime"] = run.ended_at.timestamp()
    return summary
