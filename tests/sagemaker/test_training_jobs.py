"""CreateTrainingJob, DescribeTrainingJob, StopTrainingJob and ListTrainingJobs with
boto3 and the SageMaker SDK (v2) against a live service, run by real workers, the model
uploaded to moto's S3 server."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import textwrap
import warnings

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.sagemaker.conftest import tuning_request
from tests.sagemaker.test_api import code_folder, run_worker, script_mode

IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/toy:1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"

# A script-mode program: its arguments as the SageMaker toolkit passes them, literal
# metric lines, and a model written where SM_MODEL_DIR says. parse_args, strict: a lone
# training job gets no --_tuning_objective_metric (only a tuning job's do, as in AMT).
TRAIN = textwrap.dedent(
    """
    import argparse, os, time
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--run_tag")
    parser.add_argument("--sleep", type=float, default=0)
    args = parser.parse_args()
    print(f"tag={args.run_tag}", flush=True)
    if "SM_CHANNEL_TRAIN" in os.environ:
        print("rows:", open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "rows.csv")).read())
    for epoch, acc in zip(range(1, args.epochs + 1), (0.5, 0.75, 0.8125)):
        print(f"epoch {epoch}: acc={acc};", flush=True)
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as model:
        model.write("weights")
    time.sleep(args.sleep)
    """
)


def training_request(name, folder, bucket, **hyperparameters):
    """A CreateTrainingJob request as the SDK v2's Estimator.fit sends it (script mode,
    every hyperparameter JSON-encoded), with most members a request may have."""
    return {
        "TrainingJobName": name,
        "HyperParameters": {
            "epochs": "2",
            "run_tag": '"first"',
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": json.dumps(f"file://{folder}"),
            "sagemaker_container_log_level": "20",
            "sagemaker_region": '"eu-west-1"',
            **hyperparameters,
        },
        "AlgorithmSpecification": {
            "TrainingImage": IMAGE,
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": "acc", "Regex": "acc=([0-9.]+);"}],
            "EnableSageMakerMetricsTimeSeries": True,
        },
        "RoleArn": ROLE,
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
        "ResourceConfig": {"InstanceType": "ml.c5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        "Environment": {"SM_LOG_LEVEL": "20"},
        "CheckpointConfig": {"S3Uri": f"s3://{bucket}/checkpoints"},
        "DebugHookConfig": {"S3OutputPath": f"s3://{bucket}/debug"},
        "ProfilerConfig": {"DisableProfiler": True},
        "RetryStrategy": {"MaximumRetryAttempts": 2},
        "ExperimentConfig": {"ExperimentName": "exp", "TrialName": "trial"},
        "TensorBoardOutputConfig": {"S3OutputPath": f"s3://{bucket}/tb"},
        "Tags": [{"Key": "team", "Value": "vision"}],
    }


def code(tmp_path):
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "train.py").write_text(TRAIN)
    return folder


def plain_client(service):
    """boto3's client without the conftest's check of every answer against the output
    shapes: botocore's model marks ModelArtifacts required, but SageMaker leaves it out
    until a model exists, as the service does."""
    return boto3.client(
        "sagemaker",
        endpoint_url=service.url,
        region_name="eu-west-1",
        aws_access_key_id="any",
        aws_secret_access_key="any",
    )


def error_of(call, **params):
    with pytest.raises(ClientError) as caught:
        call(**params)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_a_training_job_runs_and_is_described_completely(service, sagemaker, s3, tmp_path):
    bucket = s3.new_bucket()
    data = tmp_path / "data"
    data.mkdir()
    (data / "rows.csv").write_text("1,2\n")
    request = training_request("one", code(tmp_path), bucket)
    channel = {
        "ChannelName": "train",
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"file://{data}"}},
    }
    request["InputDataConfig"] = [channel]

    created = sagemaker.create_training_job(**request)

    arn = "arn:aws:sagemaker:eu-west-1:123456789012:training-job/one"
    assert created["TrainingJobArn"] == arn
    waiting = plain_client(service).describe_training_job(TrainingJobName="one")
    assert (waiting["TrainingJobStatus"], waiting["SecondaryStatus"]) == ("InProgress", "Starting")
    assert "ModelArtifacts" not in waiting  # no model yet
    assert "TuningJobArn" not in waiting
    assert [
        s["TrainingJobName"] for s in sagemaker.list_training_jobs()["TrainingJobSummaries"]
    ] == ["one"]

    run_worker(service.url, "--job", "one", "--data-root", str(tmp_path))

    described = sagemaker.describe_training_job(TrainingJobName="one")
    assert (described["TrainingJobStatus"], described["SecondaryStatus"]) == (
        "Completed",
        "Completed",
    )
    assert described["TrainingJobArn"] == arn
    assert described["HyperParameters"] == request["HyperParameters"]
    assert described["AlgorithmSpecification"] == request["AlgorithmSpecification"]
    assert described["RoleArn"] == ROLE
    assert described["ResourceConfig"] == {
        "InstanceType": "ml.c5.xlarge",
        "InstanceCount": 1,
        "VolumeSizeInGB": 5,
    }
    assert described["OutputDataConfig"] == {
        "S3OutputPath": f"s3://{bucket}/output",
        "KmsKeyId": "",
    }
    assert described["StoppingCondition"] == {"MaxRuntimeInSeconds": 600}
    assert described["InputDataConfig"] == [channel]
    assert described["Environment"] == {"SM_LOG_LEVEL": "20"}
    for key in (
        "CheckpointConfig",
        "DebugHookConfig",
        "ProfilerConfig",
        "RetryStrategy",
        "ExperimentConfig",
        "TensorBoardOutputConfig",
    ):
        assert described[key] == request[key], key
    assert (
        described["EnableNetworkIsolation"],
        described["EnableInterContainerTrafficEncryption"],
        described["EnableManagedSpotTraining"],
    ) == (False, False, False)
    assert [(m["MetricName"], m["Value"]) for m in described["FinalMetricDataList"]] == [
        ("acc", 0.75)
    ]
    model = described["ModelArtifacts"]["S3ModelArtifacts"]
    assert model == f"s3://{bucket}/output/one/output/model.tar.gz"
    archive = s3.client().get_object(Bucket=bucket, Key="output/one/output/model.tar.gz")
    with tarfile.open(fileobj=io.BytesIO(archive["Body"].read())) as tar:
        assert tar.extractfile("model.txt").read() == b"weights"
    assert [t["Status"] for t in described["SecondaryStatusTransitions"]] == [
        "Training",
        "Completed",
    ]
    assert described["TrainingTimeInSeconds"] == described["BillableTimeInSeconds"] >= 1
    assert "TuningJobArn" not in described
    log = service.client.get("/v1/jobs/one/runs/one/logs").text
    assert log.startswith("tag=first\nrows: 1,2\n")  # the decoded hyperparameter, the channel

    job = service.client.get("/v1/jobs/one").json()
    assert (job["name"], job["status"]) == ("one", "Completed")
    (summary,) = sagemaker.list_training_jobs()["TrainingJobSummaries"]
    assert (summary["TrainingJobName"], summary["TrainingJobStatus"]) == ("one", "Completed")


def test_a_training_job_without_metric_definitions_or_optional_members(
    service, sagemaker, s3, tmp_path
):
    bucket = s3.new_bucket()
    request = training_request("bare", code(tmp_path), bucket)
    minimal = {
        "TrainingJobName": "bare",
        "HyperParameters": request["HyperParameters"],
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
    }
    sagemaker.create_training_job(**minimal)
    run_worker(service.url, "--job", "bare", "--data-root", str(tmp_path))

    described = sagemaker.describe_training_job(TrainingJobName="bare")
    assert described["TrainingJobStatus"] == "Completed"
    # What SageMaker fills in.
    assert described["ResourceConfig"] == {
        "InstanceType": "ml.m5.large",
        "InstanceCount": 1,
        "VolumeSizeInGB": 30,
    }
    assert described["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}
    assert described["FinalMetricDataList"] == []
    assert described["AlgorithmSpecification"] == minimal["AlgorithmSpecification"]


def test_a_name_a_training_job_or_a_tuning_job_has_is_refused(service, sagemaker, tmp_path):
    request = training_request("one", tmp_path, "bucket")
    sagemaker.create_training_job(**request)
    sagemaker.create_hyper_parameter_tuning_job(**tuning_request("toy"))
    run = service.client.post("/v1/leases", json={"worker": "w", "jobs": ["toy"]}).json()
    tuning_run = run["lease"]["run"]

    for name in ("one", "toy", tuning_run):
        assert error_of(sagemaker.create_training_job, **{**request, "TrainingJobName": name}) == (
            "ResourceInUse",
            "Training job names must be unique within an AWS account and region, and a "
            "training job with this name already exists "
            f"(arn:aws:sagemaker:eu-west-1:123456789012:training-job/{name})",
        )
    assert error_of(
        sagemaker.create_training_job,
        **{
            **request,
            "TrainingJobName": "two",
            "AlgorithmSpecification": {"TrainingInputMode": "File"},
        },
    ) == (
        "ValidationException",
        "AlgorithmSpecification with a TrainingImage or an AlgorithmName is required.",
    )
    assert error_of(sagemaker.describe_training_job, TrainingJobName="toy") == (
        "ValidationException",
        "Requested resource not found: training job 'toy'",
    )


@pytest.mark.parametrize(
    ("source", "refusal"),
    [
        (
            {
                "FileSystemDataSource": {
                    "FileSystemId": "fs-0123456789abcdef0",
                    "FileSystemAccessMode": "ro",
                    "FileSystemType": "EFS",
                    "DirectoryPath": "/data",
                }
            },
            "input channel 'train': logmetrics does not support FileSystemDataSource "
            "(a worker reads s3:// and file:// data).",
        ),
        (
            {
                "S3DataSource": {
                    "S3DataType": "AugmentedManifestFile",
                    "S3Uri": "s3://bucket/manifest",
                    "AttributeNames": ["a"],
                }
            },
            "input channel 'train': logmetrics does not support AugmentedManifestFile "
            "(S3Prefix and ManifestFile are).",
        ),
        (
            {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "https://bucket/data"}},
            "input channel 'train': S3Uri 'https://bucket/data' is neither s3:// nor file://.",
        ),
    ],
)
def test_a_channel_no_worker_can_deliver_is_refused_when_the_job_is_created(
    service, sagemaker, tmp_path, source, refusal
):
    channels = [{"ChannelName": "train", "DataSource": source}]
    training = {**training_request("one", tmp_path, "bucket"), "InputDataConfig": channels}
    tuning = tuning_request("toy")
    tuning["TrainingJobDefinition"]["InputDataConfig"] = channels

    assert error_of(sagemaker.create_training_job, **training) == ("ValidationException", refusal)
    assert error_of(sagemaker.create_hyper_parameter_tuning_job, **tuning) == (
        "ValidationException",
        refusal,
    )
    assert service.client.get("/v1/jobs").json()["jobs"] == []  # nothing was made


def test_stopping_a_running_training_job_ends_it_stopped(service, sagemaker, s3, tmp_path):
    bucket = s3.new_bucket()
    sagemaker.create_training_job(**training_request("slow", code(tmp_path), bucket, sleep="600"))
    command = [sys.executable, "-m", "app", "worker", "--url", service.url, "--poll", "0.2"]
    with subprocess.Popen(
        [*command, "--job", "slow", "--data-root", str(tmp_path)],
        stderr=subprocess.PIPE,
        text=True,
    ) as worker:
        try:
            # The worker says so once the program has started.
            for line in worker.stderr:
                if "slow of slow started" in line:
                    break
            running = plain_client(service).describe_training_job(TrainingJobName="slow")
            assert running["SecondaryStatus"] == "Training"
            assert "ModelArtifacts" not in running

            sagemaker.stop_training_job(TrainingJobName="slow")
            worker.stderr.read()
            assert worker.wait(timeout=120) == 0
        finally:
            worker.kill()

    described = sagemaker.describe_training_job(TrainingJobName="slow")
    assert (described["TrainingJobStatus"], described["SecondaryStatus"]) == ("Stopped", "Stopped")
    assert described["FailureReason"] == "stopped by StopTrainingJob"
    assert described["ModelArtifacts"]["S3ModelArtifacts"] == (
        f"s3://{bucket}/output/slow/output/model.tar.gz"
    )
    assert error_of(sagemaker.stop_training_job, TrainingJobName="slow") == (
        "ValidationException",
        "The training job 'slow' has already ended (Stopped).",
    )


def test_stopping_a_training_job_no_worker_started_stops_it(service, sagemaker, tmp_path):
    sagemaker.create_training_job(**training_request("idle", tmp_path, "bucket"))

    sagemaker.stop_training_job(TrainingJobName="idle")

    described = plain_client(service).describe_training_job(TrainingJobName="idle")
    assert (described["TrainingJobStatus"], described["SecondaryStatus"]) == ("Stopped", "Stopped")
    assert "ModelArtifacts" not in described
    assert service.client.post("/v1/leases", json={"worker": "w"}).json()["lease"] is None
    assert error_of(sagemaker.stop_training_job, TrainingJobName="idle") == (
        "ValidationException",
        "The training job 'idle' has already ended.",
    )


@pytest.fixture
def sdk(monkeypatch):
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    with warnings.catch_warnings():
        # The SDK's own imports warn (deprecations of its dependencies): not ours.
        warnings.simplefilter("ignore")
        import sagemaker
        import sagemaker.estimator
        import sagemaker.pytorch
        import sagemaker.tuner
    return sagemaker


def sdk_session(sagemaker, service):
    boto = boto3.Session(
        region_name="eu-west-1", aws_access_key_id="any", aws_secret_access_key="any"
    )
    client = boto.client("sagemaker", endpoint_url=service.url)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sagemaker.Session(boto_session=boto, sagemaker_client=client)


def test_the_sdk_attaches_to_a_training_job(service, sagemaker, sdk, s3, tmp_path):
    bucket = s3.new_bucket()
    folder = code(tmp_path)
    sagemaker.create_training_job(**training_request("one", folder, bucket))
    run_worker(service.url, "--job", "one", "--data-root", str(tmp_path))
    session = sdk_session(sdk, service)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator = sdk.estimator.Estimator.attach("one", sagemaker_session=session)
        framework = sdk.pytorch.PyTorch.attach("one", sagemaker_session=session)
        model_data = estimator.model_data

    assert estimator.hyperparameters() == {
        "epochs": "2",
        "run_tag": '"first"',
        "sagemaker_program": '"train.py"',
        "sagemaker_submit_directory": json.dumps(f"file://{folder}"),
        "sagemaker_container_log_level": "20",
        "sagemaker_region": '"eu-west-1"',
    }
    assert (estimator.role, estimator.instance_type, estimator.instance_count) == (
        ROLE,
        "ml.c5.xlarge",
        1,
    )
    assert (estimator.output_path, estimator.max_run, estimator.image_uri) == (
        f"s3://{bucket}/output",
        600,
        IMAGE,
    )
    assert model_data == f"s3://{bucket}/output/one/output/model.tar.gz"
    assert estimator.tags == [{"Key": "team", "Value": "vision"}]
    assert (framework.entry_point, framework.source_dir) == ("train.py", f"file://{folder}")
    assert framework.hyperparameters()["run_tag"] == '"first"'


def test_the_sdk_attaches_to_a_tuning_jobs_training_jobs(service, sagemaker, sdk, s3, tmp_path):
    bucket = s3.new_bucket()
    folder = code_folder(tmp_path)
    limits = {"ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1}}
    for name in ("toy", "grouped"):
        request = script_mode(tuning_request(name, **limits), folder)
        definition = request["TrainingJobDefinition"]
        definition["OutputDataConfig"] = {"S3OutputPath": f"s3://{bucket}/output"}
        definition["StaticHyperParameters"]["sagemaker_container_log_level"] = "20"
        if name == "grouped":
            # As the SDK v2 sends instance_configs: no ResourceConfig.
            del definition["ResourceConfig"]
            definition["HyperParameterTuningResourceConfig"] = {
                "InstanceConfigs": [
                    {"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 40}
                ]
            }
        sagemaker.create_hyper_parameter_tuning_job(**request)
    run_worker(service.url, "--job", "toy", "--job", "grouped", "--data-root", str(tmp_path))
    session = sdk_session(sdk, service)
    (grouped_run, *_) = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="grouped"
    )["TrainingJobSummaries"]
    grouped_name = grouped_run["TrainingJobName"]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tuner = sdk.tuner.HyperparameterTuner.attach("toy", sagemaker_session=session)
        best = tuner.best_estimator()
        best_model = best.model_data
        grouped = sdk.pytorch.PyTorch.attach(grouped_name, sagemaker_session=session)

    name = tuner.best_training_job()
    described = sagemaker.describe_training_job(TrainingJobName=name)
    assert described["TuningJobArn"].endswith(":hyper-parameter-tuning-job/toy")
    assert (best.instance_type, best.role, best.output_path, best.max_run) == (
        "ml.m5.large",
        "arn:aws:iam::123456789012:role/SageMakerRole",
        f"s3://{bucket}/output",
        120,
    )
    assert best.hyperparameters()["lr"] == described["HyperParameters"]["lr"]
    assert best_model == f"s3://{bucket}/output/{name}/output/model.tar.gz"

    assert sagemaker.describe_training_job(TrainingJobName=grouped_name)["ResourceConfig"] == {
        "InstanceType": "ml.g5.xlarge",
        "InstanceCount": 1,
        "VolumeSizeInGB": 40,
    }
    assert (grouped.instance_type, grouped.volume_size, grouped.entry_point) == (
        "ml.g5.xlarge",
        40,
        "train.py",
    )


def test_a_run_of_a_job_made_through_v1_is_described_with_sagemakers_defaults(
    service, sagemaker, make_job, make_run
):
    make_job("gan")
    make_run("gan", "done", {"lr": "0.1"}, log="Loss = 0.25;\n", status="Completed")
    make_run("gan", "running", {"lr": "0.2"})

    done = sagemaker.describe_training_job(TrainingJobName="done")
    running = plain_client(service).describe_training_job(TrainingJobName="running")

    assert done["TrainingJobStatus"] == "Completed"
    for described in (done, running):
        assert described["ResourceConfig"] == {
            "InstanceType": "ml.m5.large",
            "InstanceCount": 1,
            "VolumeSizeInGB": 30,
        }
        assert described["OutputDataConfig"] == {
            "S3OutputPath": "s3://logmetrics/output",
            "KmsKeyId": "",
        }
        assert described["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}
        assert described["TuningJobArn"] == (
            "arn:aws:sagemaker:eu-west-1:123456789012:hyper-parameter-tuning-job/gan"
        )
        assert described["AlgorithmSpecification"]["TrainingInputMode"] == "File"
    assert ("loss", 0.25) in [(m["MetricName"], m["Value"]) for m in done["FinalMetricDataList"]]
    assert done["ModelArtifacts"] == {
        "S3ModelArtifacts": "s3://logmetrics/output/done/output/model.tar.gz"
    }
    assert "ModelArtifacts" not in running
    assert [t["Status"] for t in running["SecondaryStatusTransitions"]] == ["Training"]
