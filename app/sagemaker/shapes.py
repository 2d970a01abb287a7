"""AMT's shapes, translated to and from logmetrics' own records.

One model, two faces: a tuning job is a job with a search (`SearchSpec`), its training jobs
are its runs. A tuning job created here keeps the request's shapes in its search
(`created_with`) and is described from them; a job made through `/v1` is described from what
it has (`tuning_config`, `training_definition`). Everything here is pure: records in, JSON
shapes out, or the request's shapes in and the search out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.objective import job_counters, objective_status
from app.protocol.ranges import parse_integer, parse_number
from app.protocol.search import SearchSpec
from app.records import Job, JobOverview, Run, RunStatus
from app.sagemaker.errors import invalid
from app.tuning.tuner import search_of

__all__ = [
    "Arns",
    "created_with",
    "hyperparameter_training_job_summary",
    "is_training_job",
    "resource_limits",
    "search_spec",
    "secondary_status",
    "training_definition",
    "training_status",
    "tuning_config",
    "tuning_job_summary",
    "validated_search",
    "warm_start_config",
]

# The strategy shown for a job made through `/v1` without a search.
_NO_SEARCH_STRATEGY = "Random"


@dataclass(frozen=True)
class Arns:
    """The ARNs an answer names: the service's account, in the request's region."""

    account: str
    region: str

    def tuning_job(self, job: Job) -> str:
        # A tuning job created here keeps the region it was created in.
        region = str(created_with(search_of(job)).get("Region") or self.region)
        return f"arn:aws:sagemaker:{region}:{self.account}:hyper-parameter-tuning-job/{job.name}"

    def training_job(self, run: Run) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account}:training-job/{run.name}"


def created_with(search: SearchSpec | None) -> Mapping[str, Any]:
    """The shapes a tuning job was created with here (HyperParameterTuningJobConfig,
    TrainingJobDefinition, Region, WarmStartConfig); empty for a job made through `/v1`."""
    return (search.sagemaker or {}) if search else {}


def is_training_job(job: Job) -> bool:
    """Whether the job is a lone training job (CreateTrainingJob's), which the tuning
    job operations answer as no tuning job at all."""
    search = search_of(job)
    return search is not None and search.trains_one_job()


def warm_start_config(search: SearchSpec | None) -> dict[str, Any] | None:
    """A warm-started job's WarmStartConfig: as given here, or as `/v1` was given it."""
    if search is None or search.warm_start is None:
        return None
    given = created_with(search).get("WarmStartConfig")
    if given is not None:
        return dict(given)
    return {
        "ParentHyperParameterTuningJobs": [
            {"HyperParameterTuningJobName": name} for name in search.warm_start.parents
        ],
        "WarmStartType": search.warm_start.type.value,
    }


# The request: AMT's shapes to the search.


def search_spec(
    config: Mapping[str, Any],
    definition: Mapping[str, Any],
    region: str,
    warm_start: Mapping[str, Any] | None = None,
) -> SearchSpec:
    """The search a CreateHyperParameterTuningJob asks for.

    Args:
        config: its HyperParameterTuningJobConfig.
        definition: its TrainingJobDefinition.
        region: the request's, kept for the tuning job's ARN.
        warm_start: its WarmStartConfig, if any.

    Raises: SageMakerError (ValidationException) for a search the domain refuses.
    """
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
        "random_seed": config.get("RandomSeed"),
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
    if warm_start is not None:
        raw["warm_start"] = dict(warm_start)
        raw["sagemaker"]["WarmStartConfig"] = dict(warm_start)
    return validated_search(raw, "config")


def validated_search(raw: Mapping[str, Any], whole: str) -> SearchSpec:
    """The search `raw` describes, each problem named by its place in it (`whole` names
    the top). Raises: SageMakerError (ValidationException), for a search the domain
    refuses."""
    try:
        return SearchSpec.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or whole}: {error['msg']}"
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


# The answer: the domain's records as AMT's shapes.


def tuning_config(job: Job, search: SearchSpec | None, overview: JobOverview) -> dict[str, Any]:
    """The HyperParameterTuningJobConfig of a job made through `/v1`."""
    config: dict[str, Any] = {
        "Strategy": search.strategy.value if search else _NO_SEARCH_STRATEGY,
        "HyperParameterTuningJobObjective": {
            "Type": job.objective_type,
            "MetricName": job.objective_metric,
        },
        "ResourceLimits": resource_limits(search, overview),
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


def resource_limits(search: SearchSpec | None, overview: JobOverview) -> dict[str, Any]:
    """ResourceLimits: the search's, or as many training jobs as a job without one has."""
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


def training_definition(job: Job, search: SearchSpec | None, account: str) -> dict[str, Any]:
    """The TrainingJobDefinition of a job made through `/v1`: what it has."""
    definition: dict[str, Any] = {
        "AlgorithmSpecification": {
            "TrainingInputMode": "File",
            "AlgorithmName": "logmetrics",
            "MetricDefinitions": [
                {"Name": d.name, "Regex": d.regex} for d in job.metric_definitions
            ],
        },
        "RoleArn": f"arn:aws:iam::{account}:role/logmetrics",
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


def tuning_job_summary(overview: JobOverview, arns: Arns) -> dict[str, Any]:
    """A HyperParameterTuningJobSummary (with ResourceLimits and Strategy, which
    DescribeHyperParameterTuningJob leaves out)."""
    job, state = overview.job, overview.state
    search = search_of(job)
    counters = job_counters(overview)
    updated = state.ended_at or state.completed_at
    summary: dict[str, Any] = {
        "HyperParameterTuningJobName": job.name,
        "HyperParameterTuningJobArn": arns.tuning_job(job),
        "HyperParameterTuningJobStatus": state.status.value,
        "Strategy": search.strategy.value if search else _NO_SEARCH_STRATEGY,
        "CreationTime": job.created_at.timestamp(),
        "LastModifiedTime": (updated or job.created_at).timestamp(),
        "TrainingJobStatusCounters": {
            "Completed": counters.completed,
            "InProgress": counters.in_progress,
            "RetryableError": counters.retryable_error,
            "NonRetryableError": counters.failed,
            "Stopped": counters.stopped,
        },
        "ObjectiveStatusCounters": {
            "Succeeded": counters.objective_succeeded,
            "Pending": counters.objective_pending,
            "Failed": counters.objective_failed,
        },
        "ResourceLimits": resource_limits(search, overview),
    }
    if state.ended_at is not None:
        summary["HyperParameterTuningEndTime"] = state.ended_at.timestamp()
    return summary


def hyperparameter_training_job_summary(job: Job, run: Run, arns: Arns) -> dict[str, Any]:
    """A HyperParameterTrainingJobSummary: a run as one training job of its tuning job."""
    search = search_of(job)
    tuned = set(search.parameter_ranges.names()) if search else set()
    summary: dict[str, Any] = {
        "TrainingJobName": run.name,
        "TrainingJobArn": arns.training_job(run),
        "TuningJobName": job.name,
        "CreationTime": run.created_at.timestamp(),
        "TrainingStartTime": run.created_at.timestamp(),
        "TrainingJobStatus": training_status(run),
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
    return summary


def training_status(run: Run) -> str:
    """TrainingJobStatus: the run's status, or Stopping once a stop was asked of it."""
    if run.status is RunStatus.IN_PROGRESS and run.stop_reason is not None:
        return "Stopping"
    return run.status.value


def secondary_status(run: Run) -> str:
    """SecondaryStatus: Training, Stopping, MaxRuntimeExceeded, or the run's status."""
    if run.status is RunStatus.IN_PROGRESS:
        return "Stopping" if run.stop_reason is not None else "Training"
    if run.status is RunStatus.STOPPED and (run.failure_reason or "").startswith(
        "MaxRuntimeExceeded"
    ):
        return "MaxRuntimeExceeded"
    return run.status.value
