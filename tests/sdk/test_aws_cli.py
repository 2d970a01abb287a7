"""The AWS CLI (`aws sagemaker ...`, `aws logs ...`, `aws cloudwatch ...`, v1 from
pyproject.toml's dev extra) against the service.

A script-mode tuning job is run by a worker, then each command's JSON output must be what
boto3 reads from the same operation, with the endpoint
given as `--endpoint-url` or as `AWS_ENDPOINT_URL_SAGEMAKER`.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest

from tests.aws import checked_client
from tests.sagemaker.conftest import sagemaker_client, tuning_request
from tests.sagemaker.test_api import code_folder, run_worker, script_mode
from tests.sdk.harness import aws

TAGS = [{"Key": "team", "Value": "vision"}, {"Key": "project", "Value": "toy"}]


def as_printed(answer):
    """boto3's answer as the CLI prints it: no ResponseMetadata, and timestamps as the
    service sent them (AWS JSON 1.1: seconds since the epoch), which the CLI v1 keeps."""
    answer = {k: v for k, v in answer.items() if k != "ResponseMetadata"}
    return json.loads(json.dumps(answer, default=lambda value: value.timestamp()))


@pytest.fixture
def tuning_job(service, tmp_path):
    """A completed tuning job `cli` of three training jobs, tagged with TAGS."""
    client = sagemaker_client(service.url)
    request = script_mode(tuning_request("cli"), code_folder(tmp_path))
    client.create_hyper_parameter_tuning_job(**request, Tags=TAGS)
    run_worker(service.url, "--job", "cli", "--data-root", str(tmp_path))
    return client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="cli")


@pytest.fixture
def environment(tmp_path):
    """A user's shell: keys and a region, and a HOME without ~/.aws."""
    (tmp_path / "home").mkdir()
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "AWS_ACCESS_KEY_ID": "any",
        "AWS_SECRET_ACCESS_KEY": "any",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }


def test_the_cli_lists_and_describes_tuning_and_training_jobs(service, tuning_job, environment):
    client = sagemaker_client(service.url)

    def cli(*args):
        return aws("sagemaker", *args, "--endpoint-url", service.url, environment=environment)

    assert tuning_job["HyperParameterTuningJobStatus"] == "Completed"
    listed = cli("list-hyper-parameter-tuning-jobs")
    assert listed == as_printed(client.list_hyper_parameter_tuning_jobs())
    assert [
        s["HyperParameterTuningJobName"] for s in listed["HyperParameterTuningJobSummaries"]
    ] == ["cli"]
    assert cli(
        "describe-hyper-parameter-tuning-job", "--hyper-parameter-tuning-job-name", "cli"
    ) == (as_printed(tuning_job))
    training_jobs = cli(
        "list-training-jobs-for-hyper-parameter-tuning-job",
        "--hyper-parameter-tuning-job-name",
        "cli",
    )
    assert training_jobs == as_printed(
        client.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName="cli")
    )
    summaries = training_jobs["TrainingJobSummaries"]
    assert len(summaries) == 3
    for summary in summaries:  # the toy script's last line: acc = 1 - lr / 2
        lr = float(summary["TunedHyperParameters"]["lr"])
        assert summary["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == pytest.approx(
            1 - lr / 2, abs=1e-6
        )
    best = tuning_job["BestTrainingJob"]["TrainingJobName"]
    described = cli("describe-training-job", "--training-job-name", best)
    assert described == as_printed(client.describe_training_job(TrainingJobName=best))
    assert described["TrainingJobStatus"] == "Completed"
    assert described["TuningJobArn"] == tuning_job["HyperParameterTuningJobArn"]


def test_the_cli_lists_a_tuning_jobs_tags(service, tuning_job, environment):
    tags = aws(
        "sagemaker",
        "list-tags",
        "--resource-arn",
        tuning_job["HyperParameterTuningJobArn"],
        "--endpoint-url",
        service.url,
        environment=environment,
    )
    # SageMaker does not say in which order ListTags answers.
    assert sorted(tags["Tags"], key=lambda tag: tag["Key"]) == sorted(TAGS, key=lambda t: t["Key"])
    assert list(tags) == ["Tags"]


def test_the_cli_takes_the_endpoint_from_aws_endpoint_url_sagemaker(
    service, tuning_job, environment
):
    described = aws(
        "sagemaker",
        "describe-hyper-parameter-tuning-job",
        "--hyper-parameter-tuning-job-name",
        "cli",
        environment={**environment, "AWS_ENDPOINT_URL_SAGEMAKER": service.url},
    )
    assert described == as_printed(tuning_job)


def test_aws_logs_reads_a_training_jobs_log_as_cloudwatch_holds_it(
    service, tuning_job, environment
):
    def cli(*args):
        return aws("logs", *args, "--endpoint-url", service.url, environment=environment)

    best = tuning_job["BestTrainingJob"]["TrainingJobName"]
    lr = float(tuning_job["BestTrainingJob"]["TunedHyperParameters"]["lr"])
    started = sagemaker_client(service.url).describe_training_job(TrainingJobName=best)[
        "TrainingStartTime"
    ]
    group = "/aws/sagemaker/TrainingJobs"
    streams = cli(
        "describe-log-streams", "--log-group-name", group, "--log-stream-name-prefix", f"{best}/"
    )["logStreams"]
    stream = f"{best}/algo-1-{int(started.timestamp())}"
    assert [s["logStreamName"] for s in streams] == [stream]
    events = cli(
        "get-log-events",
        "--log-group-name",
        group,
        "--log-stream-name",
        stream,
        "--start-from-head",
    )["events"]
    # What train.py printed (two epochs), each line an event.
    assert [e["message"] for e in events] == [
        f"epoch 1: acc={1 - lr / 1:.6f};",
        f"epoch 2: acc={1 - lr / 2:.6f};",
    ]
    assert events[0]["timestamp"] <= events[1]["timestamp"]
    found = cli("filter-log-events", "--log-group-name", group, "--filter-pattern", '"epoch 2"')[
        "events"
    ]
    assert [(e["logStreamName"], e["message"]) for e in found if e["logStreamName"] == stream] == [
        (stream, f"epoch 2: acc={1 - lr / 2:.6f};")
    ]


def test_aws_cloudwatch_reads_a_training_jobs_metrics(service, tuning_job, environment):
    """The CLI's own botocore speaks CloudWatch's AWS JSON 1.0, as boto3 does."""

    def cli(*args):
        return aws("cloudwatch", *args, "--endpoint-url", service.url, environment=environment)

    best = tuning_job["BestTrainingJob"]["TrainingJobName"]
    lr = float(tuning_job["BestTrainingJob"]["TunedHyperParameters"]["lr"])
    described = sagemaker_client(service.url).describe_training_job(TrainingJobName=best)
    start = described["TrainingStartTime"] - timedelta(minutes=1)
    end = described["TrainingEndTime"] + timedelta(minutes=1)
    asked = {
        "Namespace": "/aws/sagemaker/TrainingJobs",
        "MetricName": "acc",
        "Dimensions": [{"Name": "TrainingJobName", "Value": best}],
        "StartTime": start,
        "EndTime": end,
        "Period": 60,
        "Statistics": ["SampleCount", "Minimum", "Maximum", "Sum"],
    }
    printed = cli(
        "get-metric-statistics",
        "--namespace",
        asked["Namespace"],
        "--metric-name",
        "acc",
        "--dimensions",
        f"Name=TrainingJobName,Value={best}",
        "--start-time",
        start.isoformat(),
        "--end-time",
        end.isoformat(),
        "--period",
        "60",
        "--statistics",
        *asked["Statistics"],
    )
    client = checked_client("cloudwatch", service.url)
    assert printed == as_printed(client.get_metric_statistics(**asked))
    # What train.py printed: acc = 1 - lr / epoch for epochs 1 and 2, in one minute or two.
    datapoints = printed["Datapoints"]
    assert sum(d["SampleCount"] for d in datapoints) == 2
    assert min(d["Minimum"] for d in datapoints) == pytest.approx(1 - lr, abs=1e-6)
    assert max(d["Maximum"] for d in datapoints) == pytest.approx(1 - lr / 2, abs=1e-6)
    assert sum(d["Sum"] for d in datapoints) == pytest.approx(2 - 1.5 * lr, abs=1e-6)

    listed = cli("list-metrics", "--namespace", "/aws/sagemaker/TrainingJobs")
    assert listed == as_printed(client.list_metrics(Namespace="/aws/sagemaker/TrainingJobs"))
    assert {"Name": "Host", "Value": f"{best}/algo-1"} in [
        dimension for metric in listed["Metrics"] for dimension in metric["Dimensions"]
    ]
    assert len(listed["Metrics"]) == 6  # three training jobs' acc, by each dimension
