"""SageMaker's errors: `SageMakerError`, and the one table from domain errors to them.

Every refusal of `POST /` is AWS's `{"__type": code, "message": text}`. The face raises
`SageMakerError` itself where SageMaker refuses what the domain would accept (a member
logmetrics does not support, a pagination token it did not issue); every domain error
(`app.errors`) is translated once, at the face's boundary (`app.aws.endpoint`, through
`app.sagemaker.face`), by `ERROR_BY_DOMAIN_ERROR`: the nearest class of the error's
hierarchy listed there wins, as `app.main.STATUS_BY_ERROR` does for `/v1`. Each entry
answers what SageMaker itself answers for the same refusal.
"""

from __future__ import annotations

from typing import NamedTuple

from app.aws.face import AwsServiceError
from app.errors import (
    ChunkTooLarge,
    Conflict,
    Forbidden,
    InvalidInput,
    JobEnded,
    JobExists,
    JobNotFound,
    LogmetricsError,
    NotFound,
    RunEnded,
    RunExists,
    RunNotFound,
    Unauthenticated,
)

__all__ = [
    "ERROR_BY_DOMAIN_ERROR",
    "AwsError",
    "SageMakerError",
    "invalid",
    "resource_not_found",
    "sagemaker_error",
    "training_job_exists",
    "training_job_not_found",
]


class SageMakerError(AwsServiceError):
    """An error as SageMaker answers it: `__type` (`code`) and `message`."""


class AwsError(NamedTuple):
    """How SageMaker answers one kind of domain error.

    `message` is a `str.format` template filled from the error's `extra` fields (a
    JobNotFound's `job`, say); None answers the domain's own message.
    """

    code: str
    message: str | None = None


# What SageMaker itself answers for an unknown training job (not ResourceNotFound).
_TRAINING_JOB_NOT_FOUND = "Requested resource not found: training job {run!r}"

ERROR_BY_DOMAIN_ERROR: dict[type[LogmetricsError], AwsError] = {
    JobNotFound: AwsError(
        "ResourceNotFound", "Amazon SageMaker can't find a tuning job with name {job}"
    ),
    RunNotFound: AwsError("ValidationException", _TRAINING_JOB_NOT_FOUND),
    NotFound: AwsError("ResourceNotFound"),
    JobExists: AwsError("ResourceInUse", "Hyperparameter tuning job {job!r} already exists."),
    RunExists: AwsError("ResourceInUse"),
    # Only StopHyperParameterTuningJob meets a job that has ended.
    JobEnded: AwsError(
        "ValidationException",
        "The hyperparameter tuning job {job!r} has already ended ({status}): it cannot be stopped.",
    ),
    RunEnded: AwsError("ValidationException"),
    # SageMaker refuses a request that contradicts a resource's state (stopping or
    # deleting one in the wrong status) as invalid; ResourceInUse is for a name taken.
    Conflict: AwsError("ValidationException"),
    InvalidInput: AwsError("ValidationException"),
    ChunkTooLarge: AwsError("ValidationException"),
    Unauthenticated: AwsError("UnrecognizedClientException"),
    Forbidden: AwsError("AccessDeniedException"),
    # A domain error added later and not listed above is still a refusal, in AWS's shape.
    LogmetricsError: AwsError("ValidationException"),
}


def sagemaker_error(error: LogmetricsError) -> SageMakerError:
    """The SageMaker error that answers a domain error, by `ERROR_BY_DOMAIN_ERROR`."""
    answer = next(
        ERROR_BY_DOMAIN_ERROR[kind] for kind in type(error).__mro__ if kind in ERROR_BY_DOMAIN_ERROR
    )
    message = error.message if answer.message is None else answer.message.format(**error.extra)
    return SageMakerError(answer.code, message)


def invalid(message: str) -> SageMakerError:
    """A ValidationException: the request is refused as SageMaker would refuse it."""
    return SageMakerError("ValidationException", message)


def training_job_not_found(name: str) -> SageMakerError:
    """SageMaker's answer for a training job no tuning job holds."""
    return invalid(_TRAINING_JOB_NOT_FOUND.format(run=name))


def training_job_exists(arn: str) -> SageMakerError:
    """SageMaker's answer to a CreateTrainingJob whose name a training job has."""
    return SageMakerError(
        "ResourceInUse",
        "Training job names must be unique within an AWS account and region, and a "
        f"training job with this name already exists ({arn})",
    )


def resource_not_found(arn: str) -> SageMakerError:
    """SageMaker's answer to a tag operation on an ARN that names no resource."""
    return SageMakerError("ResourceNotFound", f"Resource {arn} does not exist.")
