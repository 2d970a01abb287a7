"""SageMaker's tuning operations, answered from logmetrics' own jobs and runs.

One model, two faces: a tuning job is a job with a search, its training jobs are its
runs; jobs made through `/v1` show here too, and jobs made here show in `/v1`. Each
operation takes the request's JSON (already checked against the model's input shape) and
returns the output shape's JSON. Domain errors are left to the face's boundary
(`app.sagemaker.api`), which answers them as SageMaker does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from app.errors import JobNotFound, RunNotFound
from app.jobs import OBJECTIVE_HYPERPARAMETER, job_spec
from app.objective import ObjectiveStatus, Strategy, job_counters, objective_status
from app.parsing import LogFormat, MetricDefinition
from app.protocol.search import SearchSpec, parse_integer, parse_number
from app.records import Job, JobOverview, JobStatus, Run, RunStatus, StopCause
from app.sagemaker import paging
from app.sagemaker.errors import invalid, training_job_not_found
from app.storage import Storage
from app.tuning.tuner import Tuner, search_of

__all__ = ["SageMakerOperations"]

_STOPPED_BY_REQUEST = "stopped by StopTrainingJob"


class SageMakerOperations:
    def __init__(self, storage: Storage, tuner: Tuner, account: str) -> None:
        self._storage = storage
        self._tuner = tuner
        self._account = account
        self.handlers: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
            "CreateHyperParameterTuningJob": self.create_tuning_job,
            "DescribeHyperParameterTuningJob": self.describe_tuning_job,
            "ListHyperParameterTuningJobs": self.list_tuning_jobs,
            "StopHyperParameterTuningJob": self.stop_tuning_job,
            "DeleteHyperParameterTuningJob": self.delete_tuning_job,
            "ListTrainingJobsForHyperParameterTuningJob": self.list_training_jobs_for_tuning_job,
            "DescribeTrainingJob": self.describe_training_job,
            "ListTrainingJobs": self.list_training_jobs,
            "StopTrainingJob": self.stop_training_job,
        }

    # Tuning jobs.

    def create_tuning_job(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        name = body["HyperParameterTuningJobName"]
        config = body["HyperParameterTuningJobConfig"]
        definition = body.get("TrainingJobDefinition")
        for unsupported in ("WarmStartConfig", "Autotune", "TrainingJobDefinitions"):
            if body.get(unsupported) is not None:
                raise invalid(f"logmetrics does not support {unsupported} (yet).")
        if definition is None:
            raise invalid(
                "TrainingJobDefinition is required (logmetrics runs one training job "
                "definition per tuning job; TrainingJobDefinitions is not supported)"
            )
        objective = config.get("HyperParameterTuningJobObjective")
        if objective is None:
            raise invalid("HyperParameterTuningJobObjective is required.")
        algorithm = definition["AlgorithmSpecification"]
        definitions = [
            MetricDefinition(d["Name"], d["Regex"]) for d in algorithm.get("MetricDefinitions", [])
        ]
        if objective["MetricName"] not in {d.name for d in definitions}:
            raise invalid(
                "A metric is required for this hyperparameter tuning job objective. "
                "Provide a metric in the metric definitions."
            )
        search = _search(body, config, definition, region)
        spec = job_spec(
            name=name,
            objective_metric=objective["MetricName"],
            objective_type=objective["Type"],
            strategy=Strategy.LATEST.value,  # AMT: a training job's last value
            definitions=definitions,
            # SageMaker's regexes are written against CloudWatch's rendering of lines.
            log_format=LogFormat.CLOUDWATCH,
            environment=definition.get("Environment", {}),
            search=search,
        )
        job = self._storage.create_job(spec)
        return {"HyperParameterTuningJobArn": self._tuning_arn(job, region)}

    def describe_tuning_job(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        job = self._job(body["HyperParameterTuningJobName"])
        overview = self._storage.job_overview(job)
        search = search_of(job)
        given = (search.sagemaker or {}) if search else {}
        definition = dict(given.get("TrainingJobDefinition") or self._definition(job, search))
        # AMT shows the objective's hyperparameter among the static ones (the SageMaker
        # SDK's HyperparameterTuner.attach removes it from there).
        definition["StaticHyperParameters"] = {
            **definition.get("StaticHyperParameters", {}),
            OBJECTIVE_HYPERPARAMETER: job.objective_metric,
        }
        config = dict(given.get("HyperParameterTuningJobConfig") or _config(job, search, overview))
        # What AMT fills in when the request leaves it out.
        config.setdefault("TrainingJobEarlyStoppingType", "Off")
        config["ParameterRanges"] = {
            "IntegerParameterRanges": [],
            "ContinuousParameterRanges": [],
            "CategoricalParameterRanges": [],
            **config.get("ParameterRanges", {}),
        }
        described: dict[str, Any] = {
            **self._summary(overview, region),
            "HyperParameterTuningJobConfig": config,
            "TrainingJobDefinition": definition,
        }
        described.pop("ResourceLimits", None)
        described.pop("Strategy", None)
        best = overview.best_run
        if best is not None and best.objective_value is not None:
            described["BestTrainingJob"] = self._training_summary(job, best, region)
        state = overview.state
        if state.reason:
            described["FailureReason"] = state.reason
        if state.completion is not None and state.completed_at is not None:
            details: dict[str, Any] = {}
            if state.completion[0] == "ConvergenceDetected":
                details["ConvergenceDetectedTime"] = state.completed_at.timestamp()
            if state.completion[0] == "BestObjectiveNotImproving" and search is not None:
                patience = search.completion_criteria.best_objective_not_improving
                if patience is not None:
                    details["NumberOfTrainingJobsObjectiveNotImproving"] = (
                        patience.max_number_of_training_jobs_not_improving
                    )
            described["TuningJobCompletionDetails"] = details
        return described

    def list_tuning_jobs(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        overviews = self._storage.list_jobs()
        wanted = body.get("NameContains")
        if wanted:
            overviews = [o for o in overviews if wanted in o.job.name]
        if body.get("StatusEquals"):
            overviews = [o for o in overviews if o.state.status.value == body["StatusEquals"]]
        for key, after in (("CreationTimeAfter", True), ("CreationTimeBefore", False)):
            if key in body:
                limit = float(body[key])
                overviews = [
                    o for o in overviews if (o.job.created_at.timestamp() > limit) == after
                ]
        sort_by = body.get("SortBy", "CreationTime")
        keys: dict[str, Callable[[JobOverview], Any]] = {
            "Name": lambda o: o.job.name,
            "Status": lambda o: o.state.status.value,
            "CreationTime": lambda o: o.job.created_at,
        }
        overviews.sort(
            key=keys[sort_by], reverse=body.get("SortOrder", "Descending") == "Descending"
        )
        page, token = paging.page(overviews, body)
        answer: dict[str, Any] = {
            "HyperParameterTuningJobSummaries": [self._summary(o, region) for o in page]
        }
        if token:
            answer["NextToken"] = token
        return answer

    def stop_tuning_job(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        self._tuner.stop_job(self._job(body["HyperParameterTuningJobName"]))
        return {}

    def delete_tuning_job(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        job = self._job(body["HyperParameterTuningJobName"])
        status = self._storage.job_state(job).status
        if status in (JobStatus.IN_PROGRESS, JobStatus.STOPPING):
            raise invalid(
                f"The hyperparameter tuning job {job.name!r} is {status.value}: stop it, "
                "and let it end, before deleting it."
            )
        self._storage.delete_job(job)
        return {}

    # Training jobs.

    def list_training_jobs(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        found = [
            (job, run)
            for o in self._storage.list_jobs()
            for job in [o.job]
            for run in self._storage.job_runs(job)
        ]
        if body.get("NameContains"):
            found = [(j, r) for j, r in found if body["NameContains"] in r.name]
        if body.get("StatusEquals"):
            found = [(j, r) for j, r in found if _training_status(r) == body["StatusEquals"]]
        for key, after in (("CreationTimeAfter", True), ("CreationTimeBefore", False)):
            if key in body:
                limit = float(body[key])
                found = [(j, r) for j, r in found if (r.created_at.timestamp() > limit) == after]
        keys: dict[str, Callable[[tuple[Job, Run]], Any]] = {
            "Name": lambda item: item[1].name,
            "CreationTime": lambda item: (item[1].created_at, item[1].id),
            "Status": lambda item: (_training_status(item[1]), item[1].name),
        }
        found.sort(
            key=keys[body.get("SortBy", "CreationTime")],
            reverse=body.get("SortOrder", "Descending") == "Descending",
        )
        page, token = paging.page(found, body)
        summaries = []
        for _job, run in page:
            summary: dict[str, Any] = {
                "TrainingJobName": run.name,
                "TrainingJobArn": self._training_arn(run, region),
                "CreationTime": run.created_at.timestamp(),
                "LastModifiedTime": (run.ended_at or run.created_at).timestamp(),
                "TrainingJobStatus": _training_status(run),
                "SecondaryStatus": _secondary_status(run),
            }
            if run.ended_at is not None:
                summary["TrainingEndTime"] = run.ended_at.timestamp()
            summaries.append(summary)
        answer: dict[str, Any] = {"TrainingJobSummaries": summaries}
        if token:
            answer["NextToken"] = token
        return answer

    def list_training_jobs_for_tuning_job(
        self, body: dict[str, Any], region: str
    ) -> dict[str, Any]:
        job = self._job(body["HyperParameterTuningJobName"])
        runs = self._storage.job_runs(job)
        if body.get("StatusEquals"):
            runs = [r for r in runs if _training_status(r) == body["StatusEquals"]]
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
                "Status": lambda r: (_training_status(r), r.name),
            }
            runs.sort(key=keys[sort_by], reverse=descending)
        page, token = paging.page(runs, body)
        answer: dict[str, Any] = {
            "TrainingJobSummaries": [self._training_summary(job, r, region) for r in page]
        }
        if token:
            answer["NextToken"] = token
        return answer

    def describe_training_job(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        job, run = self._run(body["TrainingJobName"])
        search = search_of(job)
        definition = ((search.sagemaker or {}) if search else {}).get("TrainingJobDefinition")
        definition = definition or self._definition(job, search)
        status = _training_status(run)
        described: dict[str, Any] = {
            "TrainingJobName": run.name,
            "TrainingJobArn": self._training_arn(run, region),
            "TuningJobArn": self._tuning_arn(job, region),
            "ModelArtifacts": {
                "S3ModelArtifacts": f"{definition['OutputDataConfig']['S3OutputPath'].rstrip('/')}"
                f"/{run.name}/output/model.tar.gz"
            },
            "TrainingJobStatus": status,
            "SecondaryStatus": _secondary_status(run),
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
                    "Status": _secondary_status(run),
                    "StartTime": run.ended_at.timestamp(),
                    "StatusMessage": run.failure_reason or "Training job completed",
                }
            )
        if run.failure_reason:
            described["FailureReason"] = run.failure_reason
        return described

    def stop_training_job(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        job, run = self._run(body["TrainingJobName"])
        if run.status is not RunStatus.IN_PROGRESS:
            raise invalid(f"The training job {run.name!r} has already ended ({run.status.value}).")
        self._storage.request_stop(job, run.name, _STOPPED_BY_REQUEST, StopCause.JOB_STOPPED)
        return {}

    # Shapes.

    def _summary(self, overview: JobOverview, region: str) -> dict[str, Any]:
        job, state = overview.job, overview.state
        search = search_of(job)
        counters = job_counters(overview)
        updated = state.ended_at or state.completed_at
        summary: dict[str, Any] = {
            "HyperParameterTuningJobName": job.name,
            "HyperParameterTuningJobArn": self._tuning_arn(job, region),
            "HyperParameterTuningJobStatus": state.status.value,
            "Strategy": search.strategy.value if search else "Random",
            "CreationTime": job.created_at.timestamp(),
            "LastModifiedTime": (updated or job.created_at).timestamp(),
            "TrainingJobStatusCounters": {
                "Completed": counters.completed,
                "InProgress": counters.in_progress,
                "RetryableError": 0,
                "NonRetryableError": counters.failed,
                "Stopped": counters.stopped,
            },
            "ObjectiveStatusCounters": {
                "Succeeded": counters.objective_succeeded,
                "Pending": counters.objective_pending,
                "Failed": counters.objective_failed,
            },
            "ResourceLimits": _limits(search, overview),
        }
        if state.ended_at is not None:
            summary["HyperParameterTuningEndTime"] = state.ended_at.timestamp()
        return summary

    def _training_summary(self, job: Job, run: Run, region: str) -> dict[str, Any]:
        search = search_of(job)
        tuned = set(search.parameter_ranges.names()) if search else set()
        summary: dict[str, Any] = {
            "TrainingJobName": run.name,
            "TrainingJobArn": self._training_arn(run, region),
            "TuningJobName": job.name,
            "CreationTime": run.created_at.timestamp(),
            "TrainingStartTime": run.created_at.timestamp(),
            "TrainingJobStatus": _training_status(run),
            "TunedHyperParameters": {
                k: v for k, v in run.hyperparameters.items() if k in tuned or not search
            },
            "ObjectiveStatus": objective_status(run).value,
        }
        if run.ended_at is not None:
            summary["TrainingEndTime"] = run.ended_at.timestamp()
        if run.failure_reason:
            summary["FailureReason"] = run.failure_reason
        if run.objective_value is not None and math.isfinite(run.objective_value):
            summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
                "Type": job.objective_type,
                "MetricName": job.objective_metric,
                "Value": run.objective_value,
            }
        if objective_status(run) is ObjectiveStatus.FAILED and "ObjectiveStatus" in summary:
            summary["ObjectiveStatus"] = ObjectiveStatus.FAILED.value
        return summary

    def _definition(self, job: Job, search: SearchSpec | None) -> dict[str, Any]:
        """A training job definition for a job made through `/v1`: what it has."""
        definition: dict[str, Any] = {
            "AlgorithmSpecification": {
                "TrainingInputMode": "File",
                "AlgorithmName": "logmetrics",
                "MetricDefinitions": [
                    {"Name": d.name, "Regex": d.regex} for d in job.metric_definitions
                ],
            },
            "RoleArn": f"arn:aws:iam::{self._account}:role/logmetrics",
            "OutputDataConfig": {"S3OutputPath": "s3://logmetrics/output"},
            "StoppingCondition": {},
        }
        if search is not None:
            definition["StaticHyperParameters"] = search.static_text()
            runtime = search.resource_limits.max_runtime_in_seconds
            if runtime:
                definition["StoppingCondition"] = {"MaxRuntimeInSeconds": runtime}
        if job.environment:
            definition["Environment"] = dict(job.environment)
        return definition

    def _job(self, name: str) -> Job:
        return self._storage.get_job(name)

    def _run(self, name: str) -> tuple[Job, Run]:
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

    def _tuning_arn(self, job: Job, region: str) -> str:
        region = _region_of(job, region)
        return f"arn:aws:sagemaker:{region}:{self._account}:hyper-parameter-tuning-job/{job.name}"

    def _training_arn(self, run: Run, region: str) -> str:
        return f"arn:aws:sagemaker:{region}:{self._account}:training-job/{run.name}"


def _search(
    body: Mapping[str, Any], config: Mapping[str, Any], definition: Mapping[str, Any], region: str
) -> SearchSpec:
    ranges = config.get("ParameterRanges", {})
    limits = config.get("ResourceLimits", {})
    criteria = config.get("TuningJobCompletionCriteria", {})
    hyperband = config.get("StrategyConfig", {}).get("HyperbandStrategyConfig", {})
    runtime = limits.get("MaxRuntimeInSeconds") or definition.get("StoppingCondition", {}).get(
        "MaxRuntimeInSeconds"
    )
    algorithm = definition["AlgorithmSpecification"]
    raw = {
        "strategy": config["Strategy"],
        "parameter_ranges": {
            "CategoricalParameterRanges": ranges.get("CategoricalParameterRanges", []),
            "IntegerParameterRanges": [
                _numbers(r, parse_integer) for r in ranges.get("IntegerParameterRanges", [])
            ],
            "ContinuousParameterRanges": [
                _numbers(r, parse_number) for r in ranges.get("ContinuousParameterRanges", [])
            ],
        },
        "static_hyperparameters": definition.get("StaticHyperParameters", {}),
        "resource_limits": {
            "MaxNumberOfTrainingJobs": limits.get("MaxNumberOfTrainingJobs"),
            "MaxParallelTrainingJobs": limits.get("MaxParallelTrainingJobs", 1),
            "MaxRuntimeInSeconds": runtime,
        },
        "random_seed": config.get("RandomSeed", 0),
        "early_stopping": config.get("TrainingJobEarlyStoppingType", "Off"),
        "completion_criteria": {
            key: criteria[key]
            for key in (
                "TargetObjectiveMetricValue",
                "BestObjectiveNotImproving",
                "ConvergenceDetected",
            )
            if key in criteria
        },
        "training_image": algorithm.get("TrainingImage") or algorithm.get("AlgorithmName") or "",
        "sagemaker": {
            "HyperParameterTuningJobConfig": dict(config),
            "TrainingJobDefinition": dict(definition),
            "Region": region,
        },
    }
    if hyperband:
        raw["hyperband"] = hyperband
    try:
        return SearchSpec.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'config'}: {error['msg']}"
            for error in exc.errors()
        )
        raise invalid(problems) from None


def _numbers(given: Mapping[str, Any], parse: Callable[[str], float]) -> dict[str, Any]:
    """A range with its MinValue and MaxValue read as numbers (SageMaker sends strings),
    by the search's own rules: ASCII digits, finite."""
    found = dict(given)
    for key in ("MinValue", "MaxValue"):
        try:
            found[key] = parse(given[key])
        except ValueError as exc:
            raise invalid(f"{given['Name']}: {key} {exc}") from None
    return found


def _config(job: Job, search: SearchSpec | None, overview: JobOverview) -> dict[str, Any]:
    """The tuning config of a job made through `/v1`."""
    config: dict[str, Any] = {
        "Strategy": search.strategy.value if search else "Random",
        "HyperParameterTuningJobObjective": {
            "Type": job.objective_type,
            "MetricName": job.objective_metric,
        },
        "ResourceLimits": _limits(search, overview),
    }
    if search is not None:
        ranges = search.parameter_ranges
        config["ParameterRanges"] = {
            "CategoricalParameterRanges": [
                {"Name": r.name, "Values": list(r.values)} for r in ranges.categorical
            ],
            "IntegerParameterRanges": [
                {
                    "Name": r.name,
                    "MinValue": str(r.min_value),
                    "MaxValue": str(r.max_value),
                    "ScalingType": r.scaling_type.value,
                }
                for r in ranges.integer
            ],
            "ContinuousParameterRanges": [
                {
                    "Name": r.name,
                    "MinValue": repr(r.min_value),
                    "MaxValue": repr(r.max_value),
                    "ScalingType": r.scaling_type.value,
                }
                for r in ranges.continuous
            ],
        }
        config["TrainingJobEarlyStoppingType"] = search.early_stopping.value
        config["RandomSeed"] = search.random_seed
    return config


def _limits(search: SearchSpec | None, overview: JobOverview) -> dict[str, Any]:
    if search is None:
        total = max(1, sum(overview.run_counts.values()))
        return {"MaxNumberOfTrainingJobs": total, "MaxParallelTrainingJobs": total}
    limits: dict[str, Any] = {
        "MaxNumberOfTrainingJobs": search.max_training_jobs(),
        "MaxParallelTrainingJobs": search.resource_limits.max_parallel_training_jobs,
    }
    if search.resource_limits.max_runtime_in_seconds:
        limits["MaxRuntimeInSeconds"] = search.resource_limits.max_runtime_in_seconds
    return limits


def _training_status(run: Run) -> str:
    if run.status is RunStatus.IN_PROGRESS and run.stop_reason is not None:
        return "Stopping"
    return run.status.value


def _secondary_status(run: Run) -> str:
    if run.status is RunStatus.IN_PROGRESS:
        return "Stopping" if run.stop_reason is not None else "Training"
    if run.status is RunStatus.STOPPED and (run.failure_reason or "").startswith(
        "MaxRuntimeExceeded"
    ):
        return "MaxRuntimeExceeded"
    return run.status.value


def _region_of(job: Job, region: str) -> str:
    search = search_of(job)
    kept = (search.sagemaker or {}).get("Region") if search else None
    return str(kept) if kept else region
