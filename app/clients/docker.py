"""Where a Docker engine answers: a training image run as SageMaker runs a
bring-your-own container, the run's folder mounted as its /opt/ml."""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from app.clients.toolkit import RunFolders, write_config
from app.clients.training_job import CHECKPOINTS_IN_CONTAINER, TrainingJob, Unrunnable
from app.protocol.images import image_reference_problem

__all__ = ["docker_available", "docker_command"]


def docker_command(
    image: str,
    hyperparameters: Mapping[str, str],
    channels: Mapping[str, Path],
    workdir: Path,
    environment: Mapping[str, str],
    job: TrainingJob | None = None,
) -> list[str]:
    """`docker run ... -- IMAGE train` as SageMaker runs a bring-your-own container.

    `workdir`, laid out as /opt/ml is (`RunFolders`), is mounted at /opt/ml: its config
    files, the model and output folders the worker uploads from, the checkpoints (also
    mounted at the CheckpointConfig's LocalPath, where that is elsewhere). Each channel's
    folder is mounted read-only at /opt/ml/input/data/NAME, and the training job
    definition's environment is set. The GPUs the worker gave the run, if any, are the
    container's (`--gpus "device=0,1"`). ContainerEntrypoint replaces the image's entry point
    and, with ContainerArguments, the `train` argument. `--` ends docker's options, so
    nothing after it (the image, the tenant's text) is read as one.

    Args:
        channels: input channels by name, each a folder `launch` has checked is shared,
            or downloaded.
        job: the training job (None: a job of no channels, checkpoints or entry point).

    Raises:
        Unrunnable: `image` is not an image reference, or a channel's or checkpoints'
            path cannot be written in `-v` (it holds a `:` or a `,`, or is not absolute).
    """
    job = job or TrainingJob("training-job")
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
    folders = RunFolders(workdir)
    folders.make()
    write_config(folders.config, hyperparameters, job)
    command = ["docker", "run", "--rm", "-v", f"{workdir}:/opt/ml"]
    for name, folder in sorted(channels.items()):
        command += ["-v", f"{folder}:/opt/ml/input/data/{name}:ro"]
    if job.checkpoint is not None and job.checkpoint.local_path != CHECKPOINTS_IN_CONTAINER:
        local = job.checkpoint.local_path
        if not local.startswith("/") or ":" in local or "," in local:
            raise Unrunnable(
                f"CheckpointConfig.LocalPath {local[:300]!r} must be an absolute path "
                "without ':' or ','"
            )
        command += ["-v", f"{folders.checkpoints}:{local}"]
    if job.gpus:
        # Docker's device request: the container sees these GPUs and no other.
        command += ["--gpus", f'"device={",".join(job.gpus)}"']
    for key, value in sorted(environment.items()):
        command += ["-e", f"{key}={value}"]
    arguments = list(job.container_arguments or ())
    if job.container_entrypoint:
        first, *rest = job.container_entrypoint
        # One argument, `=` and all: docker reads the whole of it as the entry point.
        command.append(f"--entrypoint={first}")
        return [*command, "--", image, *rest, *arguments]
    return [*command, "--", image, *(arguments or ["train"])]


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
