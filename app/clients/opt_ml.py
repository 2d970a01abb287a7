"""A training job's own `/opt/ml`, without Docker: the tree a SageMaker container reads
(`input/config/*.json`, `input/data/<channel>`, `model`, `output`, ...), made in the
job's working folder and shown to the job's processes, and to them alone, at `/opt/ml`.

How a job sees its tree: `isolated_command` wraps the job's command so that it runs in a
private mount namespace (`unshare --mount`) where the tree is bind-mounted on `/opt/ml`,
and each channel given as an outside folder is bind-mounted read-only at
`/opt/ml/input/data/<channel>`. Nothing is mounted where the worker or another job can
see it, so parallel jobs each see their own `/opt/ml`. The namespace is made

- as root: `unshare --mount --propagation private` (the empty mount point `/opt/ml` is
  made on the worker's disk once, if missing);
- otherwise, where the kernel lets a user make user namespaces:
  `unshare --user --map-root-user --mount --propagation private` (the job runs as root
  inside it, as in a container, and as the worker's own user outside it); the empty
  folder `/opt/ml` must then exist already, since only root can make it.

Where neither works (no `unshare`, a container without CAP_SYS_ADMIN, user namespaces
disabled), there is no fallback: `isolated_command` refuses with `OptMlError`, naming what
to change. A `/opt/ml` shared by the worker's jobs (a symlink, a folder of the host) would
mix the files of jobs that run at the same time, and give one job another's data and
model; the job fails with the reason instead. The check is made once per process
(`isolation_problem`).

No text of a tenant (a command, a channel name, a path) is ever read by a shell as
script: the wrapper is a fixed `sh -c` script, and everything else reaches it as its
arguments.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "MOUNT_POINT",
    "Channel",
    "OptMl",
    "OptMlError",
    "environment",
    "failure_reason",
    "isolated_command",
    "isolation_problem",
    "make_tree",
]

MOUNT_POINT = Path("/opt/ml")

# A SageMaker ChannelName: it becomes a folder of input/data and part of a variable's
# name, so nothing else may reach the disk, `mount` or the environment.
_CHANNEL_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_INPUT_MODES = ("File", "FastFile")

# SageMaker's names for the one host of a single-instance training job.
_HOST = "algo-1"
_GROUP = "homogeneousCluster"
_NETWORK_INTERFACE = "eth0"

# At most this much of output/failure becomes the FailureReason (SageMaker's own limit
# is 1024 characters).
_FAILURE_CHARACTERS = 1024

# Run inside the new namespace: bind the tree on /opt/ml, each outside channel read-only
# on its folder, then become the command (same process, so a signal to it reaches the
# job). Arguments: MOUNT ROOT COUNT [CHANNEL SOURCE]*COUNT ARGV...; none is ever parsed
# as script. Every path given to mount begins with "/", so none reads as an option.
_ENTER = """\
mount=$1 root=$2 count=$3
shift 3
"$mount" --bind "$root" /opt/ml || exit 125
while [ "$count" -gt 0 ]; do
    "$mount" --bind -o ro "$2" "/opt/ml/input/data/$1" || exit 125
    shift 2
    count=$((count - 1))
done
exec "$@"
"""


class OptMlError(Exception):
    """The job's `/opt/ml` cannot be made or shown to it; the message is its failure
    reason."""


@dataclass(frozen=True)
class Channel:
    """One input channel of a training job, as its `/opt/ml` holds it.

    `outside`: a folder of the worker's, already checked to be one the job may read,
    shown read-only at `/opt/ml/input/data/<name>`; None: the caller writes the
    channel's data into `OptMl.data(name)` itself (a download, say).
    `content_type`, `compression_type`: the request's `ContentType` and
    `CompressionType`, written to inputdataconfig.json when given.
    """

    name: str
    outside: Path | None = None
    content_type: str | None = None
    compression_type: str | None = None
    input_mode: str = "File"


@dataclass(frozen=True)
class OptMl:
    """One training job's `/opt/ml`: `root` is the folder on the worker's disk that the
    job's processes see at `/opt/ml`; each path below is inside it."""

    root: Path
    job_name: str
    instance_type: str
    channels: tuple[Channel, ...]

    @property
    def config(self) -> Path:
        return self.root / "input" / "config"

    def data(self, channel: str) -> Path:
        """The folder of the channel `channel`: for a channel without `outside`, where
        its data is to be written."""
        return self.root / "input" / "data" / channel

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def output_data(self) -> Path:
        return self.root / "output" / "data"

    @property
    def failure(self) -> Path:
        return self.root / "output" / "failure"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def code(self) -> Path:
        return self.root / "code"


def make_tree(
    workdir: Path,
    *,
    job_name: str,
    instance_type: str,
    hyperparameters: Mapping[str, str],
    channels: Iterable[Channel] = (),
) -> OptMl:
    """Make a training job's `/opt/ml` tree at `workdir/opt_ml`, as SageMaker fills a
    container's before it starts.

    It holds `input/config/hyperparameters.json` (the hyperparameters as given, text),
    `inputdataconfig.json` and `resourceconfig.json` in SageMaker's shape (one host,
    algo-1), an empty folder `input/data/<channel>` per channel, and the empty folders
    `model`, `output/data`, `checkpoints` and `code`. SageMaker also writes
    `trainingjobconfig.json` and a few others; neither the SageMaker training toolkit nor
    the SDK's `sm_drivers` read them, so they are not written.

    Args:
        workdir: the job's working folder, fresh: `opt_ml` must not be in it yet.
        instance_type: the request's `ResourceConfig.InstanceType`, as resourceconfig.json
            names it.

    Raises:
        OptMlError: a channel's name is not a SageMaker ChannelName, is given twice, has
            an input mode other than File or FastFile, or its outside folder is not an
            absolute path to a folder.
    """
    channels = tuple(sorted(channels, key=lambda channel: channel.name))
    _check(channels)
    tree = OptMl(workdir / "opt_ml", job_name, instance_type, channels)
    tree.root.mkdir(parents=True)
    for folder in (tree.config, tree.model, tree.output_data, tree.checkpoints, tree.code):
        folder.mkdir(parents=True)
    for channel in channels:
        # An outside channel's folder stays empty: it is the mount point.
        tree.data(channel.name).mkdir(parents=True)
    _write_json(tree.config / "hyperparameters.json", dict(hyperparameters))
    _write_json(tree.config / "inputdataconfig.json", _input_data_config(channels))
    _write_json(tree.config / "resourceconfig.json", _resource_config(instance_type))
    return tree


def isolated_command(argv: Sequence[str], tree: OptMl) -> list[str]:
    """The command line that runs `argv` with `tree` at `/opt/ml`, seen by it and its
    children alone; the caller runs it as it would `argv` (the same process becomes
    `argv`, so signals and exit status are its own). A mount that fails inside ends it
    with status 125 and mount's message on stderr.

    Raises:
        OptMlError: this worker can make no private mount namespace (the reason says what
            to change), or `argv` is empty or its program begins with '-'.
    """
    if not argv:
        raise OptMlError("the training job has no command to run")
    if argv[0].startswith("-"):
        # Some shells read `exec -x` as an option of exec, not as a program named -x.
        raise OptMlError(f"the training job's program {argv[0][:200]!r} begins with '-'")
    prefix = _isolation()
    if isinstance(prefix, str):
        raise OptMlError(prefix)
    unshare, mount = prefix
    outside = [channel for channel in tree.channels if channel.outside is not None]
    mounts = [part for channel in outside for part in (channel.name, str(channel.outside))]
    return [
        *unshare,
        "/bin/sh",
        "-c",
        _ENTER,
        "opt-ml",
        mount,
        str(tree.root),
        str(len(outside)),
        *mounts,
        *argv,
    ]


def isolation_problem() -> str | None:
    """Why this worker cannot give a training job a private `/opt/ml` (a sentence that
    names what to change), or None when it can. Checked once per process."""
    found = _isolation()
    return found if isinstance(found, str) else None


def failure_reason(tree: OptMl) -> str | None:
    """What the job wrote to `/opt/ml/output/failure`, to be its FailureReason: the first
    1024 characters, surrounding whitespace stripped, undecodable bytes replaced; None
    when there is no such file, or it is empty or not a plain file.

    The job owns its tree while it runs, so `output` or `failure` may be a symlink it
    planted (to a secret of the worker's) or a FIFO: neither is followed or opened.
    """
    try:
        output = os.open(tree.output, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
        failure = os.open("failure", flags, dir_fd=output)
    except OSError:
        return None
    finally:
        os.close(output)
    with os.fdopen(failure, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            return None
        # 4 bytes a character at most: 4096 bytes hold the first 1024 characters whole.
        head = file.read(4 * _FAILURE_CHARACTERS)
    text = head.decode("utf-8", errors="replace").strip()[:_FAILURE_CHARACTERS]
    return text.rstrip() or None


def environment(tree: OptMl) -> dict[str, str]:
    """The variables a job run in `tree` sees as the SageMaker training toolkit and the
    SDK's `sm_drivers` set them: the `/opt/ml` folders (`SM_MODEL_DIR`,
    `SM_OUTPUT_DATA_DIR`, `SM_CHANNEL_<NAME>`, ...), the host (`SM_CURRENT_HOST`,
    `SM_HOSTS`, ...), both config files' content, and `TRAINING_JOB_NAME`, which SageMaker
    sets in every container and the drivers require. The hyperparameters' variables
    (`SM_HPS`, `SM_HP_<NAME>`) are not among them. Paths are as the job sees them, under
    `/opt/ml`, so they hold only inside `isolated_command`.
    """
    base = str(MOUNT_POINT)
    names = [channel.name for channel in tree.channels]
    variables = {
        "TRAINING_JOB_NAME": tree.job_name,
        "SM_MODEL_DIR": f"{base}/model",
        "SM_INPUT_DIR": f"{base}/input",
        "SM_INPUT_DATA_DIR": f"{base}/input/data",
        "SM_INPUT_CONFIG_DIR": f"{base}/input/config",
        "SM_OUTPUT_DIR": f"{base}/output",
        "SM_OUTPUT_DATA_DIR": f"{base}/output/data",
        "SM_OUTPUT_FAILURE": f"{base}/output/failure",
        "SM_CHANNELS": json.dumps(names),
        "SM_CURRENT_HOST": _HOST,
        "SM_CURRENT_INSTANCE_TYPE": tree.instance_type,
        "SM_CURRENT_INSTANCE_GROUP": _GROUP,
        "SM_HOSTS": json.dumps([_HOST]),
        "SM_HOST_COUNT": "1",
        "SM_CURRENT_HOST_RANK": "0",
        "SM_NETWORK_INTERFACE_NAME": _NETWORK_INTERFACE,
        "SM_RESOURCE_CONFIG": json.dumps(_resource_config(tree.instance_type)),
        "SM_INPUT_DATA_CONFIG": json.dumps(_input_data_config(tree.channels)),
    }
    for name in names:
        variables[f"SM_CHANNEL_{name.upper()}"] = f"{base}/input/data/{name}"
    return variables


def _check(channels: Sequence[Channel]) -> None:
    seen: set[str] = set()
    for channel in channels:
        name = channel.name
        if not _CHANNEL_NAME.fullmatch(name) or name in (".", ".."):
            raise OptMlError(f"input channel name {name[:80]!r} is not a SageMaker ChannelName")
        if name in seen:
            raise OptMlError(f"input channel {name!r} is given twice")
        seen.add(name)
        if channel.input_mode not in _INPUT_MODES:
            raise OptMlError(
                f"input channel {name!r}: input mode {channel.input_mode[:40]!r} cannot be "
                "run without SageMaker (File and FastFile can)"
            )
        if channel.outside is not None and not (
            channel.outside.is_absolute() and channel.outside.is_dir()
        ):
            raise OptMlError(f"input channel {name!r}: {str(channel.outside)!r} is no folder")


def _input_data_config(channels: Iterable[Channel]) -> dict[str, dict[str, str]]:
    """inputdataconfig.json as SageMaker writes it: one entry per channel."""
    config: dict[str, dict[str, str]] = {}
    for channel in channels:
        entry = {
            "TrainingInputMode": channel.input_mode,
            "S3DistributionType": "FullyReplicated",
            "RecordWrapperType": "None",
        }
        if channel.content_type is not None:
            entry["ContentType"] = channel.content_type
        if channel.compression_type is not None:
            entry["CompressionType"] = channel.compression_type
        config[channel.name] = entry
    return config


def _resource_config(instance_type: str) -> dict[str, object]:
    """resourceconfig.json as SageMaker writes it for a one-instance training job."""
    return {
        "current_host": _HOST,
        "current_instance_type": instance_type,
        "current_group_name": _GROUP,
        "hosts": [_HOST],
        "instance_groups": [
            {"instance_group_name": _GROUP, "instance_type": instance_type, "hosts": [_HOST]}
        ],
        "network_interface_name": _NETWORK_INTERFACE,
    }


def _write_json(path: Path, content: object) -> None:
    path.write_text(json.dumps(content))


@functools.cache
def _isolation() -> tuple[tuple[str, ...], str] | str:
    """How this process makes a private `/opt/ml`: the `unshare` command and the path of
    `mount`, or why it cannot. Each way is tried for real, on a scratch folder."""
    unshare, mount = shutil.which("unshare"), shutil.which("mount")
    if unshare is None or mount is None:
        return (
            "this worker cannot give a training job its own /opt/ml: `unshare` or `mount` "
            "is not installed (install util-linux)"
        )
    root = os.geteuid() == 0
    if root:
        try:
            MOUNT_POINT.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return f"this worker cannot make the mount point {MOUNT_POINT}: {exc}"
    if not MOUNT_POINT.is_dir():
        return (
            f"this worker, not root, needs the empty folder {MOUNT_POINT} to mount a "
            f"training job's own /opt/ml on: create it once, as root (mkdir -p {MOUNT_POINT})"
        )
    private = ("--mount", "--propagation", "private")
    ways: list[tuple[str, ...]] = [(unshare, *private)] if root else []
    ways.append((unshare, "--user", "--map-root-user", *private))
    said = ""
    for way in ways:
        with tempfile.TemporaryDirectory(prefix="opt-ml-probe-") as scratch:
            probe = [*way, "/bin/sh", "-c", _ENTER, "opt-ml", mount, scratch, "0", "true"]
            try:
                done = subprocess.run(probe, capture_output=True, timeout=30)
            except (OSError, subprocess.TimeoutExpired) as exc:
                said = str(exc)
                continue
        if done.returncode == 0:
            return way, mount
        said = done.stderr.decode(errors="replace").strip()[-300:]
    return (
        "this worker cannot give a training job its own /opt/ml, since it can make no "
        "private mount namespace: run the worker as root (in a container: with "
        "CAP_SYS_ADMIN), or allow unprivileged user namespaces "
        f"(sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone); {said}"
    )
