"""CloudWatch Logs as a face of `POST /` (`X-Amz-Target: Logs_20140328.<Operation>`)."""

from __future__ import annotations

from app.aws.face import Face
from app.cloudwatch_logs.errors import logs_error
from app.cloudwatch_logs.model import load_model
from app.cloudwatch_logs.operations import LogsOperations

__all__ = ["logs_face"]


def logs_face(operations: LogsOperations) -> Face:
    """CloudWatch Logs' operations, validated against its model (a refusal is
    InvalidParameterException, as CloudWatch Logs answers); a read key may describe, get
    and filter; a domain error answered by `app.cloudwatch_logs.errors.logs_error`."""
    return Face(
        target="Logs_20140328",
        signing_name="logs",
        model=load_model(),
        handlers=operations.handlers,
        read_only=("Describe", "Get", "Filter"),
        invalid="InvalidParameterException",
        translate=logs_error,
        log_data={"PutLogEvents": frozenset({"message"})},
    )
