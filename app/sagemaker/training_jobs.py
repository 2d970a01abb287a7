"""SageMaker's training job operations: Describe, List and Stop TrainingJob, and
ListTrainingJobsForHyperParameterTuningJob, answered from logmetrics' runs.

A training job is a run, named by the run's name alone: SageMaker's names are unique in
an account, logmetrics' only within a job, so a name two jobs' runs share is refused. Each
operation takes the request's JSON (already checked against the model's input shape) and
the request's region, and returns the output shape's JSON. Domain errors are left to the
face's boundary (`app.sagemaker.api`), which answers them as SageMaker does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from app.errors import JobNotFound, RunNotFound
from app.records import Job, Run, RunStatus, StopCause
from app.sagemaker import paging
from app.sagemaker.errors import invalid, training_job_not_found
from app.sagemaker.shapes import (
    Arns,
    created_with,
    hyperparameter_training_job_summary,
    secondary_status,
    training_definition,
    training_status,
)
from app.storage import Storage
from app.tuning.tuner import search_of

__all__ = ["TrainingJobs"]

_STOPPED_BY_REQUEST = "stopped by StopTrainingJob"


class TrainingJobs:
    """The runs of every job, as training jobs."""

    def __init__(self, storage: Storage, account: str) -> None:
        self._storage = storage
        self._account = account

    def describe(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        job, run = self._run(body["TrainingJobName"])
        search = search_of(job)
        definition = created_with(search).get("TrainingJobDefinition") or training_definition(
            job, search, self._account
        )
        arns = Arns(self._account, region)
        described: dict[str, Any] = {
            "TrainingJobName": run.name,
            "TrainingJobArn": arns.training_job(run),
            "TuningJobArn": arns.tuning_job(job),
            "ModelArtifacts": {
                "S3ModelArtifacts": f"{definition['OutputDataConfig']['S3OutputPath'].rstrip('/')}"
                f"/{run.name}/output/model.tar.gz"
            },
            "TrainingJobStatus": training_status(run),
            "SecondaryStatus": secondary_status(run),
            "HyperParameters": dict(run.hyperparameters),
            "AlgorithmSpecification": {
                k: v
                for k, v in definition["AlgorithmSpecification"].items()
                if k in ("TrainingImage", "AlgorithmName", "TrainingInputMode", "MetricDefinitions")
            },
            "RoleArn": definition["RoleArn"],
            "OutputDataConfig": definition["OutputDataConfig"],
            "StoppingCondition": definition.get("StoppingCondition", {}),
            "CreationTime": run.created_at.timestamp(),
            "TrainingStartTime": run.created_at.timestamp(),
            "LastModifiedTime": (run.ended_at or run.created_at).timestamp(),
            "FinalMetricDataList": [
                {"MetricName": m.name, "Value": m.last, "Timestamp": m.last_timestamp.timestamp()}
                for m in run.metrics
                if m.last is not None and m.last_timestamp is not None and math.isfinite(m.last)
            ],
            "Environment": dict(job.environment),
        }
        for key in ("ResourceConfig", "InputDataConfig"):
            if key in definition:
                described[key] = definition[key]
        training: dict[str, Any] = {"Status": "Training", "StartTime": run.created_at.timestamp()}
        described["SecondaryStatusTransitions"] = [training]
        if run.ended_at is not None:
            described["TrainingEndTime"] = run.ended_at.timestamp()
            training["EndTime"] = run.ended_at.timestamp()
            # Why it ended (an early stop's reason, say), where SageMaker's console shows it.
            described["SecondaryStatusTransitions"].append(
                {
                    "Status": secondary_status(run),
                    "StartTime": run.ended_at.timestamp(),
                    "StatusMessage": run.failure_reason or "Training job completed",
                }
            )
        if run.failure_reason:
            described["FailureReason"] = run.failure_reason
        return described

    def list(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        found = [
            (job, run)
            for o in self._storage.list_jobs()
            for job in [o.job]
            for run in self._storage.job_runs(job)
        ]
        if body.get("NameContains"):
            found = [(j, r) for j, r in found if body["NameContains"] in r.name]
        if body.get("StatusEquals"):
            found = [(j, r) for j, r in found if training_status(r) == body["StatusEquals"]]
        for key, after in (("CreationTimeAfter", True), ("CreationTimeBefore", False)):
            if key in body:
                limit = float(body[key])
                found = [(j, r) for j, r in found if (r.created_at.timestamp() > limit) == after]
        keys: dict[str, Callable[[tuple[Job, Run]], Any]] = {
            "Name": lambda item: item[1].name,
            "CreationTime": lambda item: (item[1].created_at, item[1].id),
            "Status": lambda item: (training_status(item[1]), item[1].name),
        }
        found.sort(
            key=keys[body.get("SortBy", "CreationTime")],
            reverse=body.get("SortOrder", "Descending") == "Descending",
        )
        page, token = paging.page(found, body)
        arns = Arns(self._account, region)
        answer: dict[str, Any] = {
            "TrainingJobSummaries": [_training_job_summary(run, arns) for _job, run in page]
        }
        if token:
            answer["NextToken"] = token
        return answer

    def list_for_tuning_job(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        job = self._storage.get_job(body["HyperParameterTuningJobName"])
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
        job, run = self._run(body["TrainingJobName"])
        if run.status is not RunStatus.IN_PROGRESS:
            raise invalid(f"The training job {run.name!r} has already ended ({run.status.value}).")
        self._storage.request_stop(job, run.name, _STOPPED_BY_REQUEST, StopCause.JOB_STOPPED)
        return {}

    def _run(self, name: str) -> tuple[Job, Run]:
        """The training job of that name, and its tuning job.

        Raises: SageMakerError, RunNotFound.
        """
        holders = self._storage.jobs_with_run(name)
        if len(holders) > 1:
            raise invalid(
                f"{len(holders)} tuning jobs ({', '.join(holders[:5])}) have a training job "
                f"named {name!r}; this API cannot tell them apart"
            )
        if not holders:
            raise training_job_not_found(name)
        try:
            job = self._storage.get_job(holders[0])
        except JobNotFound:
            # Deleted since it was found, and its runs with it.
            raise RunNotFound(holders[0], name) from None
        return job, self._storage.get_run(job, name)


def _training_job_summary(run: Run, arns: Arns) -> dict[str, Any]:
    """A TrainingJobSummary, as ListTrainingJobs lists it."""
    summary: dict[str, Any] = {
        "TrainingJobName": run.name,
        "TrainingJobArn": arns.training_job(run),
        "CreationTime": run.created_at.timestamp(),
        "LastModifiedTime": (run.ended_at or run.created_at).timestamp(),
        "TrainingJobStatus": training_status(run),
        "SecondaryStatus": secondary_status(run),
    }
    if run.ended_at is not None:
        summary["TrainingEndTime"] = run.ended_at.timestamp()
    return summary
