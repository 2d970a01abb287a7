"""What a worker runs for a run whose search names a training image instead of a command.

In this order, as SageMaker itself would run it:

1. A container entry point (AlgorithmSpecification.ContainerEntrypoint, with
   ContainerArguments; SDK v3's ModelTrainer sends `/bin/bash -c "... sm_train.sh"`):
   SageMaker runs it in place of the image's own entry point, so it comes before what
   that entry point would do (script mode). Where a Docker engine answers, in the image,
   as 3. does; otherwise on the worker's own system, with the run's folder as its private
   `/opt/ml` (app/clients/opt_ml.py): the image is not pulled, and the command finds its
   programs (`bash`, `python3`, `pip3`, ...) on the worker's PATH.
2. Script mode, as the SageMaker training toolkit runs the framework containers: the
   hyperparameters `sagemaker_program` (the entry point) and `sagemaker_submit_directory`
   (a folder, a `file://` URL, or a `.tar.gz` at one or in S3) that the SageMaker SDK
   sets from an estimator's `entry_point` and `source_dir`. The code is copied into the
   run's working folder, its `requirements.txt` installed (app/clients/requirements.py),
   and run as `python PROGRAM --name value ...`, with the toolkit's environment
   (app/clients/toolkit.py). With network isolation the SDK sends the code as the input
   channel `code` and names it `/opt/ml/input/data/code/sourcedir.tar.gz`: such a path is
   read from the channel's folder.
3. An image the worker maps to a command (`logmetrics worker --image NAME=COMMAND`).
4. Where a Docker engine answers, the image itself, as SageMaker runs a bring-your-own
   container: `docker run ... -- IMAGE train`, with the run's folder mounted at /opt/ml
   (app/clients/docker.py).
5. Otherwise nothing can run: `Unrunnable` says what was missing and how to fix it.

The run's folder (`RunFolders(workdir)`) is laid out as `/opt/ml` in every mode, and is
the job's `/opt/ml` where it runs in one (Docker, a private /opt/ml): its `model` and
`output/data` are what the worker uploads, and its `output/failure` becomes the
FailureReason. SageMaker's config files are in its `input/config` there; a program run on
the host finds them where SM_INPUT_CONFIG_DIR says, the same `input/config`.

Before any mode starts, every input channel gets a folder: an `s3://` one is downloaded
into the run's folder (File mode; Pipe and FastFile are delivered as File), and so is the
CheckpointConfig's prefix, through the worker's `ObjectStore`. Where the worker has
`--s3-root` locations, every object a channel reads is checked against them before it is
requested, a ManifestFile's entries included.

A training job is a tenant's text: a local path it names is used only inside a folder the
worker shares, and an archive is unpacked within bounds (app/clients/sharing.py); the
entry point must lie inside the submitted code, and the image must be an image reference.
Whatever is refused, and any S3 read that fails, fails the run with the reason before
anything starts.
"""

from __future__ import annotations

import functools
import json
import os
import shlex
import shutil
import sys
import tarfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from app.clients.docker import docker_available, docker_command
from app.clients.objects import ObjectStore, ObjectStoreError
from app.clients.opt_ml import MOUNT_POINT, OptMlError, isolated_command, isolation_problem
from app.clients.requirements import InstallFailed, requirements_python
from app.clients.sharing import Sharing, check_s3_location, shared_path, unpack_source
from app.clients.shipper.environment import inherited_environment
from app.clients.toolkit import RunFolders, toolkit_arguments, toolkit_environment, write_config
from app.clients.training_job import (
    CHECKPOINTS_IN_CONTAINER,
    TrainingJob,
    Unrunnable,
    channel_name_problem,
)

__all__ = ["Launch", "launch"]

# Where a container sees its channels: the SDK names code sent as a channel so.
_CHANNELS_IN_CONTAINER = PurePosixPath("/opt/ml/input/data")


@dataclass(frozen=True)
class Launch:
    """How to run it: `config_dir`, where given, is the folder of SageMaker's config files
    the shipper names as SM_INPUT_CONFIG_DIR (writing hyperparameters.json in it)."""

    command: list[str]
    environment: dict[str, str]
    cwd: str | None
    config_dir: str | None = None


def launch(
    hyperparameters: Mapping[str, str],
    training_image: str | None,
    job: TrainingJob,
    images: Mapping[str, str],
    workdir: Path,
    environment: Mapping[str, str] | None = None,
    sharing: Sharing | None = None,
    *,
    store: ObjectStore | None = None,
    cache_dir: Path | None = None,
    secret_env: Iterable[str] = (),
) -> Launch:
    """How to run a training job in `workdir` (a fresh folder of the worker's, the run's
    folder), its `s3://` inputs downloaded into it.

    Args:
        job: the lease's training job: its channels (`s3://` or `file://`), checkpoints,
            container entry point.
        images: the images this worker maps to commands.
        environment: the training job definition's, for a container.
        sharing: what of this worker's disk the job may use (default: nothing).
        store: the worker's S3 (None: an `s3://` input is refused).
        cache_dir: where requirements.txt environments are kept (None: script-mode code
            with a requirements.txt is refused).
        secret_env: the worker's secret variables, withheld from pip as from the program.

    Raises:
        Unrunnable: nothing here can run it, or it names what it may not use: a channel
            or submit directory outside the data roots, an entry point outside its
            code, an archive over the bounds, an image that is no image reference, a
            container entry point this worker can give no private /opt/ml, or a
            CheckpointConfig.LocalPath it cannot honour; or an S3 read, or the
            requirements' install, failed.
    """
    sharing = sharing or Sharing()
    folders = RunFolders(workdir)
    # Every mode exposes the channels (SM_CHANNEL_<NAME>, or a mount): checked once, first,
    # the local ones before anything is downloaded or made.
    local = {}
    for channel in sorted(job.channels, key=lambda channel: channel.name):
        name = channel.name
        problem = channel_name_problem(name)
        if problem is not None:
            raise Unrunnable(problem)
        if not channel.uri.startswith("s3://"):
            local[name] = shared_path(f"input channel {name!r} at", channel.uri, sharing)
        else:
            check_s3_location(f"input channel {name!r} at", channel.uri, sharing)
    _check_s3_locations(hyperparameters, job, sharing)
    program = _plain(hyperparameters.get("sagemaker_program"))
    mapped = training_image is not None and training_image in images
    docker = bool(training_image) and docker_available()
    entrypoint = bool(job.container_entrypoint)
    if entrypoint and not docker:
        _check_entrypoint_here(job)
    elif program is None and not mapped and not docker:
        raise Unrunnable(
            f"this worker cannot run training image {training_image!r}: give it "
            f"`--image {training_image}=COMMAND`, or set the hyperparameters "
            "sagemaker_program and sagemaker_submit_directory (script mode); no Docker "
            "engine answers on this worker to run the image itself"
        )
    folders_of = dict(local)
    for channel in job.channels:
        if channel.uri.startswith("s3://"):
            # Each object too, not only the channel's URI: a manifest names any location.
            check = functools.partial(
                check_s3_location, f"input channel {channel.name!r}: object", sharing=sharing
            )
            with _s3_read(store, f"input channel {channel.name!r}") as s3:
                dest = folders.channel(channel.name)
                folders_of[channel.name] = s3.fetch_channel(
                    channel.uri, dest, channel.data_type, check=check
                )
    if job.checkpoint is not None:
        folders.checkpoints.mkdir(parents=True, exist_ok=True)
        with _s3_read(store, "CheckpointConfig") as s3:
            s3.download_folder(job.checkpoint.uri, folders.checkpoints)
    channels = dict(sorted(folders_of.items()))
    if entrypoint and not docker:
        return _entrypoint_here(hyperparameters, job, local, folders, environment or {})
    if program is not None and not entrypoint:
        return _script_mode(
            program,
            hyperparameters,
            job,
            channels,
            folders,
            sharing,
            store,
            cache_dir,
            secret_env,
            environment or {},
        )
    if training_image is not None and mapped and not entrypoint:
        folders.make()
        config_dir = _host_config_dir(folders, hyperparameters, job)
        toolkit = toolkit_environment(
            hyperparameters, job, channels, folders, config_dir, job_environment=environment
        )
        return Launch(shlex.split(images[training_image]), toolkit, None, str(config_dir))
    assert training_image  # checked above: Docker runs it
    command = docker_command(
        training_image, hyperparameters, channels, workdir, environment or {}, job
    )
    return Launch(command, {}, None)


def _check_s3_locations(
    hyperparameters: Mapping[str, str], job: TrainingJob, sharing: Sharing
) -> None:
    """Refuse, before anything is read, code, checkpoints or an output path in S3 outside
    the worker's `--s3-root` locations (the channels are checked with the local ones)."""
    source = _plain(hyperparameters.get("sagemaker_submit_directory"))
    if source is not None and source.startswith("s3://"):
        check_s3_location("sagemaker_submit_directory", source, sharing)
    # Both are folders (the model goes to <S3OutputPath>/<job>/output/): `s3://b/team-a`
    # is the root `s3://b/team-a/` itself.
    if job.checkpoint is not None:
        check_s3_location("CheckpointConfig.S3Uri", job.checkpoint.uri, sharing, folder=True)
    if job.output_path is not None:
        check_s3_location("OutputDataConfig.S3OutputPath", job.output_path, sharing, folder=True)


def _check_entrypoint_here(job: TrainingJob) -> None:
    """Refuse, before anything is downloaded, a container entry point this worker cannot
    run without Docker."""
    problem = isolation_problem()
    if problem is not None:
        raise Unrunnable(problem)
    if job.checkpoint is not None and job.checkpoint.local_path != CHECKPOINTS_IN_CONTAINER:
        # The private namespace shows the run's folder at /opt/ml alone; another path would
        # be a second mount anywhere on the worker's file system, of the tenant's choosing.
        raise Unrunnable(
            f"CheckpointConfig.LocalPath {job.checkpoint.local_path[:300]!r}: without Docker "
            f"this worker keeps checkpoints at {CHECKPOINTS_IN_CONTAINER} only; leave "
            "LocalPath out"
        )


def _entrypoint_here(
    hyperparameters: Mapping[str, str],
    job: TrainingJob,
    local: Mapping[str, Path],
    folders: RunFolders,
    environment: Mapping[str, str],
) -> Launch:
    """ContainerEntrypoint + ContainerArguments run on this worker, in a private /opt/ml
    that is the run's folder: SageMaker's config files in its input/config, the `s3://`
    channels already downloaded into it, each shared (`file://`) channel in `local`
    mounted read-only at /opt/ml/input/data/NAME. The toolkit's variables name the paths
    the job sees, under /opt/ml; its PATH is the worker's."""
    assert job.container_entrypoint  # the caller's condition
    folders.make()
    folders.checkpoints.mkdir(exist_ok=True)
    for name in local:
        folders.channel(name).mkdir(parents=True)  # the mount point
    config_dir = folders.config
    write_config(config_dir, hyperparameters, job)
    seen = RunFolders(MOUNT_POINT)
    toolkit = toolkit_environment(
        hyperparameters,
        job,
        {channel.name: seen.channel(channel.name) for channel in job.channels},
        seen,
        seen.config,
        job_environment=environment,
    )
    argv = [*job.container_entrypoint, *(job.container_arguments or ())]
    try:
        command = isolated_command(argv, folders.root, local)
    except OptMlError as exc:
        raise Unrunnable(str(exc)) from exc
    # The shipper writes hyperparameters.json into config_dir again, and names it
    # SM_INPUT_CONFIG_DIR; the toolkit's variables, set after, name it as the job sees it.
    return Launch(command, toolkit, None, str(config_dir))


def _script_mode(
    program: str,
    hyperparameters: Mapping[str, str],
    job: TrainingJob,
    channels: Mapping[str, Path],
    folders: RunFolders,
    sharing: Sharing,
    store: ObjectStore | None,
    cache_dir: Path | None,
    secret_env: Iterable[str],
    environment: Mapping[str, str],
) -> Launch:
    source = _plain(hyperparameters.get("sagemaker_submit_directory"))
    code = folders.code
    if source is None:
        raise Unrunnable("script mode needs the hyperparameter sagemaker_submit_directory")
    entry = Path(program)
    # Checked before anything is copied; the copy is checked again below, for symlinks.
    if entry.is_absolute() or ".." in entry.parts or program.startswith("-") or not program:
        raise Unrunnable(
            f"sagemaker_program {program!r} must be a relative path inside "
            "sagemaker_submit_directory, without '..' (and not beginning with '-')"
        )
    if source.startswith("s3://"):
        with _s3_read(store, "sagemaker_submit_directory") as s3:
            path = s3.fetch_object(source, folders.root / "sourcedir.tar.gz")
    else:
        path = _in_channel(source, channels) or shared_path(
            "sagemaker_submit_directory", source, sharing
        )
    try:
        if path.is_dir():
            # Symlinks are copied as symlinks: the worker reads nothing outside the
            # shared folder on the job's behalf.
            shutil.copytree(path, code, symlinks=True)
        elif path.is_file() and path.name.endswith((".tar.gz", ".tgz")):
            unpack_source(path, code, sharing)
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
    python = _python(code, cache_dir, secret_env)
    folders.make()
    config_dir = _host_config_dir(folders, hyperparameters, job)
    toolkit = toolkit_environment(
        hyperparameters,
        job,
        channels,
        folders,
        config_dir,
        program=program,
        job_environment=environment,
    )
    toolkit["SM_USER_ENTRY_POINT"] = program
    command = [python, program, *toolkit_arguments(hyperparameters)]
    return Launch(command, toolkit, str(code), str(config_dir))


def _python(code: Path, cache_dir: Path | None, secret_env: Iterable[str]) -> str:
    """The Python to run the program with: the worker's, or, where the code holds a
    requirements.txt, that of an environment it is installed in."""
    requirements = code / "requirements.txt"
    if not requirements.is_file():
        return sys.executable
    if not requirements.resolve().is_relative_to(code.resolve()):
        raise Unrunnable("requirements.txt leads outside sagemaker_submit_directory")
    if cache_dir is None:
        raise Unrunnable("the code holds a requirements.txt, and this worker has no cache folder")
    try:
        return str(
            requirements_python(
                requirements, cache_dir, inherited_environment(os.environ, secret_env)
            )
        )
    except InstallFailed as exc:
        raise Unrunnable(str(exc)) from exc  # each names requirements.txt


def _in_channel(source: str, channels: Mapping[str, Path]) -> Path | None:
    """Where `/opt/ml/input/data/NAME/...` (the SDK's name for code it sends as a channel,
    with network isolation) lies on this worker: in channel NAME's folder, which was
    checked or downloaded; None for any other path."""
    path = PurePosixPath(source)
    if not path.is_relative_to(_CHANNELS_IN_CONTAINER) or ".." in path.parts:
        return None
    parts = path.relative_to(_CHANNELS_IN_CONTAINER).parts
    if not parts or parts[0] not in channels:
        return None
    folder = channels[parts[0]]
    found = folder.joinpath(*parts[1:]).resolve()
    if not found.is_relative_to(folder.resolve()):
        raise Unrunnable(
            f"sagemaker_submit_directory {source!r} leads outside input channel {parts[0]!r}"
        )
    return found


def _host_config_dir(
    folders: RunFolders, hyperparameters: Mapping[str, str], job: TrainingJob
) -> Path:
    """SageMaker's config files for a program run on the host (script mode, a mapped
    image): in the run's input/config, where a container, or a private /opt/ml, has them."""
    write_config(folders.config, hyperparameters, job)
    return folders.config


@contextmanager
def _s3_read(store: ObjectStore | None, what: str) -> Iterator[ObjectStore]:
    """The worker's S3, to read `what` from; a failed read is a reason to refuse the run."""
    if store is None:
        raise Unrunnable(f"{what} is in S3, and this worker has no S3 to read it from")
    try:
        yield store
    except ObjectStoreError as exc:
        raise Unrunnable(f"{what}: {exc}") from exc


def _plain(value: str | None) -> str | None:
    """A hyperparameter as the SageMaker SDK may send it, JSON-encoded (`"\\"train.py\\""`)."""
    if value is None:
        return None
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, str) else value
