"""What a training command inherits from the process that starts it.

A worker or `logmetrics run` holds credentials a training command must never see: the
admin token it leases runs with (`LOGMETRICS_TOKEN`), and, where it shares a machine or a
shell with the service, the service's own secrets (`LOGMETRICS_API_TOKENS`,
`LOGMETRICS_TOKEN_FILE`, `LOGMETRICS_AWS_CREDENTIALS`, a `LOGMETRICS_DATABASE_URL` with its
password). A command needs none of the `LOGMETRICS_*` settings, so all of them are withheld
(the shipper then sets `LOGMETRICS_JOB` and `LOGMETRICS_RUN` for it), with whatever else
the operator names as a secret (`--secret-env`). Everything else (PATH, HOME, CUDA_*, a
virtualenv's variables) passes, since training commands rely on it.

Withholding is not enough while the command runs as this process's user: it could read
this process's own environment at `/proc/<its parent>/environ`, or attach to it with
ptrace. `protect_environment` closes that for the processes that hold the token (`logmetrics
worker`, `run`, `sweep`).
"""

from __future__ import annotations

import ctypes
import logging
import re
import sys
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

__all__ = [
    "WITHHELD_PREFIX",
    "inherited_environment",
    "protect_environment",
    "secret_pattern_problem",
]

log = logging.getLogger("logmetrics.shipper")

WITHHELD_PREFIX = "LOGMETRICS_"

# A variable's name, or one with shell wildcards in it (AWS_*): fnmatch's [...] classes are
# left out, so a name never reads as anything but a name.
_PATTERN = re.compile(r"[A-Za-z0-9_*?]+")
# prctl(2)'s option: whether the process may be dumped, and so read and traced by its user.
_PR_SET_DUMPABLE = 4


def inherited_environment(
    environ: Mapping[str, str], secrets: Iterable[str] = ()
) -> dict[str, str]:
    """The part of `environ` a training command may inherit.

    Args:
        environ: this process's environment (`os.environ`).
        secrets: names of variables that hold secrets, each a name or a shell pattern
            (`AWS_*`), matched case-sensitively as POSIX names are.

    Returns:
        `environ` without its `LOGMETRICS_*` variables and without those `secrets` name.
    """
    patterns = tuple(secrets)
    return {
        name: value
        for name, value in environ.items()
        if not name.startswith(WITHHELD_PREFIX)
        and not any(fnmatchcase(name, pattern) for pattern in patterns)
    }


def secret_pattern_problem(pattern: str) -> str | None:
    """Why `pattern` cannot name secret variables (`--secret-env`), or None if it can."""
    if not _PATTERN.fullmatch(pattern):
        return "give a variable's name, or a pattern with * and ? such as AWS_*"
    return None


def protect_environment() -> bool:
    """Make this process non-dumpable (Linux's `prctl(PR_SET_DUMPABLE, 0)`), so that a
    process of the same user, a training command above all, can neither read its
    `/proc/<pid>/environ` (nor its memory, `/proc/<pid>/mem`) nor ptrace it.

    The flag holds until this process ends and is not inherited across `exec`: the
    commands it starts are dumpable as any program is. It does not keep out root (or a
    process with CAP_SYS_PTRACE): a command running as root reads any process's /proc.
    A worker that runs tenants' jobs should run as a user of its own, not root.

    Returns:
        Whether it took effect (False where there is no prctl: not Linux).
    """
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        log.warning("logmetrics: prctl(PR_SET_DUMPABLE, 0) failed: errno %d", ctypes.get_errno())
        return False
    return True
