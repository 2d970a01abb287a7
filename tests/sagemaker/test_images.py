"""A job's training image must be one Docker reads as an image, through either face:
`--privileged` as an image would be an option to `docker run`."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from app.images import is_image_reference, is_training_image
from tests.sagemaker.conftest import tuning_request
from tests.tuning.conftest import search_job_body

DIGEST = "sha256:" + "0123456789abcdef" * 4
IMAGES = [
    "683313688378.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1",
    "ubuntu",
    "library/ubuntu:22.04",
    "localhost:5000/team/trainer:v1.0_rc-2",
    "[::1]:5000/trainer",
    "Registry.Example.com/trainer",  # a host name may have capitals; a path may not
    f"trainer@{DIGEST}",
    f"trainer:1@{DIGEST}",
    "a__b/c.d/e---f",
]
NOT_IMAGES = [
    "--privileged",
    "-v/:/host",
    "train ing",
    "trainer\n",
    "trainer\t--privileged",
    "trainer\x00",
    "trainer:",
    "trainer:-x",
    ":tag",
    "/trainer",
    "trainer/",
    "a..b",
    "a___b",
    "trainer@sha256:short",
    "trainer:" + "t" * 129,
    "a" * 256,
    "trainér",
    "٣",
]


@pytest.mark.parametrize("image", IMAGES)
def test_docker_references_are_images(image):
    assert is_image_reference(image)


@pytest.mark.parametrize("image", NOT_IMAGES)
def test_what_docker_would_not_read_as_an_image_is_not_one(image):
    assert not is_image_reference(image)
    assert not is_training_image(image)


def test_a_sagemaker_algorithm_may_stand_for_the_image():
    assert is_training_image("arn:aws:sagemaker:eu-west-1:123456789012:algorithm/my-algo")
    assert is_training_image("MyAlgorithm")
    assert not is_image_reference("MyAlgorithm")
    assert not is_training_image("-MyAlgorithm")


def test_a_near_miss_is_refused_at_once():
    # A separator that can match nothing would backtrack exponentially here.
    assert not is_image_reference("a" * 60 + "!")
    assert not is_image_reference("a-" * 100 + "!")


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
        "constraint: Member must be a container image reference, "
        "[registry[:port]/]path[:tag][@digest], with a lower-case path, not beginning with "
        "'-', at most 255 characters"
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
