"""CloudWatch as a face of `POST /`: AWS JSON 1.0
(`X-Amz-Target: GraniteServiceVersion20100801.<Operation>`, as boto3 and the AWS CLI send
it) and the query protocol (`Action=<Operation>&Version=2010-08-01`, as older SDKs do)."""

from __future__ import annotations

from app.aws.face import Face
from app.aws.query import QueryProtocol
from app.cloudwatch.errors import cloudwatch_error
from app.cloudwatch.model import load_model
from app.cloudwatch.operations import CloudWatchOperations

__all__ = ["cloudwatch_face"]

API_VERSION = "2010-08-01"
XML_NAMESPACE = "http://monitoring.amazonaws.com/doc/2010-08-01/"


def cloudwatch_face(operations: CloudWatchOperations) -> Face:
    """CloudWatch's metric reads, validated against its model (a refusal is
    ValidationError, as CloudWatch answers), signed for `monitoring`; a read key may get
    and list, which is all it serves; a domain error answered by
    `app.cloudwatch.errors.cloudwatch_error`."""
    return Face(
        target="GraniteServiceVersion20100801",
        signing_name="monitoring",
        model=load_model(),
        handlers=operations.handlers,
        read_only=("Get", "List"),
        invalid="ValidationError",
        translate=cloudwatch_error,
        json_version="1.0",
        query=QueryProtocol(API_VERSION, XML_NAMESPACE),
    )
