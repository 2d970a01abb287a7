"""What a worker runs for a training job that names an image: script mode, a mapped
image, or the container itself as SageMaker runs one."""

from __future__ import annotations

import io
import json
import sys
import tarfile

import pytest

from app.script_mode import Unrunnable, docker_command, launch

HYPERPARAMETERS = {
    "lr": "0.01",
    "epochs": "3",
    "_tuning_objective_metric": "acc",
    "sagemaker_program": '"train.py"',
}


def test_script_mode_runs_the_program_with_the_toolkits_arguments(tmp_path):
    code = tmp_path / "src"
    code.mkdir()
    (code / "train.py").write_text("print('hi')\n")
    given = {**HYPERPARAMETERS, "sagemaker_submit_directory": f'"file://{code}"'}
    channels = {"train": f"file://{tmp_path}/data"}

    found = launch(given, "image", channels, {}, tmp_path / "run")

    assert found.command == [
        sys.executable,
        "train.py",
        "--lr",
        "0.01",
        "--epochs",
        "3",
        "--_tuning_objective_metric",
        "acc",
    ]
    assert found.cwd == str(tmp_path / "run" / "code")
    assert (tmp_path / "run" / "code" / "train.py").read_text() == "print('hi')\n"
    environment = found.environment
    assert (environment["SM_HP_LR"], environment["SM_HP_EPOCHS"]) == ("0.01", "3")
    assert environment["SM_CHANNEL_TRAIN"] == f"{tmp_path}/data"
    assert environment["SM_MODEL_DIR"] == str(tmp_path / "run" / "model")
    assert json.loads(environment["SM_TRAINING_ENV"])["hyperparameters"] == {
        "lr": "0.01",
        "epochs": "3",
        "_tuning_objective_metric": "acc",
    }


def test_script_mode_unpacks_a_sourcedir_archive(tmp_path):
    archive = tmp_path / "sourcedir.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        body = b"print('packed')\n"
        entry = tarfile.TarInfo("train.py")
        entry.size = len(body)
        tar.addfile(entry, io.BytesIO(body))
    given = {**HYPERPARAMETERS, "sagemaker_submit_directory": f"file://{archive}"}

    found = launch(given, None, {}, {}, tmp_path / "run")

    assert (tmp_path / "run" / "code" / "train.py").read_text() == "print('packed')\n"
    assert found.command[:2] == [sys.executable, "train.py"]


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("s3://bucket/sourcedir.tar.gz", "is in S3, which this worker cannot read"),
        ("/nonexistent/folder", "no such folder or .tar.gz"),
        (None, "script mode needs the hyperparameter sagemaker_submit_directory"),
    ],
)
def test_script_mode_says_what_it_cannot_reach(tmp_path, source, reason):
    given = dict(HYPERPARAMETERS)
    if source is not None:
        given["sagemaker_submit_directory"] = source
    with pytest.raises(Unrunnable, match=reason):
        launch(given, None, {}, {}, tmp_path / "run")


def test_a_mapped_image_runs_its_command_with_the_toolkits_environment(tmp_path):
    found = launch(
        {"lr": "0.1"}, "my/image:1", {}, {"my/image:1": "python -m train --fast"}, tmp_path
    )
    assert found.command == ["python", "-m", "train", "--fast"]
    assert found.environment["SM_HP_LR"] == "0.1"


def test_a_container_runs_as_sagemaker_runs_one(tmp_path):
    command = docker_command(
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/byo:2",
        {"lr": "0.1"},
        {"train": "file:///data/train"},
        tmp_path,
        {"SM_LOG_LEVEL": "20"},
    )
    assert command == [
        "docker",
        "run",
        "--rm",
        "-v",
        f"{tmp_path}/opt_ml:/opt/ml",
        "-v",
        "/data/train:/opt/ml/input/data/train:ro",
        "-e",
        "SM_LOG_LEVEL=20",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/byo:2",
        "train",
    ]
    config = tmp_path / "opt_ml" / "input" / "config"
    assert json.loads((config / "hyperparameters.json").read_text()) == {"lr": "0.1"}
    assert json.loads((config / "inputdataconfig.json").read_text()) == {
        "train": {"TrainingInputMode": "File"}
    }
    assert (tmp_path / "opt_ml" / "model").is_dir()


def test_a_broken_archive_is_a_reason_not_a_crash(tmp_path):
    archive = tmp_path / "sourcedir.tar.gz"
    archive.write_bytes(b"not a tar file")
    given = {**HYPERPARAMETERS, "sagemaker_submit_directory": str(archive)}
    with pytest.raises(Unrunnable, match="cannot unpack sagemaker_submit_directory"):
        launch(given, None, {}, {}, tmp_path / "run")
