"""Domain errors reach boto3 as SageMaker's errors, through the face's one table."""

from __future__ import annotations

import httpx
import pytest
from botocore.exceptions import ClientError

import app.errors
from app.errors import (
    ChunkTooLarge,
    DefinitionsChanged,
    Forbidden,
    InvalidObjective,
    JobEnded,
    JobExists,
    JobNotFound,
    LeaseHeld,
    LogmetricsError,
    NoBestRun,
    RunEnded,
    RunExists,
    RunNotFound,
    Unauthenticated,
)
from app.sagemaker.errors import ERROR_BY_DOMAIN_ERROR, SageMakerError, sagemaker_error
from app.storage import SqlStorage
from tests.sagemaker.conftest import tuning_request


class Unlisted(LogmetricsError):
    """A domain error added after the table was written."""


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (
            JobNotFound("toy"),
            "ResourceNotFound",
            "Amazon SageMaker can't find a tuning job with name toy",
        ),
        (
            RunNotFound("toy", "toy-001"),
            "ValidationException",
            "Requested resource not found: training job 'toy-001'",
        ),
        (NoBestRun("no run has a value"), "ResourceNotFound", "no run has a value"),
        (JobExists("toy"), "ResourceInUse", "Hyperparameter tuning job 'toy' already exists."),
        (RunExists("toy", "toy-001"), "ResourceInUse", "run 'toy-001' already exists in job 'toy'"),
        (
            JobEnded("toy", "Completed"),
            "ValidationException",
            "The hyperparameter tuning job 'toy' has already ended (Completed): it cannot be "
            "stopped.",
        ),
        (RunEnded("run ended"), "ValidationException", "run ended"),
        (
            LeaseHeld("r", "w", "v"),
            "ValidationException",
            "run 'r' is leased to worker 'v', not to 'w'",
        ),
        (DefinitionsChanged("re-parsed"), "ValidationException", "re-parsed"),
        (InvalidObjective("no such metric"), "ValidationException", "no such metric"),
        (ChunkTooLarge(10), "ValidationException", ChunkTooLarge(10).message),
        (Unauthenticated("who?"), "UnrecognizedClientException", "who?"),
        (Forbidden("read only"), "AccessDeniedException", "read only"),
        (Unlisted("something new"), "ValidationException", "something new"),
    ],
)
def test_the_table_answers_each_domain_error_as_sagemaker_does(error, code, message):
    answer = sagemaker_error(error)
    assert (type(answer), answer.code, answer.message) == (SageMakerError, code, message)


def test_every_domain_error_has_an_answer_in_the_table():
    kinds = [getattr(app.errors, name) for name in app.errors.__all__]
    errors = [kind for kind in kinds if issubclass(kind, LogmetricsError)]
    assert LogmetricsError in ERROR_BY_DOMAIN_ERROR  # the catch-all
    for kind in errors:
        # The nearest listed class is the error's own, or one of its ancestors.
        assert any(ancestor in ERROR_BY_DOMAIN_ERROR for ancestor in kind.__mro__), kind


def deleting_first(method_name, delete):
    """`SqlStorage.<method_name>`, preceded by a delete: another request's, just before."""
    original = getattr(SqlStorage, method_name)

    def racing(self, job, *args, **kwargs):
        delete(self, job, *args)
        return original(self, job, *args, **kwargs)

    return racing


def test_a_tuning_job_deleted_while_described_is_not_found(service, sagemaker, monkeypatch):
    sagemaker.create_hyper_parameter_tuning_job(**tuning_request())
    # Deleted after DescribeHyperParameterTuningJob found it, before it read the overview:
    # the storage's JobNotFound reached boto3 as /v1's 404 {"error": "job_not_found"}.
    monkeypatch.setattr(
        SqlStorage, "job_overview", deleting_first("job_overview", lambda s, j, *a: s.delete_job(j))
    )

    with pytest.raises(ClientError) as failed:
        sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="toy")

    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert failed.value.response["Error"] == {
        "Code": "ResourceNotFound",
        "Message": "Amazon SageMaker can't find a tuning job with name toy",
    }


def test_a_training_job_deleted_while_stopped_is_not_found(service, sagemaker, monkeypatch):
    sagemaker.create_hyper_parameter_tuning_job(**tuning_request())
    run = service.client.post("/v1/leases", json={"worker": "w"}).json()["lease"]["run"]
    # Deleted after StopTrainingJob found it, before the stop was written: RunNotFound.
    monkeypatch.setattr(
        SqlStorage,
        "request_stop",
        deleting_first("request_stop", lambda s, j, name, *a: s.delete_run(j, name)),
    )

    with pytest.raises(ClientError) as failed:
        sagemaker.stop_training_job(TrainingJobName=run)

    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert failed.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": f"Requested resource not found: training job {run!r}",
    }


def test_a_fault_of_the_service_is_answered_in_aws_shape(service, monkeypatch):
    def broken(self):
        raise RuntimeError("a bug")

    monkeypatch.setattr(SqlStorage, "list_jobs", broken)

    # httpx, not boto3: botocore retries a 500.
    answer = httpx.post(
        service.url,
        headers={
            "X-Amz-Target": "SageMaker.ListHyperParameterTuningJobs",
            "Content-Type": "application/x-amz-json-1.1",
        },
        content=b"{}",
    )

    assert (answer.status_code, answer.json()) == (
        500,
        {"__type": "InternalFailure", "message": "internal error; the service log has the details"},
    )
