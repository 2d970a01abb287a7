"""The `logmetrics` command: serve the API, run a training command, run a sweep."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from app.script_mode import Sharing

__all__ = ["build_parser", "main", "timestamped"]

DEFAULT_URL = "http://127.0.0.1:8000"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if hasattr(args, "token_file"):
        try:
            args.token = _token(args.token, args.token_file)
        except ValueError as exc:
            parser.error(str(exc))
    if args.command == "serve":
        return _serve(args)
    if args.command == "db":
        return _db(args)
    if args.command == "run":
        return _run(parser, args)
    if args.command == "sweep":
        return _sweep(args)
    if args.command == "worker":
        return _worker(args)
    if args.command in ("jobs", "leaderboard", "best", "export", "reparse"):
        return _manage(args)
    if args.command == "demo":
        from app.demo import DEFAULT_SPEC, run_demo

        return run_demo(Path(args.spec) if args.spec else DEFAULT_SPEC, args.database_url)
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="logmetrics", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)",
    )
    serve.add_argument("--port", type=int, default=8000, help="the port (default 8000)")
    serve.add_argument(
        "--database-url",
        help="a SQLAlchemy URL: sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/DB "
        "(default: LOGMETRICS_DATABASE_URL, else sqlite:///data/logmetrics.db)",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug", "trace"],
        help="what the service logs (default info)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="service processes sharing the port and the database (default 1)",
    )

    database = commands.add_parser("db", help="the database's schema")
    database_commands = database.add_subparsers(dest="db_command", required=True)
    for name, text in (
        ("upgrade", "migrate the schema to this version's (the service does it at start)"),
        ("current", "print the schema revision of the database and of this version"),
    ):
        sub = database_commands.add_parser(name, help=text)
        sub.add_argument("--database-url", help="default: LOGMETRICS_DATABASE_URL or ./data/")

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
    _add_url(run)
    run.add_argument(
        "--give-up-after",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="how long to retry an unreachable service (default: an hour)",
    )
    _add_secret_env(run)
    run.add_argument("training_command", nargs=argparse.REMAINDER)

    demo = commands.add_parser(
        "demo", help="start the service, run the reference sweep against it, report, stop"
    )
    demo.add_argument("--spec", help="a sweep spec (default: trainer/sweep.yaml)")
    demo.add_argument("--database-url", help="default: ./data/logmetrics.db")

    worker = commands.add_parser(
        "worker",
        help="run the runs tuning jobs' searches hand out, on this machine",
        description="Ask the service for runs of tuning jobs with a search, run each "
        "one's command with its hyperparameters, ship its output, and report its end. "
        "Run as many workers, on as many machines, as you like.",
    )
    _add_url(worker)
    worker.add_argument(
        "--job", action="append", help="only this job (repeatable; default: any job)"
    )
    worker.add_argument(
        "--parallel", type=_positive, default=1, metavar="K", help="runs at once (default 1)"
    )
    worker.add_argument(
        "--exit-when-idle",
        action="store_true",
        help="exit once no job has a run for this worker (default: wait for more)",
    )
    worker.add_argument("--name", help="the worker's name (default: host:pid)")
    worker.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="NAME=COMMAND",
        help="run training jobs of image NAME as COMMAND (repeatable): for tuning jobs "
        "created through SageMaker's API, which name an image, not a command",
    )
    worker.add_argument(
        "--poll",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="how often to ask again when there is no work (default 2)",
    )
    worker.add_argument(
        "--stop-grace",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="from SIGTERM to SIGKILL when a run is stopped (default 10)",
    )
    _add_secret_env(worker)
    worker.add_argument(
        "--data-root",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="a folder training jobs may read (repeatable): file:// input channels and a "
        "local sagemaker_submit_directory must lie inside one, symlinks and '..' resolved; "
        "a channel is mounted read-only in Docker mode. Default: none, so such jobs fail",
    )
    worker.add_argument(
        "--max-source-bytes",
        type=_positive,
        default=Sharing().max_source_bytes,
        metavar="BYTES",
        help="the most a sourcedir.tar.gz may unpack to (default 1 GiB)",
    )
    worker.add_argument(
        "--max-source-files",
        type=_positive,
        default=Sharing().max_source_files,
        metavar="N",
        help="the most entries a sourcedir.tar.gz may hold (default 100000)",
    )

    jobs = commands.add_parser("jobs", help="list the jobs, with status and best run")
    _add_url(jobs)
    leaderboard = commands.add_parser(
        "leaderboard",
        help="a job's runs: ranked ones best first (as `best` ranks them), then the others",
    )
    leaderboard.add_argument("job", help="the job")
    _add_url(leaderboard)
    best = commands.add_parser("best", help="a job's best run, its hyperparameters and metrics")
    best.add_argument("job", help="the job")
    _add_url(best)
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
    _add_url(export)
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
    _add_url(reparse)

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
    _add_url(sweep)
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _add_url(command: argparse.ArgumentParser) -> None:
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


def _add_secret_env(command: argparse.ArgumentParser) -> None:
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
    from app.shipper.environment import secret_pattern_problem

    problem = secret_pattern_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{text!r}: {problem}")
    return text


def _token(given: str | None, path: Path | None) -> str | None:
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


def _db(args: argparse.Namespace) -> int:
    from sqlalchemy import create_engine

    from app.config import Settings
    from app.storage.migrations import HEAD, current_revision, upgrade
    from app.storage.sql.engine import Database

    url = args.database_url or Settings().database_url
    if args.db_command == "current":
        engine = create_engine(url)
        print(f"database: {current_revision(engine) or 'empty'}; this version: {HEAD}")
        engine.dispose()
        return 0
    database = Database(url)  # makes a SQLite file and its folder as the service does
    try:
        before, after = upgrade(database.engine)
    finally:
        database.close()
    print(f"schema: {before or 'empty'} -> {after}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from app.serve import serve

    return serve(args.host, args.port, args.log_level, args.workers, args.database_url)


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from app.client import ServiceClient, ServiceError, ServiceUnavailable
    from app.shipper import ship

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


def _sweep(args: argparse.Namespace) -> int:
    from app.client import ServiceClient, ServiceError, ServiceUnavailable
    from app.sweep import Sweep, SweepSpecError, format_report, load_spec

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
        with _interruptible(sweep.interrupt) as received:
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


def _manage(args: argparse.Namespace) -> int:
    from app.client import ServiceClient, ServiceError, ServiceUnavailable
    from app.manage import print_best, print_jobs, print_leaderboard, reparse, write_export

    client = ServiceClient(args.url, token=args.token)
    try:
        if args.command == "jobs":
            print_jobs(client, sys.stdout)
        elif args.command == "leaderboard":
            print_leaderboard(client, args.job, sys.stdout)
        elif args.command == "best":
            return print_best(client, args.job, sys.stdout)
        elif args.command == "reparse":
            objective = None
            if args.objective_metric:
                current = client.get_job(args.job)["objective"]
                objective = {
                    "metric_name": args.objective_metric,
                    "type": args.objective_type or current["type"],
                    "strategy": current["strategy"],
                }
            reparse(client, args.job, args.definitions, objective, not args.no_wait, sys.stdout)
        else:
            write_export(client, args.job, args.what, args.format, args.output)
    except (ServiceError, ServiceUnavailable, ValueError) as exc:
        print(f"logmetrics: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    return 0


def _worker(args: argparse.Namespace) -> int:
    from app.client import ServiceClient
    from app.worker import Worker, WorkerSettings, default_worker_name

    logging.getLogger("logmetrics").setLevel(logging.INFO)
    images = {}
    for item in args.image:
        name, sep, command = item.partition("=")
        if not sep or not name or not command.strip():
            print(f"logmetrics: --image takes NAME=COMMAND, got {item!r}", file=sys.stderr)
            return 2
        images[name] = command
    data_roots = tuple(root.resolve() for root in args.data_root)
    for given, root in zip(args.data_root, data_roots, strict=True):
        if not root.is_dir():
            print(f"logmetrics: --data-root {str(given)!r} is not a folder", file=sys.stderr)
            return 2
    client = ServiceClient(args.url, token=args.token)
    worker = Worker(
        client,
        WorkerSettings(
            name=args.name or default_worker_name(),
            jobs=tuple(args.job) if args.job else None,
            parallel=args.parallel,
            exit_when_idle=args.exit_when_idle,
            poll_seconds=args.poll,
            stop_grace=args.stop_grace,
            images=images,
            secret_env=tuple(args.secret_env),
            sharing=Sharing(data_roots, args.max_source_bytes, args.max_source_files),
        ),
    )
    try:
        with _interruptible(worker.stop) as received:
            working = threading.Thread(target=worker.run, name="logmetrics-worker")
            working.start()
            while working.is_alive():
                working.join(0.2)
    finally:
        client.close()
    if worker.failure is not None:
        print(f"logmetrics: {worker.failure}", file=sys.stderr)
        return 1
    return 128 + received[0] if received else 0


@contextlib.contextmanager
def _interruptible(interrupt: Callable[[], None]) -> Iterator[list[int]]:
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


def timestamped(name: str) -> str:
    """`name` with the date and time appended, still a valid job name."""
    from datetime import datetime

    return f"{name}-{datetime.now():%Y%m%d-%H%M%S}"


if __name__ == "__main__":
    sys.exit(main())


def _utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
