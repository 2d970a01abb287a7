"""`logmetrics jobs`, `leaderboard`, `best`, `export` and `reparse`: a job's results."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.options import Commands, add_url

if TYPE_CHECKING:
    from app.clients.client import ServiceClient

__all__ = ["register"]


def register(commands: Commands) -> None:
    jobs = commands.add_parser("jobs", help="list the jobs, with status and best run")
    jobs.set_defaults(handler=_managing(_jobs))
    leaderboard = commands.add_parser(
        "leaderboard",
        help="a job's runs: ranked ones best first (as `best` ranks them), then the others",
    )
    leaderboard.add_argument("job", help="the job")
    leaderboard.set_defaults(handler=_managing(_leaderboard))
    best = commands.add_parser("best", help="a job's best run, its hyperparameters and metrics")
    best.add_argument("job", help="the job")
    best.set_defaults(handler=_managing(_best))
    export = commands.add_parser("export", help="a job's runs or points as a file")
    export.add_argument("job", help="the job")
    export.add_argument(
        "--what",
        choices=["runs", "points"],
        default="runs",
        help="runs (the leaderboard, one row a run) or points (every point); default runs",
    )
    export.add_argument(
        "--format",
        choices=["csv", "jsonl", "parquet"],
        default="csv",
        help="csv, jsonl, or parquet (needs pyarrow: pip install 'logmetrics[parquet]')",
    )
    export.add_argument("--output", type=Path, help="the file to write (default: stdout)")
    export.set_defaults(handler=_managing(_export))
    reparse = commands.add_parser(
        "reparse",
        help="parse a job's stored logs again with new metric definitions",
        description="Give the job new metric definitions (and, if given, a new objective): "
        "the old ones are kept in its history, every run's points are replaced from its "
        "stored raw logs, and running runs go on with the new definitions.",
    )
    reparse.add_argument("job", help="the job")
    reparse.add_argument(
        "--definitions",
        type=Path,
        required=True,
        help="a JSON file: a list of {Name, Regex}, or an object with MetricDefinitions",
    )
    reparse.add_argument("--objective-metric", help="the new objective metric (default: the job's)")
    reparse.add_argument(
        "--objective-type",
        choices=["Maximize", "Minimize"],
        help="with --objective-metric: Maximize or Minimize (default: the job's)",
    )
    reparse.add_argument(
        "--no-wait",
        action="store_true",
        help="return once the job has the new definitions, not when every run is re-parsed",
    )
    reparse.set_defaults(handler=_managing(_reparse))
    for command in (jobs, leaderboard, best, export, reparse):
        add_url(command)


Action = Callable[["ServiceClient", argparse.Namespace], int]


def _managing(action: Action) -> Callable[[argparse.Namespace, argparse.ArgumentParser], int]:
    """The handler that runs `action` with a client, and says what the service refused."""

    def handle(args: argparse.Namespace, _parser: argparse.ArgumentParser) -> int:
        from app.clients.client import ServiceClient, ServiceError, ServiceUnavailable

        client = ServiceClient(args.url, token=args.token)
        try:
            return action(client, args)
        except (ServiceError, ServiceUnavailable, ValueError) as exc:
            print(f"logmetrics: {exc}", file=sys.stderr)
            return 1
        finally:
            client.close()

    return handle


def _jobs(client: ServiceClient, _args: argparse.Namespace) -> int:
    from app.clients.manage import print_jobs

    print_jobs(client, sys.stdout)
    return 0


def _leaderboard(client: ServiceClient, args: argparse.Namespace) -> int:
    from app.clients.manage import print_leaderboard

    print_leaderboard(client, args.job, sys.stdout)
    return 0


def _best(client: ServiceClient, args: argparse.Namespace) -> int:
    from app.clients.manage import print_best

    return print_best(client, args.job, sys.stdout)


def _export(client: ServiceClient, args: argparse.Namespace) -> int:
    from app.clients.manage import write_export

    write_export(client, args.job, args.what, args.format, args.output)
    return 0


def _reparse(client: ServiceClient, args: argparse.Namespace) -> int:
    from app.clients.manage import reparse

    objective = None
    if args.objective_metric:
        current = client.get_job(args.job)["objective"]
        objective = {
            "metric_name": args.objective_metric,
            "type": args.objective_type or current["type"],
            "strategy": current["strategy"],
        }
    reparse(client, args.job, args.definitions, objective, not args.no_wait, sys.stdout)
    return 0
