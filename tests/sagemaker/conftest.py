"""boto3's SageMaker client against a live service, every answer checked against
botocore's own output shapes (the validator `botocore.stub.Stubber` uses)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.validate import ParamValidator


def sagemaker_client(url: str, key: str = "any", secret: str = "any", region: str = "eu-west-1"):
    client = boto3.client(
        "sagemaker",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )
    validator = ParamValidator()

    def check(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if http_response.status_code != 200 or model.output_shape is None:
            return
        answer = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
        if model.name == "DescribeTrainingJob":
            # botocore's model marks ModelArtifacts required; SageMaker leaves it out until
            # a model exists (InProgress, Failed), and so does the service.
            answer.setdefault("ModelArtifacts", {"S3ModelArtifacts": "s3://checked/elsewhere"})
        report = validator.validate(answer, model.output_shape)
        assert not report.has_errors(), report.generate_report()

    client.meta.events.register("after-call.sagemaker", check)
    return client


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
