"""boto3 clients of logmetrics' AWS faces, each answer checked against botocore's own
output shape (the validator `botocore.stub.Stubber` uses)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.validate import ParamValidator

__all__ = ["checked_client"]


def checked_client(
    service: str, url: str, key: str = "any", secret: str = "any", region: str = "eu-west-1"
) -> Any:
    """A boto3 client of `service` ("sagemaker", "logs") at `url` that fails the test on
    any 200 answer its output shape does not hold."""
    client = boto3.client(
        service,
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

    event = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"after-call.{event}", check)
    return client
