"""What a training command inherits from the process that starts it.

A worker or `logmetrics run` holds credentials a training command must never see: the
admin token it leases runs with (`LOGMETRICS_TOKEN`), and, where it shares a machine or a
shell with the service, the service's own secrets (`LOGMETRICS_API_TOKENS`,
`LOGMETRICS_TOKEN_FILE`, `LOGMETRICS_AWS_CREDENTIALS`, a `LOGMETRICS_DATABASE_URL` with its
password). A command needs none of the `LOGMETRICS_*` settings, so all of them are withheld
(the shipper then sets `LOGMETRICS_JOB` and `LOGMETRICS_RUN` for it), with whatever else
the operator names as a secret (`--secret-env`). Everything else (PATH, HOME, CUDA_*, a
virtualenv's variables) passes, since training commands rely on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

__all__ = ["WITHHELD_PREFIX", "inherited_environment", "secret_pattern_problem"]

WITHHELD_PREFIX = "LOGMETRICS_"

# A variable's name, or one with shell wildcards in it (AWS_*): fnmatch's [...] classes are
# left out, so a name never reads as anything but a name.
_PATTERN = re.compile(r"[A-Za-z0-9_*?]+")


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
