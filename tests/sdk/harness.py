"""A SageMaker user's folder, settings and processes, beside a live service.

`user_folder(...)` writes the README's files (tests/sdk/__init__.py says which) into a
folder, takes the README's settings with the live endpoints in place of its example
addresses, starts a `logmetrics worker` for as long as the block runs, and yields a
`User` whose `run(script)` runs a script as the user would: its own process, that folder
as working directory, nothing of the tests' environment but PATH.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.s3 import S3Server

__all__ = [
    "FLOWS",
    "README_BUCKET",
    "README_FILES",
    "SDK2_PYTHON",
    "SDK3_PYTHON",
    "User",
    "accuracy",
    "aws",
    "model_files",
    "model_json",
    "readme_settings",
    "user_folder",
]

ROOT = Path(__file__).resolve().parents[2]
FLOWS = Path(__file__).resolve().parent / "flows"
# v2 is the tests' own venv (pyproject.toml's dev extra); v3 cannot share it (`make sdk3`).
SDK2_PYTHON = Path(sys.executable)
SDK3_PYTHON = ROOT / ".venv-sdk3" / "bin" / "python"

# The addresses the README's settings and worker command name, replaced by the live ones.
README_SAGEMAKER_URL = "http://127.0.0.1:8000"
README_S3_URL = "http://127.0.0.1:9000"
README_BUCKET = "my-bucket"

_MARKED = re.compile(r"<!-- readme-sdk: (.+?) -->\n```\w*\n(.*?)```", re.S)
_BLOCKS = dict(_MARKED.findall((ROOT / "README.md").read_text()))
# What the README shows as files of the user's folder, by path.
README_FILES = {
    key.removeprefix("file "): text for key, text in _BLOCKS.items() if key.startswith("file ")
}


def readme_settings(sagemaker_url: str, s3_url: str, folder: Path) -> dict[str, str]:
    """The README's `export` lines as variables, with the live endpoints and `$PWD` the folder."""
    settings: dict[str, str] = {}
    for line in _BLOCKS["settings"].splitlines():
        words = shlex.split(line, comments=True)
        assert words[0] == "export", line
        for word in words[1:]:
            name, value = word.split("=", 1)
            settings[name] = value
    replacements = {README_SAGEMAKER_URL: sagemaker_url, README_S3_URL: s3_url, "$PWD": str(folder)}
    for name, value in settings.items():
        for shown, live in replacements.items():
            value = value.replace(shown, live)
        settings[name] = value
    return settings


def accuracy(lr: float) -> float:
    """What code/train.py prints for `lr`, as the metric definition reads it back."""
    return float(f"{1 - abs(lr - 0.01) * 10:.4f}")


def model_files(s3: S3Server, uri: str) -> dict[str, bytes]:
    """The files of the model.tar.gz at `uri` (s3://BUCKET/KEY), by name."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    body = s3.client().get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
        return {
            member.name.removeprefix("./"): archive.extractfile(member).read()  # type: ignore[union-attr]
            for member in archive.getmembers()
            if member.isfile()
        }


def model_json(lr: float, epochs: int = 2, rows: int = 3) -> bytes:
    """The model.json code/train.py writes, byte for byte."""
    return json.dumps({"lr": lr, "epochs": epochs, "rows": rows}).encode()


@dataclass(frozen=True)
class User:
    """A user's folder and the environment their shell gives SDK code."""

    folder: Path
    bucket: str
    environment: dict[str, str]
    worker_log: Path

    def run(self, script: str, python: Path = SDK2_PYTHON, timeout: float = 300) -> str:
        """Run `script` (a file in the folder) with `python`; its stdout.

        A script that fails fails the test with its stderr and the worker's log.
        """
        if not python.exists():
            pytest.fail(f"{python} is missing: `make sdk3` builds the SDK v3 environment")
        done = subprocess.run(
            [str(python), script],
            cwd=self.folder,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            pytest.fail(
                f"{script} exited {done.returncode}\n--- stdout\n{done.stdout[-3000:]}"
                f"\n--- stderr\n{done.stderr[-6000:]}"
                f"\n--- worker\n{self.worker_log.read_text()[-6000:]}"
            )
        return done.stdout


def aws(*args: str, environment: dict[str, str]) -> Any:
    """`aws ARGS... --output json` (the AWS CLI beside the tests' python), parsed."""
    done = subprocess.run(
        [str(SDK2_PYTHON.parent / "aws"), *args, "--output", "json"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"aws {' '.join(args)}: {done.stderr}"
    return json.loads(done.stdout)


def readme_worker(sagemaker_url: str) -> list[str]:
    """The README's worker command, as this venv runs it, with the live service's URL."""
    command = shlex.split(_BLOCKS["worker"].replace(README_SAGEMAKER_URL, sagemaker_url))
    assert command[:2] == ["logmetrics", "worker"], command
    # Asking for work every 0.2 s rather than 2 s only shortens the tests.
    return [sys.executable, "-m", "app", *command[1:], "--poll", "0.2"]


@contextmanager
def running_worker(command: list[str], environment: dict[str, str], log: Path) -> Iterator[None]:
    """The worker `command` for as long as the block runs, its output in `log`."""
    with log.open("wb") as out:
        worker = subprocess.Popen(
            command,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


@contextmanager
def user_folder(
    sagemaker_url: str, s3: S3Server, folder: Path, bucket: str = README_BUCKET
) -> Iterator[User]:
    """The README's files and settings in `folder`, its bucket `bucket`, its worker running.

    The worker runs with the same settings as the user's code, as from the same shell (and
    the venv's bin first on PATH, as `make demo` runs it, so a training command's `python`
    is the venv's).
    """
    folder.mkdir(parents=True, exist_ok=True)
    for path, text in README_FILES.items():
        if path == "sagemaker-config.yaml":
            text = text.replace(f"DefaultS3Bucket: {README_BUCKET}", f"DefaultS3Bucket: {bucket}")
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    home = folder / "home"  # not the developer's ~/.aws: only the settings below count
    home.mkdir()
    settings = readme_settings(sagemaker_url, s3.url, folder)
    user_environment = {"PATH": os.environ["PATH"], "HOME": str(home), **settings}
    worker_environment = {
        **user_environment,
        "PATH": f"{SDK2_PYTHON.parent}{os.pathsep}{os.environ['PATH']}",
    }
    log = folder / "worker.log"
    with running_worker(readme_worker(sagemaker_url), worker_environment, log):
        yield User(folder, bucket, user_environment, log)
