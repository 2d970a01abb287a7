"""boto3's SageMaker client against a live service, every answer checked against
botocore's own output shapes (tests/aws.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.aws import checked_client


def sagemaker_client(url: str, key: str = "any", secret: str = "any", region: str = "eu-west-1"):
    return checked_client("sagemaker", url, key, secret, region)


@pytest.fixture
def sagemaker(service):
    return sagemaker_client(service.url)


def tuning_request(name: str = "toy", **config: Any) -> dict[str, Any]:
    """A CreateHyperParameterTuningJob request maximizing `acc` over `lr`, script mode."""
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Random",
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "acc"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 3, "MaxParallelTrainingJobs": 1},
            "ParameterRanges": {
                "ContinuousParameterRanges": [
                    {"Name": "lr", "MinValue": "0.001", "MaxValue": "0.1"}
                ]
            },
            "RandomSeed": 3,
            **config,
        },
        "TrainingJobDefinition": {
            "AlgorithmSpecification": {
                "TrainingImage": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/toy:1",
                "TrainingInputMode": "File",
                "MetricDefinitions": [{"Name": "acc", "Regex": "acc=([0-9.]+);"}],
            },
            "StaticHyperParameters": {"epochs": "2"},
            "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
            "OutputDataConfig": {"S3OutputPath": "s3://bucket/output"},
            "ResourceConfig": {
                "InstanceType": "ml.m5.large",
                "InstanceCount": 1,
                "VolumeSizeInGB": 10,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 120},
            "Environment": {"SM_LOG_LEVEL": "20"},
        },
    }
