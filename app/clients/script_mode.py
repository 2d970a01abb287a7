"""What a worker runs for a run whose search names a training image instead of a command.

In this order, as SageMaker itself would run it:

1. Script mode, as the SageMaker training toolkit runs the framework containers: the
   hyperparameters `sagemaker_program` (the entry point) and `sagemaker_submit_directory`
   (a folder, a `file://` URL, or a `.tar.gz` at one) that the SageMaker SDK sets from an
   estimator's `entry_point` and `source_dir`. The code is copied into the run's working
   folder and run as `python PROGRAM --name value ...`, with the toolkit's environment.
2. An image the worker maps to a command (`logmetrics worker --image NAME=COMMAND`).
3. Where a Docker engine answers, the image itself, as SageMaker runs a bring-your-own
   container: `docker run ... -- IMAGE train`, with the `/opt/ml` layout mounted.
4. Otherwise nothing can run: `Unrunnable` says what was missing and how to fix it.

A training job is a tenant's text, and the worker's disk is not the tenant's: a local path
it names (a `file://` input channel, a `sagemaker_submit_directory` folder, `file://` URL or
archive) is used only if it resolves, symlinks and `..` followed, inside a folder the
worker shares (`Sharing.data_roots`, `logmetrics worker --data-root`; none by default).
A channel is the tenant's data and the submit directory its code, so both follow one
rule. The entry point must lie inside the submitted code, an archive is unpacked within
bounds, and the image must be an image reference. Whatever is refused fails the run with
the reason before anything starts.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from app.protocol.images import image_reference_problem

__all__ = ["Launch", "Sharing", "Unrunnable", "docker_available", "docker_command", "launch"]

# A SageMaker ChannelName ([A-Za-z0-9.-_]+): it becomes a folder of /opt/ml/input/data
# and part of a variable's name, so nothing else may reach `docker run -v` or the
# environment, whatever the API in front let through.
_CHANNEL_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


class Unrunnable(Exception):
    """The worker cannot run this training job; the message is its failure reason."""


@dataclass(frozen=True)
class Launch:
    command: list[str]
    environment: dict[str, str]
    cwd: str | None


@dataclass(frozen=True)
class Sharing:
    """What of the worker's disk a training job may use.

    `data_roots`: folders (resolved, symlinks followed) under which `file://` channels
    and a local `sagemaker_submit_directory` may lie; none shares nothing.
    `max_source_bytes`, `max_source_files`: the most a `sourcedir.tar.gz` may unpack to,
    in bytes of its files and in entries, checked entry by entry as it is read.
    """

    data_roots: tuple[Path, ...] = ()
    max_source_bytes: int = 1 << 30
    max_source_files: int = 100_000


def launch(
    hyperparameters: Mapping[str, str],
    training_image: str | None,
    channels: Mapping[str, str],
    images: Mapping[str, str],
    workdir: Path,
    environment: Mapping[str, str] | None = None,
    sharing: Sharing | None = None,
) -> Launch:
    """How to run a training job in `workdir` (a fresh folder of the worker's).

    Args:
        channels: input channels by name, `file://` URLs.
        images: the images this worker maps to commands.
        environment: the training job definition's, for a container.
        sharing: what of this worker's disk the job may use (default: nothing).

    Raises:
        Unrunnable: nothing here can run it, or it names what it may not use: a channel
            or submit directory outside the data roots, an entry point outside its
            code, an archive over the bounds, an image that is no image reference.
    """
    sharing = sharing or Sharing()
    # Every mode exposes the channels (SM_CHANNEL_<NAME>, or a mount): checked once, first.
    folders = {}
    for name, uri in sorted(channels.items()):
        if not _CHANNEL_NAME.fullmatch(name) or name in (".", ".."):
            raise Unrunnable(f"input channel name {name[:80]!r} is not a SageMaker ChannelName")
        folders[name] = _shared(f"input channel {name!r} at", uri, sharing)
    program = _plain(hyperparameters.get("sagemaker_program"))
    if program is not None:
        return _script_mode(program, hyperparameters, folders, workdir, sharing)
    toolkit = _toolkit_environment(hyperparameters, folders, workdir)
    if training_image is not None and training_image in images:
        return Launch(shlex.split(images[training_image]), toolkit, None)
    if training_image and docker_available():
        command = docker_command(
            training_image, hyperparameters, folders, workdir, environment or {}
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
    channels: Mapping[str, Path],
    workdir: Path,
    environment: Mapping[str, str],
) -> list[str]:
    """`docker run ... -- IMAGE train` as SageMaker runs a bring-your-own container.

    The hyperparameters go in /opt/ml/input/config, each channel's folder is mounted
    read-only at /opt/ml/input/data/NAME, the model and output folders are writable, and
    the training job definition's environment is set. `--` ends docker's options, so
    nothing after it (the image, the tenant's text) is read as one.

    Args:
        channels: input channels by name, each a folder `launch` has checked is shared.

    Raises:
        Unrunnable: `image` is not an image reference, or a channel's path cannot be
            written in `-v` (it holds a `:` or a `,`).
    """
    problem = image_reference_problem(image)
    if problem is not None:
        # Job creation refuses such an image too; a job stored before it did, or a
        # service of another version, must not put text where docker reads options.
        raise Unrunnable(f"training image {image[:300]!r} {problem}")
    for name, folder in channels.items():
        if ":" in str(folder) or "," in str(folder):
            raise Unrunnable(
                f"input channel {name!r}: {str(folder)!r} holds ':' or ',', which docker -v "
                "would read as the mount's own fields"
            )
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
    for name, folder in sorted(channels.items()):
        command += ["-v", f"{folder}:/opt/ml/input/data/{name}:ro"]
    for key, value in sorted(environment.items()):
        command += ["-e", f"{key}={value}"]
    return [*command, "--", image, "train"]


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
    program: str,
    hyperparameters: Mapping[str, str],
    channels: Mapping[str, Path],
    workdir: Path,
    sharing: Sharing,
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
    entry = Path(program)
    # Checked before anything is copied; the copy is checked again below, for symlinks.
    if entry.is_absolute() or ".." in entry.parts or program.startswith("-") or not program:
        raise Unrunnable(
            f"sagemaker_program {program!r} must be a relative path inside "
            "sagemaker_submit_directory, without '..' (and not beginning with '-')"
        )
    path = _shared("sagemaker_submit_directory", source, sharing)
    try:
        if path.is_dir():
            # Symlinks are copied as symlinks: the worker reads nothing outside the
            # shared folder on the job's behalf.
            shutil.copytree(path, code, symlinks=True)
        elif path.is_file() and path.name.endswith((".tar.gz", ".tgz")):
            _unpack(path, code, sharing)
        else:
            raise Unrunnable(f"sagemaker_submit_directory {source!r}: no such folder or .tar.gz")
    except (OSError, tarfile.TarError) as exc:
        raise Unrunnable(f"cannot unpack sagemaker_submit_directory {source!r}: {exc}") from exc
    inside = code.resolve()
    target = (code / entry).resolve()
    if not target.is_relative_to(inside):
        raise Unrunnable(
            f"sagemaker_program {program!r} leads outside sagemaker_submit_directory "
            "(through a symlink)"
        )
    if not target.is_file():
        raise Unrunnable(f"sagemaker_program {program!r} is not in {source!r}")
    user = _decoded_hyperparameters(hyperparameters)
    arguments = [part for name in sorted(user) for part in (f"--{name}", _argument(user[name]))]
    environment = _toolkit_environment(hyperparameters, channels, workdir)
    environment["SM_USER_ENTRY_POINT"] = program
    environment["SM_MODULE_DIR"] = str(code)
    return Launch([sys.executable, program, *arguments], environment, str(code))


def _shared(what: str, given: str, sharing: Sharing) -> Path:
    """The folder or file `given` (a `file://` URL or a path) names, symlinks and `..`
    resolved, if it lies inside one of the worker's data roots.

    Raises:
        Unrunnable: it is not a local path, does not exist, or is not shared.
    """
    if given.startswith("file:"):
        url = urlparse(given)
        if url.netloc not in ("", "localhost"):
            raise Unrunnable(f"{what} {given!r} names host {url.netloc!r}: only local paths")
        text = unquote(url.path)
    else:
        text = given
    try:
        found = Path(text).resolve()
        if any(found.is_relative_to(root.resolve()) for root in sharing.data_roots):
            # strict, once inside: a path that does not exist yet could be made later, or
            # by docker -v (as root), somewhere no check saw.
            return found.resolve(strict=True)
    except (OSError, ValueError, RuntimeError) as exc:  # missing, NUL, symlink loop
        raise Unrunnable(f"{what} {given!r} cannot be read on this worker: {exc}") from exc
    # Said the same whether the path exists or not: a tenant learns nothing of the disk.
    shared = ", ".join(str(root) for root in sharing.data_roots) or "none"
    raise Unrunnable(
        f"{what} {given!r} is {str(found)!r}, outside the folders this worker shares "
        f"(its --data-root folders: {shared})"
    )


def _unpack(archive: Path, code: Path, sharing: Sharing) -> None:
    """Extract a `sourcedir.tar.gz` into `code`, entry by entry, within the bounds.

    Each entry's size is read from its header before its bytes are, so an archive that
    would unpack to more than `max_source_bytes`, or hold more than `max_source_files`
    entries, is refused having written at most the bound. tarfile's "data" filter refuses
    absolute names, `..`, links that lead outside `code`, and device files.

    Raises:
        Unrunnable: over a bound. tarfile.TarError, OSError: a broken archive.
    """
    code.mkdir(parents=True)
    files = size = 0
    with tarfile.open(archive) as tar:
        for entry in tar:  # reads one header at a time, as the entries are extracted
            files += 1
            size += entry.size if entry.isreg() else 0
            if files > sharing.max_source_files:
                raise Unrunnable(
                    f"sagemaker_submit_directory {str(archive)!r} holds more than "
                    f"{sharing.max_source_files} entries (this worker's --max-source-files)"
                )
            if size > sharing.max_source_bytes:
                raise Unrunnable(
                    f"sagemaker_submit_directory {str(archive)!r} unpacks to more than "
                    f"{sharing.max_source_bytes} bytes (this worker's --max-source-bytes)"
                )
            tar.extract(entry, code, filter="data")


def _toolkit_environment(
    hyperparameters: Mapping[str, str], channels: Mapping[str, Path], workdir: Path
) -> dict[str, str]:
    """The SageMaker training toolkit's variables (besides SM_HPS and the config folder,
    which the shipper sets for every run)."""
    user = _decoded_hyperparameters(hyperparameters)
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
        text = value if isinstance(value, str) else json.dumps(value)
        environment[f"SM_HP_{name.upper()}"] = text
    for name, folder in channels.items():
        environment[f"SM_CHANNEL_{name.upper()}"] = str(folder)
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


def _decoded_hyperparameters(hyperparameters: Mapping[str, str]) -> dict[str, Any]:
    """A training job's own hyperparameters (not `sagemaker_*`) as the SageMaker training
    toolkit reads them: each value JSON-decoded, since the SageMaker SDK JSON-encodes every
    one it sends (`"\"x\""`, `"0.01"`, `"true"`). A value that is no JSON (a tuned
    categorical value AMT sends as it is, `adam`) stays text; the toolkit would then keep
    every value as text, quotes and all, and this one does not.
    """
    decoded: dict[str, Any] = {}
    for name, value in hyperparameters.items():
        if name.startswith("sagemaker_"):
            continue
        try:
            decoded[name] = json.loads(value)
        except ValueError:
            decoded[name] = value
    return decoded


def _argument(value: Any) -> str:
    """A decoded hyperparameter as the toolkit writes it after `--name`: str() of it (so
    JSON's true is `True`), a mapping as `k=v,...` in key order."""
    if isinstance(value, dict):
        return ",".join(f"{key}={item}" for key, item in sorted(value.items()))
    return "" if value is None else str(value)


def _plain(value: str | None) -> str | None:
    """A hyperparameter as the SageMaker SDK may send it, JSON-encoded (`"\\"train.py\\""`)."""
    if value is None:
        return None
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, str) else value
