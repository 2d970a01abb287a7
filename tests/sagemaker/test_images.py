"""A job's training image must be one Docker reads as an image, through either face:
`--privileged` as an image would be an option to `docker run`."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from app.protocol.images import image_reference_problem, training_image_problem
from tests.sagemaker.conftest import tuning_request
from tests.tuning.conftest import search_job_body

DIGEST = "sha256:" + "0123456789abcdef" * 4
# The grammar itself is tested in tests/test_images.py; these are the faces that use it.


def test_a_sagemaker_algorithm_may_stand_for_the_image():
    assert (
        training_image_problem("arn:aws:sagemaker:eu-west-1:123456789012:algorithm/my-algo") is None
    )
    assert training_image_problem("MyAlgorithm") is None
    assert image_reference_problem("MyAlgorithm") is not None
    assert training_image_problem("-MyAlgorithm") is not None
    assert training_image_problem("my algorithm") is not None


def test_a_near_miss_is_refused_at_once():
    # A separator that could match nothing would backtrack exponentially here.
    started = time.perf_counter()
    assert image_reference_problem("a" * 100 + "!") is not None
    assert image_reference_problem("a-" * 100 + "A") is not None
    assert training_image_problem("a-" * 100 + "!") is not None
    assert time.perf_counter() - started < 0.5


def image_request(image):
    request = tuning_request()
    request["TrainingJobDefinition"]["AlgorithmSpecification"]["TrainingImage"] = image
    return request


@pytest.mark.parametrize(
    "image", ["--privileged", "trainer --privileged", "trainer\t-v/:/host", "Trainer"]
)
def test_sagemaker_refuses_a_training_image_that_is_no_image_naming_the_field(sagemaker, image):
    with pytest.raises(ClientError) as refused:
        sagemaker.create_hyper_parameter_tuning_job(**image_request(image))
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        f"1 validation error detected: Value '{image}' at "
        "'trainingJobDefinition.algorithmSpecification.trainingImage' failed to satisfy "
        f"constraint: Member {image_reference_problem(image)}"
    )
    assert not sagemaker.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]


def test_sagemaker_takes_an_image_reference_or_an_algorithm(sagemaker):
    sagemaker.create_hyper_parameter_tuning_job(**image_request(f"trainer:1@{DIGEST}"))
    request = tuning_request("by-algorithm")
    algorithm = request["TrainingJobDefinition"]["AlgorithmSpecification"]
    del algorithm["TrainingImage"]
    algorithm["AlgorithmName"] = "arn:aws:sagemaker:eu-west-1:123456789012:algorithm/my-algo"
    sagemaker.create_hyper_parameter_tuning_job(**request)


@pytest.mark.parametrize("image", ["--privileged", "trainer --privileged", "Trainer:1"])
def test_v1_refuses_a_training_image_that_is_no_image(api, image):
    body = search_job_body(training_image=image)
    del body["search"]["command"]
    answer = api.post("/v1/jobs", json=body)
    assert answer.status_code == 422, answer.text
    assert "search.training_image" in answer.json()["message"]
    assert api.get("/v1/jobs/tune").status_code == 404


def test_v1_takes_an_image_reference(api):
    body = search_job_body(training_image="localhost:5000/team/trainer:v1")
    del body["search"]["command"]
    assert api.post("/v1/jobs", json=body).status_code == 201
