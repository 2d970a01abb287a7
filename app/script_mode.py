"""What a worker runs for a run whose search names a training image instead of a command.

In this order, as SageMaker itself would run it:

1. Script mode, as the SageMaker training toolkit runs the framework containers: the
   hyperparameters `sagemaker_program` (the entry point) and `sagemaker_submit_directory`
   (a folder, a `file://` URL, or a `.tar.gz` at one) that the SageMaker SDK sets from an
   estimator's `entry_point` and `source_dir`. The code is copied into the run's working
   folder and run as `python PROGRAM --name value ...`, with the toolkit's environment.
2. An image the worker maps to a command (`logmetrics worker --image NAME=COMMAND`).
3. Where a Docker engine answers, the image itself, as SageMaker runs a bring-your-own
   container: `docker run IMAGE train`, with the `/opt/ml` layout mounted.
4. Otherwise nothing can run: `Unrunnable` says what was missing and how to fix it.
"""

from __future__ import annotations

import functools
import json
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

__all__ = ["Launch", "Unrunnable", "docker_available", "docker_command", "launch"]


class Unrunnable(Exception):
    """The worker cannot run this training job; the message is its failure reason."""


@dataclass(frozen=True)
class Launch:
    command: list[str]
    environment: dict[str, str]
    cwd: str | None


def launch(
    hyperparameters: Mapping[str, str],
    training_image: str | None,
    channels: Mapping[str, str],
    images: Mapping[str, str],
    workdir: Path,
    environment: Mapping[str, str] | None = None,
) -> Launch:
    """How to run a training job in `workdir` (a fresh folder of the worker's).

    Raises: Unrunnable.
    """
    program = _plain(hyperparameters.get("sagemaker_program"))
    if program is not None:
        return _script_mode(program, hyperparameters, channels, workdir)
    toolkit = _toolkit_environment(hyperparameters, channels, workdir)
    if training_image is not None and training_image in images:
        return Launch(shlex.split(images[training_image]), toolkit, None)
    if training_image and docker_available():
        command = docker_command(
            training_image, hyperparameters, channels, workdir, environment or {}
        )
        return Launch(command, {}, None)
    raise Unrunnable(
        f"this worker cannot run training image {training_image!r}: give it "
        f"`--image {training_image}=COMMAND`, or set the hyperparameters sagemaker_program "
        "and sagemaker_submit_directory (script mode); no Docker engine answers on this "
        "worker to run the image itself"
    )


def docker_command(
    image: str,
    hyperparameters: Mapping[str, str],
    channels: Mapping[str, str],
    workdir: Path,
    environment: Mapping[str, str],
) -> list[str]:
    """`docker run IMAGE train` as SageMaker runs a bring-your-own container: the
    hyperparameters in /opt/ml/input/config, each `file://` channel read-only at
    /opt/ml/input/data/NAME, the model and output folders writable, the training job
    definition's environment set."""
    root = workdir / "opt_ml"
    config = root / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (root / "model").mkdir(exist_ok=True)
    (root / "output" / "data").mkdir(parents=True, exist_ok=True)
    (config / "hyperparameters.json").write_text(json.dumps(dict(hyperparameters)))
    (config / "inputdataconfig.json").write_text(
        json.dumps({name: {"TrainingInputMode": "File"} for name in channels})
    )
    command = ["docker", "run", "--rm", "-v", f"{root}:/opt/ml"]
    for name, uri in sorted(channels.items()):
        command += ["-v", f"{unquote(urlparse(uri).path)}:/opt/ml/input/data/{name}:ro"]
    for key, value in sorted(environment.items()):
        command += ["-e", f"{key}={value}"]
    return [*command, image, "train"]


@functools.cache
def docker_available() -> bool:
    """Whether a Docker engine answers here (the client alone is not enough)."""
    if shutil.which("docker") is None:
        return False
    try:
        done = subprocess.run(["docker", "info"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _script_mode(
    program: str, hyperparameters: Mapping[str, str], channels: Mapping[str, str], workdir: Path
) -> Launch:
    source = _plain(hyperparameters.get("sagemaker_submit_directory"))
    code = workdir / "code"
    if source is None:
        raise Unrunnable("script mode needs the hyperparameter sagemaker_submit_directory")
    if source.startswith("s3://"):
        raise Unrunnable(
            f"sagemaker_submit_directory {source!r} is in S3, which this worker cannot read: "
            "use a folder or a file:// URL the worker can reach"
        )
    path = Path(unquote(urlparse(source).path)) if source.startswith("file://") else Path(source)
    try:
        if path.is_dir():
            shutil.copytree(path, code)
        elif path.is_file() and path.name.endswith((".tar.gz", ".tgz")):
            code.mkdir(parents=True)
            with tarfile.open(path) as archive:
                archive.extractall(code, filter="data")
        else:
            raise Unrunnable(f"sagemaker_submit_directory {source!r}: no such folder or .tar.gz")
    except (OSError, tarfile.TarError) as exc:
        raise Unrunnable(f"cannot unpack sagemaker_submit_directory {source!r}: {exc}") from exc
    if not (code / program).is_file():
        raise Unrunnable(f"sagemaker_program {program!r} is not in {source!r}")
    arguments = []
    for name, value in hyperparameters.items():
        if not name.startswith("sagemaker_"):
            arguments += [f"--{name}", value]
    environment = _toolkit_environment(hyperparameters, channels, workdir)
    environment["SM_USER_ENTRY_POINT"] = program
    environment["SM_MODULE_DIR"] = str(code)
    return Launch([sys.executable, program, *arguments], environment, str(code))


def _toolkit_environment(
    hyperparameters: Mapping[str, str], channels: Mapping[str, str], workdir: Path
) -> dict[str, str]:
    """The SageMaker training toolkit's variables (besides SM_HPS and the config folder,
    which the shipper sets for every run)."""
    user = {k: v for k, v in hyperparameters.items() if not k.startswith("sagemaker_")}
    model, output = workdir / "model", workdir / "output" / "data"
    for folder in (model, output):
        folder.mkdir(parents=True, exist_ok=True)
    environment = {
        "SM_MODEL_DIR": str(model),
        "SM_OUTPUT_DATA_DIR": str(output),
        "SM_NUM_CPUS": str(os.cpu_count() or 1),
        "SM_NUM_GPUS": "0",
        "SM_CHANNELS": json.dumps(sorted(channels)),
    }
    for name, value in user.items():
        environment[f"SM_HP_{name.upper()}"] = value
    for name, uri in channels.items():
        environment[f"SM_CHANNEL_{name.upper()}"] = unquote(urlparse(uri).path)
    environment["SM_TRAINING_ENV"] = json.dumps(
        {
            "hyperparameters": user,
            "channel_input_dirs": {
                name: environment[f"SM_CHANNEL_{name.upper()}"] for name in channels
            },
            "model_dir": str(model),
            "output_data_dir": str(output),
        }
    )
    return environment


def _plain(value: str | None) -> str | None:
    """A hyperparameter as the SageMaker SDK may send it, JSON-encoded (`"\\"train.py\\""`)."""
    if value is None:
        return None
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, str) else value
