"""`logmetrics sweep` and `logmetrics demo`: a tuning job from a file, run here."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli.options import Commands, add_url, interruptible

__all__ = ["register"]


def register(commands: Commands) -> None:
    sweep = commands.add_parser(
        "sweep",
        help="create a tuning job from a file and run its search here",
        description="Create the tuning job the file describes (the body of POST /v1/jobs, "
        "as YAML or JSON, with its search), run a local worker on it until the job ends, "
        "and print the leaderboard. Ctrl-C or SIGTERM stops the job cleanly.",
    )
    sweep.add_argument("spec", help="a sweep spec, YAML or JSON")
    sweep.add_argument("--job", help="the job's name (default: the spec's)")
    sweep.add_argument(
        "--timestamp",
        action="store_true",
        help="append the date and time to the job's name, so the sweep can run again",
    )
    add_url(sweep)
    sweep.set_defaults(handler=_sweep)

    demo = commands.add_parser(
        "demo", help="start the service, run the reference sweep against it, report, stop"
    )
    demo.add_argument("--spec", help="a sweep spec (default: trainer/sweep.yaml)")
    demo.add_argument("--database-url", help="default: ./data/logmetrics.db")
    demo.set_defaults(handler=_demo)


def _sweep(args: argparse.Namespace, _parser: argparse.ArgumentParser) -> int:
    from app.clients.client import ServiceClient, ServiceError, ServiceUnavailable
    from app.clients.shipper.environment import protect_environment
    from app.clients.sweep import Sweep, SweepSpecError, format_report, load_spec, timestamped

    # The runs' commands run as our user: they must not read the token from our /proc.
    protect_environment()
    try:
        spec = load_spec(args.spec)
    except SweepSpecError as exc:
        print(f"logmetrics: {exc}", file=sys.stderr)
        return 2
    job = args.job or spec.name
    if args.timestamp:
        job = timestamped(job)
    client = ServiceClient(args.url, token=args.token)
    sweep = Sweep(client, spec, job_name=job)
    try:
        with interruptible(sweep.interrupt) as received:
            result = sweep.run()
    except (ServiceError, ServiceUnavailable) as exc:
        print(f"logmetrics: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    print(format_report(result, spec.search.parameter_ranges.names()))
    if received:
        return 128 + received[0]  # 130 after Ctrl-C, 143 after SIGTERM
    return 0 if result.best is not None else 1


def _demo(args: argparse.Namespace, _parser: argparse.ArgumentParser) -> int:
    from app.clients.demo import DEFAULT_SPEC, run_demo

    return run_demo(Path(args.spec) if args.spec else DEFAULT_SPEC, args.database_url)
