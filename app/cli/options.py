"""What several subcommands share: the service's address and token, secrets to withhold,
and signals that end work cleanly."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeAlias

__all__ = [
    "DEFAULT_URL",
    "Commands",
    "add_secret_env",
    "add_url",
    "interruptible",
    "positive",
    "read_token",
]

DEFAULT_URL = "http://127.0.0.1:8000"
# What add_subparsers returns; generic only to the type checker.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def add_url(command: argparse.ArgumentParser) -> None:
    """`--url`, and the admin token as `--token` or `--token-file`."""
    command.add_argument(
        "--url",
        default=os.environ.get("LOGMETRICS_URL", DEFAULT_URL),
        help=f"the service (default: LOGMETRICS_URL or {DEFAULT_URL})",
    )
    tokens = command.add_mutually_exclusive_group()
    tokens.add_argument(
        "--token",
        help="an admin token, when the service has access control on (default: "
        "LOGMETRICS_TOKEN). It shows in `ps` to every user of the machine: prefer "
        "LOGMETRICS_TOKEN or --token-file",
    )
    tokens.add_argument(
        "--token-file",
        type=Path,
        metavar="PATH",
        help="read the admin token from the first line of this file instead",
    )


def add_secret_env(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--secret-env",
        action="append",
        default=[],
        type=_secret_pattern,
        metavar="NAME",
        help="a variable of this process that holds a secret, withheld from training "
        "commands (repeatable; shell patterns such as 'AWS_*' too). Every LOGMETRICS_* "
        "variable, the admin token's among them, is withheld already",
    )


def _secret_pattern(text: str) -> str:
    from app.clients.shipper.environment import secret_pattern_problem

    problem = secret_pattern_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{text!r}: {problem}")
    return text


def read_token(given: str | None, path: Path | None) -> str | None:
    """The admin token: `--token`, else the first line of `--token-file`, else
    LOGMETRICS_TOKEN, else none.

    Raises:
        ValueError: the file cannot be read, or its first line is empty.
    """
    if path is None:
        return given or os.environ.get("LOGMETRICS_TOKEN") or None
    try:
        with path.open(encoding="utf-8") as file:
            token = file.readline().strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ValueError(f"--token-file {str(path)!r}: cannot read it: {reason}") from exc
    if not token:
        raise ValueError(f"--token-file {str(path)!r}: its first line is empty")
    return token


@contextlib.contextmanager
def interruptible(interrupt: Callable[[], None]) -> Iterator[list[int]]:
    """Within: Ctrl-C and SIGTERM call `interrupt` (and are noted in the list yielded)
    instead of raising or killing the process, so it can end its work cleanly."""
    received: list[int] = []

    def handle(signum: int, _frame: object) -> None:
        received.append(signum)
        interrupt()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
