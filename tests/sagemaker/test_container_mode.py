"""CreateTrainingJob with a ContainerEntrypoint, as SDK v3's ModelTrainer sends it, run
without Docker: boto3's SageMaker client at a live service, data and models in moto's S3,
real `logmetrics worker` processes that run the entry point on their own system with the
run's folder as its private /opt/ml."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from app.clients.opt_ml import isolation_problem
from tests.sagemaker.test_s3_worker import channel, unpacked

IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/trainer:1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"

# Reads its hyperparameters and a file of each channel where a container has them,
# prints a metric line, and writes a model of what it saw.
TRAIN = (
    'read s < /opt/ml/input/data/train/part/score.txt; echo "score=$s;";'
    " { cat /opt/ml/input/config/hyperparameters.json; echo;"
    " cat /opt/ml/input/data/notes/note.txt;"
    ' echo "$s $GREETING $TRAINING_JOB_NAME $PWD $SM_MODEL_DIR"; } > /opt/ml/model/model.txt'
)


@pytest.fixture(autouse=True)
def private_namespace():
    problem = isolation_problem()
    if problem is not None:
        pytest.skip(problem)


def container_job(name, bucket, script, hyperparameters, channels=(), environment=None):
    """A CreateTrainingJob request whose container runs `/bin/bash -c SCRIPT`."""
    request = {
        "TrainingJobName": name,
        "HyperParameters": hyperparameters,
        "AlgorithmSpecification": {
            "TrainingImage": IMAGE,
            "TrainingInputMode": "File",
            "ContainerEntrypoint": ["/bin/bash"],
            "ContainerArguments": ["-c", script],
            "MetricDefinitions": [{"Name": "score", "Regex": "score=([0-9.]+);"}],
        },
        "RoleArn": ROLE,
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/models"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 60},
        "Environment": environment or {},
    }
    if channels:
        request["InputDataConfig"] = list(channels)
    return request


def work(service, tmp_path, *args):
    """A worker with no Docker engine to reach (whatever this machine has), so that the
    entry point runs on its own system; it exits once the named jobs have ended."""
    environment = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    command = [sys.executable, "-m", "app", "worker", "--url", service.url, "--poll", "0.2"]
    command += ["--cache-dir", str(tmp_path / "cache"), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=environment)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_an_entry_point_reads_its_opt_ml_and_its_model_lands_in_s3(
    service, sagemaker, s3, tmp_path
):
    bucket = s3.new_bucket()
    client = s3.client()
    client.put_object(Bucket=bucket, Key="data/train/part/score.txt", Body=b"0.8125\n")
    notes = tmp_path / "shared" / "notes"
    notes.mkdir(parents=True)
    (notes / "note.txt").write_text("a shared note\n")
    request = container_job(
        "one",
        bucket,
        TRAIN,
        {"epochs": "3", "tag": "first"},
        [channel("train", f"s3://{bucket}/data/train"), channel("notes", f"file://{notes}")],
        {"GREETING": "hello"},
    )
    sagemaker.create_training_job(**request)

    work(service, tmp_path, "--job", "one", "--data-root", str(tmp_path / "shared"))

    job = sagemaker.describe_training_job(TrainingJobName="one")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert [(m["MetricName"], m["Value"]) for m in job["FinalMetricDataList"]] == [
        ("score", 0.8125)
    ]
    key = "models/one/output/model.tar.gz"
    assert job["ModelArtifacts"]["S3ModelArtifacts"] == f"s3://{bucket}/{key}"
    model = unpacked(client, bucket, key)
    assert list(model) == ["model.txt"]
    hyperparameters, note, seen = model["model.txt"].decode().splitlines()
    assert json.loads(hyperparameters) == {"epochs": "3", "tag": "first"}
    assert note == "a shared note"
    assert seen == "0.8125 hello one /opt/ml /opt/ml/model"
    assert sorted(os.listdir(notes)) == ["note.txt"]  # mounted read-only, left as it was


def test_what_the_entry_point_writes_to_output_failure_is_the_failure_reason(
    service, sagemaker, s3, tmp_path
):
    bucket = s3.new_bucket()
    script = (
        "echo model > /opt/ml/model/model.txt;"
        ' echo "lr must be positive, not -1" > /opt/ml/output/failure;'
        " echo 'the last line of stderr' >&2; exit 1"
    )
    sagemaker.create_training_job(**container_job("bad", bucket, script, {"lr": "-1"}))

    work(service, tmp_path, "--job", "bad")

    job = sagemaker.describe_training_job(TrainingJobName="bad")
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"] == "AlgorithmError: lr must be positive, not -1"
    # A failed job's model is not uploaded, as SageMaker uploads none.
    assert s3.client().list_objects_v2(Bucket=bucket, Prefix="models/")["KeyCount"] == 0


def test_two_jobs_at_once_each_have_their_own_opt_ml(service, sagemaker, s3, tmp_path):
    # Each writes its lr where the other would, if they shared a folder, then waits until
    # both have started (each names itself in `handshake`) before it writes more: both
    # models are being written at the same time, whatever the timing.
    bucket = s3.new_bucket()
    handshake = tmp_path / "handshake"
    handshake.mkdir()
    script = (
        "lr=$(tr -dc 0-9. < /opt/ml/input/config/hyperparameters.json);"
        " echo $lr > /opt/ml/model/lr.txt; touch $HANDSHAKE/$lr;"
        " until [ $(ls $HANDSHAKE | wc -l) -ge 2 ]; do sleep 0.1; done;"
        " echo done >> /opt/ml/model/lr.txt"
    )
    names = {"lr-1": "0.1", "lr-2": "0.2"}
    for name, lr in names.items():
        request = container_job(name, bucket, script, {"lr": lr}, (), {"HANDSHAKE": str(handshake)})
        sagemaker.create_training_job(**request)

    work(service, tmp_path, "--job", "lr-1", "--job", "lr-2", "--parallel", "2")

    assert sorted(os.listdir(handshake)) == ["0.1", "0.2"]
    client = s3.client()
    for name, lr in names.items():
        job = sagemaker.describe_training_job(TrainingJobName=name)
        assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
        model = unpacked(client, bucket, f"models/{name}/output/model.tar.gz")
        assert model == {"lr.txt": f"{lr}\ndone\n".encode()}
