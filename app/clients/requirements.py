"""A script-mode program's `requirements.txt`, installed as the SageMaker training toolkit
installs it before the program runs, into an environment of its own.

Each environment is `python -m venv --system-site-packages` (so what the worker's base
Python has installed stays importable, as a framework container's packages do), then
`pip install -r requirements.txt` run in the submitted code's folder (a relative path in
the file, `./wheels/x.whl`, is the code's). They are cached per job under
`<job's cache dir>/venvs/<SHA-256 of the file's bytes>` (a worker's job cache dir is
`job_cache_dir`: `<cache dir>/jobs/<job>`): a second run of a search with the same file
reuses the environment without pip, and no other job does. A job's code can change its
environment (write a `.pth` file in its site-packages, say), so an environment is shared
only by the runs of one job, whose code is the same tenant's. The lease names a job by
its name alone: a job deleted, and another made later under its name on the same worker,
finds the first one's environments. A file lock per digest lets parallel runs wait for
one install instead of racing; an environment is used only once its `.complete` marker
is written, so one an install left half-made (a crash, a failure) is made again. The
digest is of the file alone: a local wheel it names that changes under the same name is
not seen; change the file (a version, a comment) to install again.

Before pip runs, the file is checked for options that make pip read another file
(`-r`/`--requirement`, `-c`/`--constraint`): one that names a file outside the submitted
code (an absolute path, `~`, a variable, a URL, any `..` even one that stays inside) is
refused, since pip quotes a line of a file it cannot parse in its error, which would
become the run's failure reason. Relative ones inside the code are followed and checked
the same way. Other ways a requirement reaches the worker's disk (a line naming a local
project, `/home/worker/pkg`, or `--find-links /path`) are not refused here.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["InstallFailed", "job_cache_dir", "requirements_file_problem", "requirements_python"]

_COMPLETE = ".complete"
_INSTALL_TIMEOUT = 3600.0
_LAST_LINES = 8
# A job's name as /v1 and SageMaker allow it: a folder's name as it is.
_JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,62}")
# pip's options whose argument is another requirements file. optparse, which pip's file
# parser is, takes a long option's unambiguous prefix too (--requirem, --cons).
_SHORT_FILE_OPTIONS = ("-r", "-c")
_LONG_FILE_OPTIONS = ("--requirement", "--constraint")


class InstallFailed(Exception):
    """pip could not install the requirements, or may not be given them; the message says
    why (pip's last lines, or the option refused)."""


def job_cache_dir(cache_dir: Path, job: str) -> Path:
    """The folder of the worker's cache folder that `job`'s environments are kept in:
    `<cache_dir>/jobs/<job>` (its name's SHA-256 for a name that is no job name)."""
    name = job if _JOB_NAME.fullmatch(job) else hashlib.sha256(job.encode()).hexdigest()
    return cache_dir / "jobs" / name


def requirements_file_problem(requirements: Path) -> str | None:
    """Why pip may not be given `requirements`, or None: an option in it (or in a file it
    names) that reads a file outside the code's folder, `requirements`' own. The reason
    names the file, its line and the option's argument, never what that file holds."""
    code = requirements.parent.resolve()
    seen: set[Path] = set()
    pending = [requirements]
    while pending:
        current = pending.pop()
        resolved = current.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        shown = current.relative_to(requirements.parent).as_posix()
        if not resolved.is_relative_to(code):
            return f"{shown} leads outside the submitted code (through a symlink)"
        try:
            text = resolved.read_text(errors="replace")
        except OSError as exc:
            return f"{shown} cannot be read: {exc.strerror}"
        for number, line in enumerate(_logical_lines(text), start=1):
            for option, path in _file_options(line):
                if (
                    not path
                    or path.startswith(("/", "~"))
                    or "$" in path
                    or ":" in path
                    or ".." in Path(path).parts
                ):
                    return (
                        f"{shown}, line {number}: {option} {path[:200]!r} names a file "
                        "outside the submitted code; give a relative path inside it"
                    )
                named = current.parent / path
                if not named.resolve().is_relative_to(code):
                    return (
                        f"{shown}, line {number}: {option} {path[:200]!r} leads outside "
                        "the submitted code (through a symlink)"
                    )
                if named.is_file():  # pip says so if it is missing
                    pending.append(named)
    return None


def _file_options(line: str) -> list[tuple[str, str]]:
    """Each (option, argument) of `line` that names a requirements file: `-r X`, `-rX`,
    `--requirement X`, `--requirement=X`, and the same of `-c` and `--constraint`, split
    into words as pip splits them (shlex: quotes removed)."""
    try:
        words = shlex.split(line)
    except ValueError:  # an unclosed quote: pip refuses the line, quoting this file's own
        return []
    found = []
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        if word.startswith("--"):
            name, equals, argument = word.partition("=")
            long = [o for o in _LONG_FILE_OPTIONS if len(name) > 3 and o.startswith(name)]
            if long:
                found.append((long[0], argument if equals else following))
        elif word[:2] in _SHORT_FILE_OPTIONS:
            found.append((word[:2], word[2:] or following))
    return found


def _logical_lines(text: str) -> list[str]:
    """The file's lines as pip reads them: continuations (a trailing backslash) joined,
    comments (` #` or a line's first `#`) and surrounding blanks dropped. Numbered as
    the physical lines that begin them would be, close enough for a reason."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        if raw.endswith("\\"):
            pending += raw[:-1]
            continue
        line = re.sub(r"(^|\s+)#.*$", "", pending + raw).strip()
        pending = ""
        lines.append(line)
    if pending:
        lines.append(pending.strip())
    return lines


def requirements_python(
    requirements: Path, cache_dir: Path, environment: Mapping[str, str]
) -> Path:
    """The Python of an environment holding `requirements` installed, made if need be.

    Args:
        requirements: the submitted code's requirements.txt (its folder is pip's cwd).
        cache_dir: the job's cache folder (`job_cache_dir`); environments go in its
            `venvs`, shared by whatever is given the same folder.
        environment: the variables pip runs with (the worker's, less its secrets: pip
            runs the tenant's build scripts).

    Raises:
        InstallFailed: the file names another file outside the code
            (`requirements_file_problem`), or venv or pip failed, or ran over an hour.
    """
    problem = requirements_file_problem(requirements)
    if problem is not None:
        raise InstallFailed(problem)
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
            "python -m venv for requirements.txt",
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
