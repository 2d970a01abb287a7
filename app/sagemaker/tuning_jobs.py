"""SageMaker's tuning job operations: Create, Describe, List, Stop and Delete
HyperParameterTuningJob, answered from logmetrics' jobs.

Each operation takes the request's JSON (already checked against the model's input shape)
and the request's region, and returns the output shape's JSON. Domain errors are left to
the face's boundary (`app.aws.endpoint`), which answers them as SageMaker does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.errors import JobNotFound
from app.jobs import OBJECTIVE_HYPERPARAMETER, check_warm_start, job_spec
from app.objective import ObjectiveType, Strategy, qualifying_statuses
from app.parsing import LogFormat, MetricDefinition
from app.protocol.search import SearchSpec, WarmStartType
from app.records import Job, JobOverview, JobStatus, Run
from app.sagemaker import paging
from app.sagemaker.errors import invalid
from app.sagemaker.shapes import (
    Arns,
    created_with,
    hyperparameter_training_job_summary,
    is_training_job,
    search_spec,
    training_definition,
    tuning_config,
    tuning_job_summary,
    warm_start_config,
)
from app.sagemaker.training_definitions import check_input_channels
from app.storage import Storage
from app.tuning.tuner import Tuner, search_of

__all__ = ["TuningJobs", "tuning_job"]

_UNSUPPORTED = ("Autotune", "TrainingJobDefinitions")


def tuning_job(storage: Storage, name: str) -> Job:
    """The tuning job so named. Raises: JobNotFound, for a lone training job too."""
    job = storage.get_job(name)
    if is_training_job(job):
        raise JobNotFound(name)
    return job


class TuningJobs:
    """A tuning job is a job with a search; one made through `/v1` is one too."""

    def __init__(self, storage: Storage, tuner: Tuner, account: str) -> None:
        self._storage = storage
        self._tuner = tuner
        self._account = account

    def create(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        config = body["HyperParameterTuningJobConfig"]
        definition = body.get("TrainingJobDefinition")
        for unsupported in _UNSUPPORTED:
            if body.get(unsupported) is not None:
                raise invalid(f"logmetrics does not support {unsupported} (yet).")
        if definition is None:
            raise invalid(
                "TrainingJobDefinition is required (logmetrics runs one training job "
                "definition per tuning job; TrainingJobDefinitions is not supported)"
            )
        check_input_channels(definition)
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
        spec = job_spec(
            name=body["HyperParameterTuningJobName"],
            objective_metric=objective["MetricName"],
            objective_type=objective["Type"],
            strategy=Strategy.LATEST.value,  # AMT: a training job's last value
            definitions=definitions,
            # SageMaker's regexes are written against CloudWatch's rendering of lines.
            log_format=LogFormat.CLOUDWATCH,
            environment=definition.get("Environment", {}),
            search=search_spec(config, definition, region, body.get("WarmStartConfig")),
        )
        check_warm_start(self._storage, spec)
        job = self._storage.create_job(spec)
        return {"HyperParameterTuningJobArn": Arns(self._account, region).tuning_job(job)}

    def describe(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        job = tuning_job(self._storage, body["HyperParameterTuningJobName"])
        overview = self._storage.job_overview(job)
        search = search_of(job)
        given = created_with(search)
        definition = dict(
            given.get("TrainingJobDefinition") or training_definition(job, search, self._account)
        )
        # AMT shows the objective's hyperparameter among the static ones (the SageMaker
        # SDK's HyperparameterTuner.attach removes it from there).
        definition["StaticHyperParameters"] = {
            **definition.get("StaticHyperParameters", {}),
            OBJECTIVE_HYPERPARAMETER: job.objective_metric,
        }
        config = dict(
            given.get("HyperParameterTuningJobConfig") or tuning_config(job, search, overview)
        )
        # What AMT fills in when the request leaves it out, and the seed drawn for it.
        config.setdefault("TrainingJobEarlyStoppingType", "Off")
        if search is not None and search.random_seed is not None:
            config.setdefault("RandomSeed", search.random_seed)
        config["ParameterRanges"] = {
            "IntegerParameterRanges": [],
            "ContinuousParameterRanges": [],
            "CategoricalParameterRanges": [],
            **config.get("ParameterRanges", {}),
        }
        arns = Arns(self._account, region)
        described: dict[str, Any] = {
            **tuning_job_summary(overview, arns),
            "HyperParameterTuningJobConfig": config,
            "TrainingJobDefinition": definition,
        }
        described.pop("ResourceLimits", None)
        described.pop("Strategy", None)
        best = overview.best_run
        if best is not None and best.objective_value is not None:
            described["BestTrainingJob"] = hyperparameter_training_job_summary(job, best, arns)
        warm = warm_start_config(search)
        if warm is not None:
            described["WarmStartConfig"] = warm
            overall = self._overall_best(job, search, best)
            if overall is not None:
                described["OverallBestTrainingJob"] = hyperparameter_training_job_summary(
                    *overall, arns
                )
        state = overview.state
        if state.reason and state.status is not JobStatus.IN_PROGRESS:
            # A job in progress may have a reason too (its runs wait for GPUs): no failure.
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

    def list(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        overviews = [o for o in self._storage.list_jobs() if not is_training_job(o.job)]
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
        keys: dict[str, Callable[[JobOverview], Any]] = {
            "Name": lambda o: o.job.name,
            "Status": lambda o: o.state.status.value,
            "CreationTime": lambda o: o.job.created_at,
        }
        overviews.sort(
            key=keys[body.get("SortBy", "CreationTime")],
            reverse=body.get("SortOrder", "Descending") == "Descending",
        )
        page, token = paging.page(overviews, body)
        arns = Arns(self._account, region)
        answer: dict[str, Any] = {
            "HyperParameterTuningJobSummaries": [tuning_job_summary(o, arns) for o in page]
        }
        if token:
            answer["NextToken"] = token
        return answer

    def stop(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        self._tuner.stop_job(tuning_job(self._storage, body["HyperParameterTuningJobName"]))
        return {}

    def delete(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        job = tuning_job(self._storage, body["HyperParameterTuningJobName"])
        status = self._storage.job_state(job).status
        if status in (JobStatus.IN_PROGRESS, JobStatus.STOPPING):
            raise invalid(
                f"The hyperparameter tuning job {job.name!r} is {status.value}: stop it, "
                "and let it end, before deleting it."
            )
        self._storage.delete_job(job)
        return {}

    def _overall_best(
        self, job: Job, search: SearchSpec | None, best: Run | None
    ) -> tuple[Job, Run] | None:
        """AMT's OverallBestTrainingJob of an IdenticalDataAndAlgorithm child: the best
        run of the child and its parents (a parent deleted since is passed over)."""
        if search is None or search.warm_start is None:
            return None
        if search.warm_start.type is not WarmStartType.IDENTICAL_DATA_AND_ALGORITHM:
            return None
        found = [(job, best)]
        for name in search.warm_start.parents:
            try:
                parent = self._storage.get_job(name)
            except JobNotFound:
                continue
            found.append((parent, self._storage.best_run(parent, qualifying_statuses(False))))
        ranked = [(j, r) for j, r in found if r is not None and r.objective_value is not None]
        if not ranked:
            return None
        sign = 1 if job.objective_type is ObjectiveType.MAXIMIZE else -1
        # The first of equals wins: the child's own, then its parents' in the order named.
        return max(ranked, key=lambda pair: sign * (pair[1].objective_value or 0.0))
