"""CloudWatch's errors: `CloudWatchError`, and the one table from domain errors to them.

The codes are CloudWatch's query protocol codes (`InvalidParameterValue`,
`InvalidParameterCombination`, `InvalidNextToken`), which a query client reads from
`<Code>` and botocore, speaking JSON 1.0, from the `x-amzn-query-error` header
(`app.aws.endpoint`). The face raises `CloudWatchError` itself where CloudWatch refuses a
request; a domain error an operation meets (a run deleted while it is read) is
translated once, at the face's boundary, by `cloudwatch_error`: the nearest class of the
error's hierarchy in `ERROR_BY_DOMAIN_ERROR` wins, as for the other faces.
"""

from __future__ import annotations

from app.aws.face import AwsServiceError
from app.errors import Forbidden, InvalidInput, LogmetricsError, NotFound, Unauthenticated

__all__ = [
    "ERROR_BY_DOMAIN_ERROR",
    "CloudWatchError",
    "cloudwatch_error",
    "invalid_combination",
    "invalid_next_token",
    "invalid_value",
]


class CloudWatchError(AwsServiceError):
    """An error as CloudWatch answers it: its query code (`code`) and `message`."""


ERROR_BY_DOMAIN_ERROR: dict[type[LogmetricsError], str] = {
    NotFound: "ResourceNotFound",
    InvalidInput: "InvalidParameterValue",
    Unauthenticated: "InvalidClientTokenId",
    Forbidden: "AccessDenied",
    LogmetricsError: "InvalidParameterValue",
}


def cloudwatch_error(error: LogmetricsError) -> CloudWatchError:
    """The CloudWatch error that answers a domain error, by `ERROR_BY_DOMAIN_ERROR`."""
    code = next(
        ERROR_BY_DOMAIN_ERROR[kind] for kind in type(error).__mro__ if kind in ERROR_BY_DOMAIN_ERROR
    )
    return CloudWatchError(code, error.message)


def invalid_value(message: str) -> CloudWatchError:
    """A parameter CloudWatch (or logmetrics) does not take."""
    return CloudWatchError("InvalidParameterValue", message)


def invalid_combination(message: str) -> CloudWatchError:
    """Parameters that cannot be given together, or a request for too many datapoints."""
    return CloudWatchError("InvalidParameterCombination", message)


def invalid_next_token() -> CloudWatchError:
    """CloudWatch's answer to a NextToken it did not issue, or issued for another request."""
    return CloudWatchError("InvalidNextToken", "The specified NextToken is invalid.")
