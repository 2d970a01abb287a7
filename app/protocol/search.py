"""A tuning job's search, in SageMaker AMT's vocabulary: the strategy, the parameter
ranges, the limits, early stopping, the completion criteria and what a run executes.

Keys are accepted in snake_case and in SageMaker's spelling (`MaxNumberOfTrainingJobs`),
generated from the snake_case name where SageMaker's is its PascalCase and written out
where SageMaker names the key otherwise (`TrainingJobEarlyStoppingType`). A search is
stored as `model_dump()` (snake_case) and read back with `model_validate`.

A search may warm-start from up to five earlier tuning jobs (`warm_start`, AMT's
WarmStartConfig): the rules that tie a child to its parents need the parents' records and
live in `app.jobs.check_warm_start`; how the parents' runs steer the child's suggestions
lives in `app.tuning.suggest`.
"""

from __future__ import annotations

import enum
import math
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    Field,
    field_validator,
    model_validator,
)

from app.protocol.ranges import (
    ParameterRanges,
    SpecModel,
    grid_size,
    hyperparameter_text,
    parse_integer,
)

__all__ = [
    "MAX_GRID",
    "CompletionCriteria",
    "EarlyStopping",
    "GpuResources",
    "HyperbandConfig",
    "ResourceLimits",
    "RetryStrategy",
    "SearchSpec",
    "SearchStrategy",
    "WarmStart",
    "WarmStartType",
]

MAX_GRID = 10_000
MAX_TRAINING_JOBS = 10_000
MAX_PARALLEL = 100
MAX_PARENTS = 5
MAX_GPUS_PER_RUN = 64
MAX_RETRY_ATTEMPTS = 30  # AMT's bound
MAX_RUNS_PER_GPU = 16
# The static hyperparameters AMT reads Hyperband's MaxResource from when it is not given.
EPOCH_HYPERPARAMETERS = ("epochs", "num_epochs", "n_epochs", "max_epochs", "num_train_epochs")


class SearchStrategy(enum.StrEnum):
    RANDOM = "Random"
    GRID = "Grid"
    BAYESIAN = "Bayesian"
    HYPERBAND = "Hyperband"


class EarlyStopping(enum.StrEnum):
    OFF = "Off"
    AUTO = "Auto"


class WarmStartType(enum.StrEnum):
    IDENTICAL_DATA_AND_ALGORITHM = "IdenticalDataAndAlgorithm"
    TRANSFER_LEARNING = "TransferLearning"


class ResourceLimits(SpecModel):
    max_number_of_training_jobs: int | None = Field(
        None,
        ge=1,
        le=MAX_TRAINING_JOBS,
        description="Runs to start in all; Grid defaults to the grid's size.",
    )
    max_parallel_training_jobs: int = Field(
        1,
        ge=1,
        le=MAX_PARALLEL,
        description="Runs in progress at once, across all workers.",
    )
    max_runtime_in_seconds: int | None = Field(
        None,
        ge=1,
        description="Per run: a worker stops a run that runs longer (Stopped, MaxRuntimeExceeded).",
    )


class GpuResources(SpecModel):
    gpus_per_run: int | None = Field(
        None,
        ge=0,
        le=MAX_GPUS_PER_RUN,
        description="GPUs each run holds on its worker, for its own (CUDA_VISIBLE_DEVICES). "
        "Not given: a job made through SageMaker's API wants its ResourceConfig's "
        "InstanceType's GPUs times its InstanceCount, any other job none.",
    )
    runs_per_gpu: int = Field(
        1,
        ge=1,
        le=MAX_RUNS_PER_GPU,
        description="Packing: up to this many of the job's runs share one GPU (each run then "
        "holds one GPU, shared, so gpus_per_run must be 1 or left out). Default 1: a GPU is "
        "never shared.",
    )

    @model_validator(mode="after")
    def _packing(self) -> GpuResources:
        if self.runs_per_gpu > 1 and self.gpus_per_run not in (None, 1):
            raise ValueError("runs share a GPU (runs_per_gpu > 1) only with gpus_per_run 1")
        return self


class RetryStrategy(SpecModel):
    maximum_retry_attempts: int = Field(
        ge=0,
        le=MAX_RETRY_ATTEMPTS,
        description="How many times a run is tried again after a failure of the "
        "infrastructure (its worker lost, its launch failed), with the same hyperparameters; "
        "a failure of the training code is never retried. AMT's MaximumRetryAttempts.",
    )


class NotImproving(SpecModel):
    max_number_of_training_jobs_not_improving: int = Field(
        ge=3,
        description="How many runs in a row (3 or more) may fail to improve on the best objective "
        "value.",
    )


class ConvergenceDetected(SpecModel):
    complete_on_convergence: str = Field(
        "Enabled",
        pattern="^(Enabled|Disabled)$",
        description="`Enabled` to end the search on convergence, `Disabled` not to.",
    )


class CompletionCriteria(SpecModel):
    target_objective_metric_value: float | None = Field(
        None,
        description="The search ends once a run's objective value reaches this (at or above it "
        "for Maximize, at or below for Minimize).",
    )
    best_objective_not_improving: NotImproving | None = Field(
        None,
        description="The search ends once this many runs in a row have not improved on the best "
        "objective value.",
    )
    convergence_detected: ConvergenceDetected | None = Field(
        None,
        description="The search ends once it sees the best objective value converge (see the "
        "README for the rule).",
    )

    @field_validator("target_objective_metric_value")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("TargetObjectiveMetricValue must be a finite number")
        return value


class HyperbandConfig(SpecModel):
    min_resource: int = Field(
        1,
        ge=1,
        description="The fewest objective points (epochs) a run gets before it may be stopped.",
    )
    max_resource: int | None = Field(
        None,
        ge=1,
        description="The most objective points (epochs) a run gets; by default the static "
        "`epochs`-like hyperparameter.",
    )


class WarmStart(SpecModel):
    parents: list[Annotated[str, Field(min_length=1, max_length=63)]] = Field(
        min_length=1,
        max_length=MAX_PARENTS,
        validation_alias=AliasChoices("parents", "ParentHyperParameterTuningJobs"),
        description="The tuning jobs (1 to 5, each ended) whose runs the search starts from; "
        "AMT's [{HyperParameterTuningJobName: ...}] is taken too.",
    )
    type: WarmStartType = Field(
        validation_alias=AliasChoices("type", "WarmStartType"),
        description="IdenticalDataAndAlgorithm (the parents ran the same image, command and "
        "data) or TransferLearning (they may differ).",
    )

    @field_validator("parents", mode="before")
    @classmethod
    def _named(cls, parents: Any) -> Any:
        # AMT's ParentHyperParameterTuningJobs: [{"HyperParameterTuningJobName": name}].
        if isinstance(parents, list):
            return [
                p["HyperParameterTuningJobName"]
                if isinstance(p, dict) and set(p) == {"HyperParameterTuningJobName"}
                else p
                for p in parents
            ]
        return parents

    @field_validator("parents")
    @classmethod
    def _once(cls, parents: list[str]) -> list[str]:
        repeated = sorted({p for p in parents if parents.count(p) > 1})
        if repeated:
            raise ValueError(f"warm start names the parent {', '.join(repeated)} more than once")
        return parents


class SearchSpec(SpecModel):
    """How the service searches: it picks each run's hyperparameters when a worker asks
    for work, and a worker runs `command` with them."""

    strategy: SearchStrategy = Field(
        SearchStrategy.BAYESIAN,
        description="Random, Grid, Bayesian (default) or Hyperband.",
    )
    parameter_ranges: ParameterRanges = Field(
        default_factory=ParameterRanges,
        description="The hyperparameters the search chooses, and their ranges.",
    )
    static_hyperparameters: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        validation_alias=AliasChoices("static_hyperparameters", "StaticHyperParameters"),
        max_length=100,
        description="Hyperparameters every run gets unchanged (at most 100).",
    )
    resource_limits: ResourceLimits = Field(
        default_factory=ResourceLimits,
        description="How many runs in all and at once, and how long each may run.",
    )
    retry_strategy: RetryStrategy | None = Field(
        None,
        description="How often a run is tried again after a failure of the infrastructure. "
        "Not given: a job made through SageMaker's API as its training job definition's "
        "RetryStrategy says, any other job never.",
    )
    resources: GpuResources = Field(
        default_factory=GpuResources,
        description="The GPUs each run holds on its worker.",
    )
    random_seed: int | None = Field(
        None,
        ge=0,
        le=2**31 - 1,
        description="Random and Grid depend only on it and the run's index. Not given, one "
        "is drawn when the job is created and kept, so the job can be repeated.",
    )
    early_stopping: EarlyStopping = Field(
        EarlyStopping.OFF,
        validation_alias=AliasChoices("early_stopping", "TrainingJobEarlyStoppingType"),
        description="Off, or Auto: AMT's median rule stops runs doing worse than earlier ones.",
    )
    completion_criteria: CompletionCriteria = Field(
        default_factory=CompletionCriteria,
        validation_alias=AliasChoices("completion_criteria", "TuningJobCompletionCriteria"),
        description="When the search ends before its last run.",
    )
    hyperband: HyperbandConfig = Field(
        default_factory=HyperbandConfig,
        validation_alias=AliasChoices("hyperband", "HyperbandStrategyConfig"),
        description="Hyperband's least and most resource per run.",
    )
    warm_start: WarmStart | None = Field(
        None,
        validation_alias=AliasChoices("warm_start", "WarmStartConfig"),
        description="The earlier tuning jobs the search starts from: their runs inform "
        "Bayesian search, and Random and Grid do not run their points again.",
    )
    command: list[Annotated[str, Field(min_length=1, max_length=4096)]] | None = Field(
        None,
        min_length=1,
        max_length=256,
        description="The argv a worker runs for each run.",
    )
    training_image: str | None = Field(
        None,
        max_length=255,
        description="Without a command: the image SageMaker would run. A worker runs it in "
        "script mode (the sagemaker_program hyperparameter), or as its --image option maps it.",
    )
    sagemaker: dict[str, Any] | None = Field(
        None,
        validation_alias="sagemaker",  # SageMaker's own keys inside; no `Sagemaker` spelling
        description="For a job created through SageMaker's API: the request's tuning config, "
        "training job definition and region, as given (DescribeHyperParameterTuningJob "
        "echoes them).",
    )

    @field_validator("static_hyperparameters")
    @classmethod
    def _storable(
        cls, values: dict[str, str | int | float | bool]
    ) -> dict[str, str | int | float | bool]:
        # The limits a run's hyperparameters have (app.jobs), checked now rather than
        # when a worker asks for the first run.
        for key, value in values.items():
            if not 1 <= len(key) <= 256:
                raise ValueError(f"hyperparameter names must be 1 to 256 characters: {key[:40]!r}")
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{key}: a number must be finite")
            if len(hyperparameter_text(value)) > 2500:
                raise ValueError(f"{key}: values may be at most 2500 characters")
        return values

    @field_validator("strategy", "early_stopping", mode="before")
    @classmethod
    def _any_case(cls, value: Any) -> Any:
        # `strategy: random` (the sweep file's old spelling) reads as Random.
        return value.capitalize() if isinstance(value, str) and value.islower() else value

    @model_validator(mode="after")
    def _check(self) -> SearchSpec:
        if self.command is None and self.training_image is None:
            raise ValueError("a search needs a command (or a training_image) for its runs")
        names = self.parameter_ranges.names()
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"parameter ranges name {', '.join(repeated)} more than once")
        clash = sorted(set(names) & set(self.static_hyperparameters))
        if clash:
            raise ValueError(f"{', '.join(clash)} is both static and tuned")
        if len(names) + len(self.static_hyperparameters) > 99:
            # A run has at most 100 hyperparameters, the objective's name among them.
            raise ValueError("at most 99 hyperparameters, static and tuned together")
        limits = self.resource_limits
        if self.strategy is SearchStrategy.GRID:
            if self.parameter_ranges.continuous:
                raise ValueError(
                    "Grid search takes categorical and integer ranges only, as in SageMaker; "
                    "use Random or Bayesian for continuous ranges"
                )
            size = grid_size(self.parameter_ranges)
            if size > MAX_GRID:
                raise ValueError(f"the grid has {size} combinations; at most {MAX_GRID} are run")
        elif limits.max_number_of_training_jobs is None:
            raise ValueError(
                f"{self.strategy.value} search needs resource_limits.max_number_of_training_jobs"
            )
        if self.strategy is SearchStrategy.HYPERBAND:
            if self.early_stopping is EarlyStopping.AUTO:
                raise ValueError(
                    "Hyperband stops runs early by itself: early_stopping must be Off, "
                    "as in SageMaker"
                )
            if self.max_resource() is None:
                raise ValueError(
                    "Hyperband needs hyperband.max_resource, or a static hyperparameter "
                    f"it can be read from ({', '.join(EPOCH_HYPERPARAMETERS)})"
                )
            maximum = self.max_resource()
            if maximum is not None and maximum < self.hyperband.min_resource:
                raise ValueError("hyperband.max_resource is below hyperband.min_resource")
        elif self.hyperband != HyperbandConfig():
            raise ValueError("hyperband settings apply to the Hyperband strategy only")
        return self

    def max_training_jobs(self) -> int:
        """How many runs the search starts at most."""
        limit = self.resource_limits.max_number_of_training_jobs
        if self.strategy is SearchStrategy.GRID:
            size = grid_size(self.parameter_ranges)
            return size if limit is None else min(size, limit)
        assert limit is not None  # checked above
        return limit

    def max_resource(self) -> int | None:
        """Hyperband's MaxResource, given or read from an epochs-like static hyperparameter."""
        if self.hyperband.max_resource is not None:
            return self.hyperband.max_resource
        for name in EPOCH_HYPERPARAMETERS:
            value = self.static_hyperparameters.get(name)
            if isinstance(value, bool) or value is None:
                continue
            try:
                found = value if isinstance(value, int) else parse_integer(str(value))
            except ValueError:
                continue
            if found >= 1:
                return found
        return None

    @property
    def seed(self) -> int:
        """The seed the samplers use: the job's, which job creation always records (a
        spec read on its own without one, in a test say, counts as 0)."""
        return 0 if self.random_seed is None else self.random_seed

    def trains_one_job(self) -> bool:
        """Whether the job is a lone training job (CreateTrainingJob's, one run), not a
        tuning job."""
        return self.sagemaker is not None and "TrainingJob" in self.sagemaker

    def static_text(self) -> dict[str, str]:
        return {k: hyperparameter_text(v) for k, v in self.static_hyperparameters.items()}
