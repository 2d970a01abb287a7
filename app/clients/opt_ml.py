"""A training job's own `/opt/ml`, without Docker: the run's folder (`RunFolders`, laid
out as a SageMaker container's `/opt/ml`) shown to the job's processes, and to them
alone, at `/opt/ml`.

How a job sees its folder: `isolated_command` wraps the job's command so that it runs in
a private mount namespace (`unshare --mount`) where the run's folder is bind-mounted on
`/opt/ml`, and each channel given as an outside folder (a shared `file://` channel) is
bind-mounted read-only at `/opt/ml/input/data/<channel>`. The command starts in
`/opt/ml`. Nothing is mounted where the worker or another job can see it, so parallel jobs
each see their own `/opt/ml`. The namespace is made

- as root: `unshare --mount --propagation private` (the empty mount point `/opt/ml` is
  made on the worker's disk once, if missing);
- otherwise, where the kernel lets a user make user namespaces:
  `unshare --user --map-root-user --mount --propagation private` (the job runs as root
  inside it, as in a container, and as the worker's own user outside it); the empty
  folder `/opt/ml` must then exist already, since only root can make it.

Only `/opt/ml` is private: the job sees the rest of the worker's system (its programs,
its PATH, its other folders) as any command the worker runs does.

Where neither works (no `unshare`, a container without CAP_SYS_ADMIN, user namespaces
disabled), there is no fallback: `isolated_command` refuses with `OptMlError`, naming what
to change. A `/opt/ml` shared by the worker's jobs (a symlink, a folder of the host) would
mix the files of jobs that run at the same time, and give one job another's data and
model; the job fails with the reason instead. The check is made once per process
(`isolation_problem`).

No text of a tenant (a command, a channel name, a path) is ever read by a shell as
script: the wrapper is a fixed `sh -c` script, and everything else reaches it as its
arguments.

`failure_reason` reads what a job wrote to `output/failure`, in any mode: a container's,
a script's, the SageMaker training toolkit's or the SDK's drivers'.
"""

from __future__ import annotations

import functools
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from app.clients.toolkit import RunFolders
from app.clients.training_job import channel_name_problem

__all__ = [
    "MOUNT_POINT",
    "OptMlError",
    "failure_reason",
    "isolated_command",
    "isolation_problem",
]

MOUNT_POINT = Path("/opt/ml")

# At most this much of output/failure is read (SageMaker's FailureReason holds at most
# 1024 characters).
_FAILURE_CHARACTERS = 1024

# Run inside the new namespace: bind the run's folder on /opt/ml, each outside channel
# read-only on its folder, then become the command in /opt/ml (same process, so a signal
# to it reaches the job). Arguments: MOUNT ROOT COUNT [CHANNEL SOURCE]*COUNT ARGV...; none
# is ever parsed as script. Every path given to mount begins with "/", so none reads as
# an option.
_ENTER = """\
mount=$1 root=$2 count=$3
shift 3
"$mount" --bind "$root" /opt/ml || exit 125
while [ "$count" -gt 0 ]; do
    "$mount" --bind -o ro "$2" "/opt/ml/input/data/$1" || exit 125
    shift 2
    count=$((count - 1))
done
cd /opt/ml || exit 125
exec "$@"
"""


class OptMlError(Exception):
    """The job's `/opt/ml` cannot be shown to it; the message is its failure reason."""


def isolated_command(
    argv: Sequence[str], root: Path, outside_channels: Mapping[str, Path] | None = None
) -> list[str]:
    """The command line that runs `argv` with `root` at `/opt/ml`, seen by it and its
    children alone; the caller runs it as it would `argv` (the same process becomes
    `argv`, so signals and exit status are its own). A mount that fails inside ends it
    with status 125 and mount's message on stderr.

    Args:
        root: the run's folder (`RunFolders.root`), absolute.
        outside_channels: channels whose data lies outside `root` (shared folders,
            already checked to be ones the job may read), by name: each is mounted
            read-only on `root/input/data/<name>`, which must be a folder (an empty one:
            what it holds is hidden from the job).

    Raises:
        OptMlError: this worker can make no private mount namespace (the reason says what
            to change), `argv` is empty or its program begins with '-', a channel's name
            is no SageMaker ChannelName, or a path is not absolute.
    """
    if not argv:
        raise OptMlError("the training job has no command to run")
    if argv[0].startswith("-"):
        # Some shells read `exec -x` as an option of exec, not as a program named -x.
        raise OptMlError(f"the training job's program {argv[0][:200]!r} begins with '-'")
    outside = dict(sorted((outside_channels or {}).items()))
    for name, folder in outside.items():
        problem = channel_name_problem(name)
        if problem is not None:
            raise OptMlError(problem)
        if not folder.is_absolute():
            raise OptMlError(f"input channel {name!r}: {str(folder)[:300]!r} is not absolute")
    if not root.is_absolute():
        raise OptMlError(f"the run's folder {str(root)[:300]!r} is not absolute")
    prefix = _isolation()
    if isinstance(prefix, str):
        raise OptMlError(prefix)
    unshare, mount = prefix
    mounts = [part for name, folder in outside.items() for part in (name, str(folder))]
    return [
        *unshare,
        "/bin/sh",
        "-c",
        _ENTER,
        "opt-ml",
        mount,
        str(root),
        str(len(outside)),
        *mounts,
        *argv,
    ]


def isolation_problem() -> str | None:
    """Why this worker cannot give a training job a private `/opt/ml` (a sentence that
    names what to change), or None when it can. Checked once per process."""
    found = _isolation()
    return found if isinstance(found, str) else None


def failure_reason(folders: RunFolders) -> str | None:
    """What the job wrote to its `output/failure`: the first 1024 characters, surrounding
    whitespace stripped, undecodable bytes replaced; None when there is no such file, or
    it is empty or not a plain file.

    The job owns its folder while it runs, so `output` or `failure` may be a symlink it
    planted (to a secret of the worker's) or a FIFO: neither is followed or opened.
    """
    try:
        output = os.open(folders.output, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
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
