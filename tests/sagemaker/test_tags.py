"""AddTags, ListTags and DeleteTags with boto3 on tuning job and training job ARNs, and
the tags Create* requests give."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.sagemaker.conftest import tuning_request

ACCOUNT = "123456789012"
TUNING_ARN = f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:hyper-parameter-tuning-job/toy"


def training_arn(name):
    return f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:training-job/{name}"


def error_of(call, **params):
    with pytest.raises(ClientError) as caught:
        call(**params)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def tags(*pairs):
    return [{"Key": key, "Value": value} for key, value in pairs]


def a_training_job(name="one"):
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {
            "TrainingImage": f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/toy:1",
            "TrainingInputMode": "File",
        },
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/SageMakerRole",
        "OutputDataConfig": {"S3OutputPath": "s3://bucket/output"},
    }


def test_a_tuning_jobs_tags_are_added_listed_and_deleted(sagemaker):
    sagemaker.create_hyper_parameter_tuning_job(
        **tuning_request(), Tags=tags(("team", "vision"), ("cost", "a1"))
    )
    listed = sagemaker.list_tags(ResourceArn=TUNING_ARN)["Tags"]
    assert listed == tags(("team", "vision"), ("cost", "a1"))  # in the order given

    added = sagemaker.add_tags(ResourceArn=TUNING_ARN, Tags=tags(("team", "nlp"), ("env", "")))
    assert added["Tags"] == tags(("team", "nlp"), ("env", ""))
    assert sagemaker.list_tags(ResourceArn=TUNING_ARN)["Tags"] == tags(
        ("team", "nlp"), ("cost", "a1"), ("env", "")
    )

    sagemaker.delete_tags(ResourceArn=TUNING_ARN, TagKeys=["cost", "never-held"])
    assert sagemaker.list_tags(ResourceArn=TUNING_ARN)["Tags"] == tags(("team", "nlp"), ("env", ""))


def test_a_training_jobs_tags_and_those_of_its_tuning_job(service, sagemaker):
    sagemaker.create_hyper_parameter_tuning_job(**tuning_request(), Tags=tags(("team", "vision")))
    run = service.client.post("/v1/leases", json={"worker": "w"}).json()["lease"]["run"]

    # AMT gives a tuning job's training jobs its tags.
    assert sagemaker.list_tags(ResourceArn=training_arn(run))["Tags"] == tags(("team", "vision"))
    sagemaker.add_tags(ResourceArn=training_arn(run), Tags=tags(("seed", "1"), ("team", "own")))
    assert sagemaker.list_tags(ResourceArn=training_arn(run))["Tags"] == tags(
        ("seed", "1"), ("team", "own")
    )
    assert sagemaker.list_tags(ResourceArn=TUNING_ARN)["Tags"] == tags(("team", "vision"))

    sagemaker.delete_tags(ResourceArn=training_arn(run), TagKeys=["team"])
    # Its own gone, the tuning job's shows again (the tuning job's first).
    assert sagemaker.list_tags(ResourceArn=training_arn(run))["Tags"] == tags(
        ("team", "vision"), ("seed", "1")
    )


def test_a_training_job_keeps_the_tags_it_was_created_with(sagemaker):
    sagemaker.create_training_job(**a_training_job(), Tags=tags(("project", "x")))

    assert sagemaker.list_tags(ResourceArn=training_arn("one"))["Tags"] == tags(("project", "x"))
    sagemaker.add_tags(ResourceArn=training_arn("one"), Tags=tags(("stage", "dev")))
    assert sagemaker.list_tags(ResourceArn=training_arn("one"))["Tags"] == tags(
        ("project", "x"), ("stage", "dev")
    )
    # Its job is no tuning job.
    assert error_of(
        sagemaker.list_tags,
        ResourceArn=f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:hyper-parameter-tuning-job/one",
    )[0] == ("ResourceNotFound")


def test_tags_page_fifty_at_a_time(service, sagemaker):
    sagemaker.create_hyper_parameter_tuning_job(
        **tuning_request(), Tags=tags(*((f"job-{i:02d}", str(i)) for i in range(10)))
    )
    run = service.client.post("/v1/leases", json={"worker": "w"}).json()["lease"]["run"]
    sagemaker.add_tags(
        ResourceArn=training_arn(run), Tags=tags(*((f"run-{i:02d}", str(i)) for i in range(50)))
    )

    first = sagemaker.list_tags(ResourceArn=training_arn(run))  # 50 by default, as AWS's
    second = sagemaker.list_tags(
        ResourceArn=training_arn(run), MaxResults=50, NextToken=first["NextToken"]
    )

    keys = [t["Key"] for t in first["Tags"] + second["Tags"]]
    assert keys == [f"job-{i:02d}" for i in range(10)] + [f"run-{i:02d}" for i in range(50)]
    assert len(first["Tags"]) == 50
    assert "NextToken" not in second


def test_tags_beyond_the_limits_are_refused(sagemaker):
    sagemaker.create_hyper_parameter_tuning_job(
        **tuning_request(), Tags=tags(*((f"k{i}", "v") for i in range(45)))
    )

    assert error_of(
        sagemaker.add_tags, ResourceArn=TUNING_ARN, Tags=tags(*((f"n{i}", "v") for i in range(6)))
    ) == (
        "ValidationException",
        "'toy' would have 51 tags; a resource may have at most 50",
    )
    assert error_of(sagemaker.add_tags, ResourceArn=TUNING_ARN, Tags=tags(("aws:owner", "me"))) == (
        "ValidationException",
        "Tag key 'aws:owner' is not allowed: keys beginning with 'aws:' are reserved for "
        "AWS's use.",
    )
    code, message = error_of(sagemaker.add_tags, ResourceArn=TUNING_ARN, Tags=tags(("k" * 129, "")))
    assert code == "ValidationException"
    assert "Member must have length less than or equal to 128" in message
    code, message = error_of(
        sagemaker.add_tags, ResourceArn=TUNING_ARN, Tags=tags(("k", "v" * 257))
    )
    assert "Member must have length less than or equal to 256" in message
    assert len(sagemaker.list_tags(ResourceArn=TUNING_ARN)["Tags"]) == 45  # none was added

    # Refused at creation, the job is not created.
    assert error_of(
        sagemaker.create_training_job, **a_training_job("two"), Tags=tags(("AWS:x", "y"))
    )[0] == ("ValidationException")
    assert error_of(sagemaker.describe_training_job, TrainingJobName="two")[0] == (
        "ValidationException"
    )


def test_an_arn_of_no_job_is_not_found(sagemaker):
    sagemaker.create_hyper_parameter_tuning_job(**tuning_request())
    for arn in (
        f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:hyper-parameter-tuning-job/nope",
        training_arn("nope"),
        # Another account's.
        "arn:aws:sagemaker:eu-west-1:210987654321:hyper-parameter-tuning-job/toy",
    ):
        assert error_of(sagemaker.list_tags, ResourceArn=arn) == (
            "ResourceNotFound",
            f"Resource {arn} does not exist.",
        )
        assert error_of(sagemaker.add_tags, ResourceArn=arn, Tags=tags(("a", "b")))[0] == (
            "ResourceNotFound"
        )
        assert error_of(sagemaker.delete_tags, ResourceArn=arn, TagKeys=["a"])[0] == (
            "ResourceNotFound"
        )
    model = f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:model/m"
    assert error_of(sagemaker.list_tags, ResourceArn=model) == (
        "ValidationException",
        f"{model!r} is not the ARN of a hyper-parameter-tuning-job or a training-job; "
        "logmetrics keeps the tags of those only.",
    )


def test_a_deleted_tuning_jobs_tags_go_with_it(service, sagemaker):
    sagemaker.create_hyper_parameter_tuning_job(**tuning_request(), Tags=tags(("a", "1")))
    sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="toy")
    sagemaker.delete_hyper_parameter_tuning_job(HyperParameterTuningJobName="toy")

    sagemaker.create_hyper_parameter_tuning_job(**tuning_request())

    assert sagemaker.list_tags(ResourceArn=TUNING_ARN)["Tags"] == []
