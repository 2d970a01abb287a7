"""`logmetrics run`: a training command as a run of a job, its output shipped."""

from __future__ import annotations

import argparse
import sys

from app.cli.options import Commands, add_secret_env, add_url

__all__ = ["register"]


def register(commands: Commands) -> None:
    run = commands.add_parser(
        "run",
        help="run a training command as a run of a job, shipping its output",
        usage=(
            "logmetrics run --job JOB [--name RUN] [--hp KEY=VALUE ...] [--url URL] "
            "[--token TOKEN | --token-file PATH] [--secret-env NAME ...] "
            "[--give-up-after SECONDS] -- COMMAND ..."
        ),
    )
    run.add_argument("--job", required=True, help="the job the run belongs to")
    run.add_argument("--name", help="the run's name (default: generated)")
    run.add_argument(
        "--hp", action="append", default=[], metavar="KEY=VALUE", help="a hyperparameter"
    )
    add_url(run)
    run.add_argument(
        "--give-up-after",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="how long to retry an unreachable service (default: an hour)",
    )
    add_secret_env(run)
    run.add_argument("training_command", nargs=argparse.REMAINDER)
    run.set_defaults(handler=_run)


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from app.clients.client import ServiceClient, ServiceError, ServiceUnavailable
    from app.clients.shipper import ship
    from app.clients.shipper.environment import protect_environment

    # The command runs as our user: it must not read the token from our /proc.
    protect_environment()
    command = args.training_command
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        parser.error("run: give the training command after --")
    hyperparameters = {}
    for item in args.hp:
        key, sep, value = item.partition("=")
        if not sep or not key:
            parser.error(f"run: --hp takes KEY=VALUE, got {item!r}")
        if not _utf8(item) or "\x00" in item:
            # Bytes that are not UTF-8 reach argv as lone surrogates; no service stores them.
            parser.error(f"run: --hp {item!r} is not UTF-8 text")
        hyperparameters[key] = value
    client = ServiceClient(args.url, token=args.token)
    try:
        shipped = ship(
            client,
            args.job,
            command,
            name=args.name,
            hyperparameters=hyperparameters,
            give_up_after=args.give_up_after,
            secret_env=args.secret_env,
        )
    except (ServiceError, ServiceUnavailable) as exc:
        print(f"logmetrics: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    print(f"logmetrics: run {shipped.run} {shipped.status}", file=sys.stderr)
    if shipped.failure:
        print(f"logmetrics: {shipped.failure}", file=sys.stderr)
        for path in shipped.saved:
            print(f"logmetrics: unsent output saved to {path}", file=sys.stderr)
    return shipped.exit_code


def _utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
