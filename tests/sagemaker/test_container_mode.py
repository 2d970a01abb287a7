"""CreateTrainingJob with a ContainerEntrypoint, as SDK v3's ModelTrainer sends it, run
without Docker: boto3's SageMaker client at a live service, data and models in moto's S3,
real `logmetrics worker` processes that run the entry point on their own system with the
run's folder as its private /opt/ml."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.clients.opt_ml import isolation_problem
from app.clients.script_mode import launch
from app.clients.sharing import Sharing
from app.clients.training_job import CheckpointConfig, InputChannel, TrainingJob, Unrunnable
from tests.sagemaker.test_s3_worker import channel, unpacked

REPOSITORY = Path(__file__).resolve().parents[2]

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


@pytest.fixture
def private_namespace():
    """Skips a test that runs a job where this machine can make no private /opt/ml."""
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
    service, sagemaker, s3, tmp_path, private_namespace
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
    service, sagemaker, s3, tmp_path, private_namespace
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


def test_two_jobs_at_once_each_have_their_own_opt_ml(
    service, sagemaker, s3, tmp_path, private_namespace
):
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


# launch itself, for a job with a container entry point and no Docker engine.

SEES = (
    'echo "$PWD $SM_MODEL_DIR $SM_CHANNEL_NOTES $SM_INPUT_CONFIG_DIR $TRAINING_JOB_NAME";'
    " cat /opt/ml/input/data/notes/n.txt; ls /opt/ml/input/config"
)


@pytest.fixture
def no_docker(monkeypatch):
    monkeypatch.setattr("app.clients.script_mode.docker_available", lambda: False)


def test_launch_runs_the_entry_point_before_script_mode_with_opt_ml_its_own(
    tmp_path, no_docker, private_namespace
):
    notes = tmp_path / "shared" / "notes"
    notes.mkdir(parents=True)
    (notes / "n.txt").write_text("note\n")
    job = TrainingJob(
        "mt-1",
        (InputChannel("notes", f"file://{notes}"),),
        container_entrypoint=("/bin/sh",),
        container_arguments=("-c", SEES),
    )
    # Script mode's hyperparameters, and an image this worker maps: the entry point wins.
    hyperparameters = {"epochs": "3", "sagemaker_program": "train.py"}

    found = launch(
        hyperparameters,
        IMAGE,
        job,
        {IMAGE: "false"},
        tmp_path / "run",
        sharing=Sharing((tmp_path / "shared",)),
    )
    done = subprocess.run(
        found.command,
        env={**os.environ, **found.environment},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        "/opt/ml /opt/ml/model /opt/ml/input/data/notes /opt/ml/input/config mt-1\n"
        "note\n"
        "hyperparameters.json\ninputdataconfig.json\nresourceconfig.json\n"
    )
    # The shipper writes hyperparameters.json there again: the file the job reads.
    assert found.config_dir == str(tmp_path / "run" / "input" / "config")
    config = json.loads(
        (tmp_path / "run" / "input" / "config" / "hyperparameters.json").read_text()
    )
    assert config == hyperparameters


def test_a_checkpoint_path_other_than_opt_ml_checkpoints_is_refused_before_any_download(
    tmp_path, no_docker
):
    job = TrainingJob(
        "mt-1",
        (InputChannel("train", "s3://bucket/train"),),
        checkpoint=CheckpointConfig("s3://bucket/ckpt", "/ckpt"),
        container_entrypoint=("/bin/sh",),
        container_arguments=("-c", "true"),
    )

    with pytest.raises(Unrunnable) as refused:
        launch({}, IMAGE, job, {}, tmp_path / "run")  # no S3: a download would be refused

    assert str(refused.value) == (
        "CheckpointConfig.LocalPath '/ckpt': without Docker this worker keeps checkpoints "
        "at /opt/ml/checkpoints only; leave LocalPath out"
    )
    assert not (tmp_path / "run").exists()


def test_a_worker_that_can_make_no_private_opt_ml_refuses_the_entry_point(tmp_path):
    # A PATH without unshare, mount or docker: a worker on a system without util-linux.
    empty = tmp_path / "bin"
    empty.mkdir()
    program = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from app.clients.script_mode import launch
        from app.clients.training_job import TrainingJob, Unrunnable
        job = TrainingJob("mt-1", container_entrypoint=("/bin/sh",))
        try:
            launch({}, "trainer:1", job, {}, Path(sys.argv[1]))
        except Unrunnable as exc:
            print(exc)
        """
    )

    done = subprocess.run(
        [sys.executable, "-c", program, str(tmp_path / "run")],
        env={**os.environ, "PATH": str(empty)},
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        "this worker cannot give a training job its own /opt/ml: `unshare` or `mount` is "
        "not installed (install util-linux)\n"
    )
    assert not (tmp_path / "run").exists()


def test_where_docker_answers_the_entry_point_runs_in_the_image(tmp_path, monkeypatch):
    monkeypatch.setattr("app.clients.script_mode.docker_available", lambda: True)
    job = TrainingJob("mt-1", container_entrypoint=("/bin/sh",), container_arguments=("-c", "true"))

    found = launch({"sagemaker_program": "train.py"}, IMAGE, job, {IMAGE: "false"}, tmp_path)

    assert found.command == [
        *("docker", "run", "--rm", "-v", f"{tmp_path}:/opt/ml", "--entrypoint=/bin/sh"),
        *("--", IMAGE, "-c", "true"),
    ]
