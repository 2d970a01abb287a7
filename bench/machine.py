"""What the numbers were measured on: CPU, cores, load, Python and library versions, and
which path parses (the compiled matching core or pure Python)."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import app.parsing

__all__ = ["Machine", "describe_machine", "load_average", "parsing_core"]

_PACKAGES = ("hyperscan", "regex", "SQLAlchemy", "fastapi", "uvicorn", "httpx", "zstandard")


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    memory_gib: float
    python: str
    packages: tuple[tuple[str, str], ...]
    kernel: str
    commit: str
    when: str
    ripgrep: str | None
    parsing_core: str


def describe_machine(ripgrep: str | None) -> Machine:
    return Machine(
        cpu=_cpu_model(),
        cores=os.cpu_count() or 0,
        memory_gib=_memory_gib(),
        python=platform.python_version(),
        packages=tuple((name, _version(name)) for name in _PACKAGES),
        kernel=platform.release(),
        commit=_commit(),
        when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        ripgrep=ripgrep,
        parsing_core=parsing_core(),
    )


def parsing_core() -> str:
    """Which path `app.parsing` matches with, in its own words (`core_status()`): the
    compiled core and its engines' versions, or pure Python and why. A checkout whose
    parsing package has no `core_status` has only the pure-Python path."""
    status = getattr(app.parsing, "core_status", None)
    if status is None:
        return "pure Python (app.parsing has no compiled core in this checkout)"
    return str(status())


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages, as `uptime` shows them."""
    one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    return f"{one}, {five}, {fifteen}"


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / (1 << 20)
    return 0.0


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _commit() -> str:
    repo = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "app"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} (app/ modified)" if dirty else head
