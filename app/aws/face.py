"""A face: one AWS service as `POST /` serves it (`Face`), and the error it answers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.aws.model import Model
from app.aws.query import QueryProtocol
from app.errors import LogmetricsError

__all__ = ["AwsServiceError", "Face", "Handler"]

Handler = Callable[[dict[str, Any], str], dict[str, Any]]
"""An operation: the request's JSON and region in, the output shape's JSON out."""


class AwsServiceError(Exception):
    """An error as an AWS service answers it: `__type` (`code`), `message`, and its HTTP
    `status`: 400, or a 5xx for a fault worth retrying (botocore retries those)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Face:
    """One AWS service on `POST /`.

    Attributes:
        target: the `X-Amz-Target` prefix before the operation (`SageMaker`,
            `Logs_20140328`).
        signing_name: the service a SigV4 scope names (`sagemaker`, `logs`).
        model: botocore's model of the operations served, which input is checked against.
        handlers: the operations served, by name.
        read_only: name prefixes of the operations a `read` key may call.
        invalid: the code of a request the model refuses (`ValidationException`;
            CloudWatch Logs' `InvalidParameterException`).
        translate: the face's one table from a domain error to its own answer.
        json_version: the AWS JSON protocol's version the face speaks (`1.1`;
            CloudWatch's `1.0`), its answers' `application/x-amz-json-<version>`.
        query: the face's query protocol form (CloudWatch's), if it takes one; such a
            face is also AWS's `awsQueryCompatible`: a JSON error names its query code in
            the `x-amzn-query-error` header, which botocore reads.
        log_data: by operation, the members whose text is a log's (PutLogEvents'
            `message`): logs are data, never refused for their characters, so a NUL or a
            lone surrogate there is kept, where any other member refuses it.
    """

    target: str
    signing_name: str
    model: Model
    handlers: Mapping[str, Handler]
    read_only: tuple[str, ...]
    invalid: str
    translate: Callable[[LogmetricsError], AwsServiceError]
    json_version: str = "1.1"
    query: QueryProtocol | None = None
    log_data: Mapping[str, frozenset[str]] = field(default_factory=dict)
