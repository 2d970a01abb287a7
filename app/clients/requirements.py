"""A script-mode program's `requirements.txt`, installed as the SageMaker training toolkit
installs it before the program runs, into an environment of its own.

Each environment is `python -m venv --system-site-packages` (so what the worker's base
Python has installed stays importable, as a framework container's packages do), then
`pip install -r requirements.txt` run in the submitted code's folder (a relative path in
the file, `./wheels/x.whl`, is the code's). They are cached per
worker under `<cache dir>/venvs/<SHA-256 of the file's bytes>`: a second job, or a second
run of a search, with the same file reuses the environment without pip. A file lock per
digest lets parallel runs wait for one install instead of racing; an environment is used
only once its `.complete` marker is written, so one an install left half-made (a crash, a
failure) is made again. The digest is of the file alone: a local wheel it names that
changes under the same name is not seen; change the file (a version, a comment) to
install again.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["InstallFailed", "requirements_python"]

_COMPLETE = ".complete"
_INSTALL_TIMEOUT = 3600.0
_LAST_LINES = 8


class InstallFailed(Exception):
    """pip could not install the requirements; the message holds its last lines."""


def requirements_python(
    requirements: Path, cache_dir: Path, environment: Mapping[str, str]
) -> Path:
    """The Python of an environment holding `requirements` installed, made if need be.

    Args:
        requirements: the submitted code's requirements.txt (its folder is pip's cwd).
        cache_dir: the worker's cache folder; environments go in its `venvs`.
        environment: the variables pip runs with (the worker's, less its secrets: pip
            runs the tenant's build scripts).

    Raises:
        InstallFailed: venv or pip failed, or ran over an hour.
    """
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    venvs = cache_dir / "venvs"
    venvs.mkdir(parents=True, exist_ok=True)
    target = venvs / digest
    python = target / "bin" / "python"
    with open(venvs / f"{digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if (target / _COMPLETE).exists():
            return python
        shutil.rmtree(target, ignore_errors=True)
        _run(
            [sys.executable, "-m", "venv", "--system-site-packages", str(target)],
            "python -m venv",
            requirements.parent,
            environment,
        )
        _run(
            [
                str(python),
                *("-m", "pip", "install", "--disable-pip-version-check", "--no-input"),
                *("-r", str(requirements)),
            ],
            "pip install -r requirements.txt",
            requirements.parent,
            environment,
        )
        (target / _COMPLETE).write_text(requirements.read_text(errors="replace"))
    return python


def _run(command: list[str], what: str, cwd: Path, environment: Mapping[str, str]) -> None:
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            env=dict(environment),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=_INSTALL_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        raise InstallFailed(f"{what} ran over {_INSTALL_TIMEOUT:.0f} s") from exc
    except OSError as exc:
        raise InstallFailed(f"{what} could not start: {exc}") from exc
    if done.returncode != 0:
        # pip says why on stderr; venv, which has less to say, may say it on stdout.
        lines = (done.stderr.strip() or done.stdout.strip()).splitlines()[-_LAST_LINES:]
        raise InstallFailed(f"{what} failed (exit code {done.returncode}): " + " | ".join(lines))
