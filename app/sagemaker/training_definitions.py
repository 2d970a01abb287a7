"""A training job's definition: what CreateTrainingJob makes of its request, and the
parts of DescribeTrainingJob read from a definition.

A training job created here is a job with one run and a search of one point (Random, no
parameter ranges, one training job), whose search keeps the request as given
(`sagemaker["TrainingJob"]`, without its tags, which are kept apart) and the
TrainingJobDefinition built from it (`sagemaker["TrainingJobDefinition"]`, the shape a
tuning job keeps, which is what a worker reads its channels, output path and entry point
from). Everything here is pure: shapes in, shapes or the search out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.parsing import MetricDefinition
from app.protocol.search import SearchSpec
from app.sagemaker.errors import invalid
from app.sagemaker.shapes import validated_search

__all__ = [
    "DEFAULT_MAX_RUNTIME",
    "DEFAULT_RESOURCE_CONFIG",
    "NO_METRIC",
    "check_input_channels",
    "created_training_job",
    "metric_definitions",
    "output_data_config",
    "resource_config",
    "stopping_condition",
    "training_job_definition",
    "training_job_search",
]

# What SageMaker describes when a request leaves these out.
DEFAULT_MAX_RUNTIME = 86400
DEFAULT_RESOURCE_CONFIG: Mapping[str, Any] = {
    "InstanceType": "ml.m5.large",
    "InstanceCount": 1,
    "VolumeSizeInGB": 30,
}
# A job ranks its runs by an objective among its metric definitions; a training job has
# no objective and may have no definitions. It then gets this one, which no line can
# match (`(?!)` fails everywhere), so it never has a point, never shows in
# FinalMetricDataList, and its name says it is logmetrics' own.
NO_METRIC = MetricDefinition("logmetrics:no-metric-definitions", "(?!)(.)")

# The members of a CreateTrainingJob request that a TrainingJobDefinition holds too.
_DEFINITION_MEMBERS = (
    "AlgorithmSpecification",
    "RoleArn",
    "InputDataConfig",
    "VpcConfig",
    "OutputDataConfig",
    "ResourceConfig",
    "StoppingCondition",
    "EnableNetworkIsolation",
    "EnableInterContainerTrafficEncryption",
    "EnableManagedSpotTraining",
    "CheckpointConfig",
    "RetryStrategy",
    "Environment",
)


def created_training_job(sagemaker: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The CreateTrainingJob request a job was made from (its search's `sagemaker`); None
    for a tuning job or a job made through `/v1`."""
    found: Mapping[str, Any] | None = (sagemaker or {}).get("TrainingJob")
    return found


def metric_definitions(algorithm: Mapping[str, Any]) -> list[MetricDefinition]:
    """An AlgorithmSpecification's MetricDefinitions as the domain's."""
    return [MetricDefinition(d["Name"], d["Regex"]) for d in algorithm.get("MetricDefinitions", [])]


def training_job_definition(request: Mapping[str, Any]) -> dict[str, Any]:
    """The TrainingJobDefinition a CreateTrainingJob request amounts to: its members a
    definition holds (the AlgorithmSpecification as sent, ContainerEntrypoint and all),
    HyperParameters as StaticHyperParameters, and what SageMaker fills in."""
    definition = {key: request[key] for key in _DEFINITION_MEMBERS if key in request}
    definition["StaticHyperParameters"] = dict(request.get("HyperParameters", {}))
    definition["ResourceConfig"] = resource_config(definition)
    definition["StoppingCondition"] = stopping_condition(definition)
    return definition


def training_job_search(
    request: Mapping[str, Any], definition: Mapping[str, Any], region: str
) -> SearchSpec:
    """The search that runs a CreateTrainingJob request's one training job.

    Raises: SageMakerError (ValidationException) for one the domain refuses.
    """
    algorithm = definition["AlgorithmSpecification"]
    raw = {
        "strategy": "Random",
        "static_hyperparameters": definition["StaticHyperParameters"],
        "resource_limits": {
            "MaxNumberOfTrainingJobs": 1,
            "MaxParallelTrainingJobs": 1,
            "MaxRuntimeInSeconds": definition["StoppingCondition"]["MaxRuntimeInSeconds"],
        },
        "training_image": algorithm.get("TrainingImage") or algorithm.get("AlgorithmName") or "",
        "sagemaker": {
            "TrainingJob": {key: value for key, value in request.items() if key != "Tags"},
            "TrainingJobDefinition": dict(definition),
            "Region": region,
        },
    }
    return validated_search(raw, "request")


def resource_config(definition: Mapping[str, Any]) -> dict[str, Any]:
    """ResourceConfig, always: the definition's; else its HyperParameterTuningResourceConfig
    (which the SageMaker SDK v2 sends in tuning jobs) as one, from its own instance or the
    first of its InstanceConfigs; else SageMaker's default."""
    if "ResourceConfig" in definition:
        return dict(definition["ResourceConfig"])
    tuning = definition.get("HyperParameterTuningResourceConfig")
    if tuning is None:
        return dict(DEFAULT_RESOURCE_CONFIG)
    first = (tuning.get("InstanceConfigs") or [{}])[0]
    config = {
        key: tuning.get(key) or first.get(key) or DEFAULT_RESOURCE_CONFIG[key]
        for key in ("InstanceType", "InstanceCount", "VolumeSizeInGB")
    }
    if "VolumeKmsKeyId" in tuning:
        config["VolumeKmsKeyId"] = tuning["VolumeKmsKeyId"]
    return config


def stopping_condition(definition: Mapping[str, Any]) -> dict[str, Any]:
    """StoppingCondition, with SageMaker's MaxRuntimeInSeconds when none is given."""
    return {"MaxRuntimeInSeconds": DEFAULT_MAX_RUNTIME, **definition.get("StoppingCondition", {})}


def output_data_config(definition: Mapping[str, Any]) -> dict[str, Any]:
    """OutputDataConfig, with KmsKeyId "" when none is given, as SageMaker describes it."""
    return {"KmsKeyId": "", **definition["OutputDataConfig"]}


def check_input_channels(definition: Mapping[str, Any]) -> None:
    """Refuse, when a training job is created, an input channel no worker could deliver,
    rather than fail each of its runs later (or run them without it): one on a file
    system (FileSystemDataSource: EFS, FSx for Lustre), an AugmentedManifestFile (Pipe
    mode's records), or an S3Uri that is neither `s3://` nor `file://`.

    Raises: SageMakerError (ValidationException).
    """
    for channel in definition.get("InputDataConfig") or []:
        name, source = channel["ChannelName"], channel.get("DataSource", {})
        if "FileSystemDataSource" in source:
            raise invalid(
                f"input channel {name!r}: logmetrics does not support FileSystemDataSource "
                "(a worker reads s3:// and file:// data)."
            )
        s3 = source.get("S3DataSource", {})
        if s3.get("S3DataType") == "AugmentedManifestFile":
            raise invalid(
                f"input channel {name!r}: logmetrics does not support AugmentedManifestFile "
                "(S3Prefix and ManifestFile are)."
            )
        uri = s3.get("S3Uri", "")
        if not uri.startswith(("s3://", "file://")):
            raise invalid(
                f"input channel {name!r}: S3Uri {uri[:200]!r} is neither s3:// nor file://."
            )
