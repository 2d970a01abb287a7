"""The `logmetrics` command: serve the API, run a training command, run a sweep.

Each subcommand lives in a module of its own here, which adds its parser with `register`
and names the function that runs it (`handler`); `main` dispatches on that alone. Each
module imports what it runs only when it runs, so `logmetrics run` on a training machine
never loads the server.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from app.cli import manage, run, serve, sweep, worker
from app.cli.options import read_token

__all__ = ["build_parser", "main"]

# In the order `logmetrics --help` lists them.
_COMMANDS = (serve, run, sweep, worker, manage)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if hasattr(args, "token_file"):
        try:
            args.token = read_token(args.token, args.token_file)
        except ValueError as exc:
            parser.error(str(exc))
    code: int = args.handler(args, parser)
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="logmetrics", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for command in _COMMANDS:
        command.register(commands)
    return parser
