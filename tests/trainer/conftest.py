"""Fixtures shared by the trainer tests: a hermetic environment and the trainer as a process.

Helpers are fixtures rather than importable functions: tests/ has no __init__.py, so
another test directory's helper module of the same name could shadow an import.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from trainer.log import LOGGER_NAME

REPO = Path(__file__).resolve().parents[2]

Env = Callable[..., dict[str, str]]
StartTrainer = Callable[[Sequence[str], Mapping[str, str]], "subprocess.Popen[str]"]


@pytest.fixture(autouse=True)
def _unconfigure_logging() -> Iterator[None]:
    """Undo `configure_logging` after each test: its handlers hold that test's streams."""
    yield
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)
    logger.propagate = True


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """An empty SM_INPUT_CONFIG_DIR; write hyperparameters.json into it to use one."""
    directory = tmp_path / "config"
    directory.mkdir()
    return directory


@pytest.fixture
def environ(config_dir: Path) -> dict[str, str]:
    """A SageMaker-free environment pointing at `config_dir`, for in-process `main` calls."""
    return {"SM_INPUT_CONFIG_DIR": str(config_dir)}


@pytest.fixture(scope="session")
def process_env() -> Env:
    """Build a subprocess environment: this one without SM_* variables, plus `extra`.

    Without it a developer's SM_HPS or a real /opt/ml/input/config would leak in.
    """

    def build(config_dir: Path, **extra: str) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items() if not name.startswith("SM_")}
        env["SM_INPUT_CONFIG_DIR"] = str(config_dir)
        env.update(extra)
        return env

    return build


@pytest.fixture(scope="session")
def start_trainer() -> StartTrainer:
    """Start `python -m trainer ARGS` from the repository root, with its output piped."""

    def start(args: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "trainer", *args],
            cwd=REPO,
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    return start


@pytest.fixture(scope="session")
def strip_timestamps() -> Callable[[str], list[str]]:
    """Split log output into lines without the timestamp: "... INFO epoch=1;" -> "INFO epoch=1;"."""

    def strip(output: str) -> list[str]:
        return [line.split(" ", 2)[2] for line in output.splitlines()]

    return strip
