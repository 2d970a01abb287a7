"""CloudWatch Logs' errors: `LogsError`, and the one table from domain errors to them.

The face raises `LogsError` itself where CloudWatch Logs refuses a request (a log group or
stream that does not exist, a token it did not issue, a filter pattern it does not take,
a batch of events it does not take, a group or stream that already exists);
a domain error an operation meets (a run deleted while it is read, say) is translated
once, at the face's boundary (`app.aws.endpoint`), by `logs_error`: the nearest class of
the error's hierarchy in `ERROR_BY_DOMAIN_ERROR` wins, as for SageMaker's face.
"""

from __future__ import annotations

from app.aws.face import AwsServiceError
from app.errors import (
    Forbidden,
    InvalidInput,
    JobEnded,
    LogmetricsError,
    NotFound,
    RunEnded,
    StreamMoved,
    Unauthenticated,
)

__all__ = [
    "ERROR_BY_DOMAIN_ERROR",
    "LogsError",
    "already_exists",
    "invalid_parameter",
    "invalid_token",
    "log_group_not_found",
    "log_stream_not_found",
    "logs_error",
]


class LogsError(AwsServiceError):
    """An error as CloudWatch Logs answers it: `__type` (`code`) and `message`."""


_UNAVAILABLE = "ServiceUnavailableException"


# A run or job deleted between listing and reading is, to CloudWatch Logs, a stream or
# group that does not exist. An ended run or job takes no more events: CloudWatch Logs has
# no such state, and its one refusal a shipper does not retry forever is
# InvalidParameterException (the message says why). A stream that kept moving under a
# write is a fault worth retrying, as CloudWatch Logs' ServiceUnavailableException is.
ERROR_BY_DOMAIN_ERROR: dict[type[LogmetricsError], str] = {
    NotFound: "ResourceNotFoundException",
    InvalidInput: "InvalidParameterException",
    RunEnded: "InvalidParameterException",
    JobEnded: "InvalidParameterException",
    StreamMoved: _UNAVAILABLE,
    Unauthenticated: "UnrecognizedClientException",
    Forbidden: "AccessDeniedException",
    LogmetricsError: "InvalidParameterException",
}


def logs_error(error: LogmetricsError) -> LogsError:
    """The CloudWatch Logs error that answers a domain error, by `ERROR_BY_DOMAIN_ERROR`;
    ServiceUnavailableException with a 503, as CloudWatch Logs answers it, so that
    botocore and the shippers retry it."""
    code = next(
        ERROR_BY_DOMAIN_ERROR[kind] for kind in type(error).__mro__ if kind in ERROR_BY_DOMAIN_ERROR
    )
    return LogsError(code, error.message, 503 if code == _UNAVAILABLE else 400)


def already_exists(what: str) -> LogsError:
    """CloudWatch Logs' answer to creating a log group or stream (`what`) that exists,
    which shippers (Docker's awslogs driver, Fluent Bit) take as success."""
    return LogsError("ResourceAlreadyExistsException", f"The specified {what} already exists")


def invalid_parameter(message: str) -> LogsError:
    return LogsError("InvalidParameterException", message)


def invalid_token() -> LogsError:
    """CloudWatch Logs' answer to a nextToken it did not issue (or issued for another
    stream or request)."""
    return invalid_parameter("The specified nextToken is invalid.")


def log_group_not_found() -> LogsError:
    return LogsError("ResourceNotFoundException", "The specified log group does not exist.")


def log_stream_not_found() -> LogsError:
    return LogsError("ResourceNotFoundException", "The specified log stream does not exist.")
