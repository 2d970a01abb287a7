"""NextToken: the pages the service issues are followed, and a forged token is refused."""

from __future__ import annotations

import base64

import pytest
from botocore.exceptions import ClientError

from app.sagemaker.paging import InvalidToken, page
from tests.sagemaker.conftest import tuning_request


def token_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


FORGED = {
    "negative": token_of("-1"),
    "zero": token_of("0"),  # the first page has no token
    "not-numeric": token_of("abc"),
    "arabic-digit": token_of("٣"),
    "underscore": token_of("1_0"),
    "spaced": token_of(" 1"),
    "leading-zero": token_of("01"),
    "huge": token_of("9" * 30),
    "past-the-end": token_of("4"),
    "not-base64": "not base64!",
    "unpadded": token_of("1").rstrip("="),
    "standard-alphabet": base64.b64encode(b"1").decode().replace("=", "") + "+/",
    "not-ascii": "MQ==é",
}


def test_pages_follow_each_other_to_the_end():
    items = list(range(7))
    seen, body = [], {"MaxResults": 3}
    while True:
        found, token = page(items, body)
        seen += found
        if token is None:
            break
        body = {"MaxResults": 3, "NextToken": token}
    assert seen == items
    assert page(items, {"NextToken": token_of("7")}) == ([], None)  # a list that shrank to it


@pytest.mark.parametrize("token", FORGED.values(), ids=FORGED.keys())
def test_a_forged_token_is_refused(token):
    with pytest.raises(InvalidToken):
        page([1, 2, 3], {"NextToken": token})


@pytest.mark.parametrize("token", FORGED.values(), ids=FORGED.keys())
def test_every_list_operation_answers_a_forged_token_with_a_validation_exception(sagemaker, token):
    sagemaker.create_hyper_parameter_tuning_job(**tuning_request())
    for operation, params in [
        (sagemaker.list_hyper_parameter_tuning_jobs, {}),
        (sagemaker.list_training_jobs, {}),
        (
            sagemaker.list_training_jobs_for_hyper_parameter_tuning_job,
            {"HyperParameterTuningJobName": "toy"},
        ),
    ]:
        with pytest.raises(ClientError) as refused:
            operation(NextToken=token, **params)
        error = refused.value.response
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert error["Error"] == {
            "Code": "ValidationException",
            "Message": "Invalid pagination token",
        }
