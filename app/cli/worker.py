"""`logmetrics worker`: lease the runs of tuning jobs' searches and run them here."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from pathlib import Path

from app.cli.options import Commands, add_secret_env, add_url, interruptible, positive
from app.clients.gpus import parse_gpus
from app.clients.sharing import Sharing, s3_root

__all__ = ["register"]


def register(commands: Commands) -> None:
    worker = commands.add_parser(
        "worker",
        help="run the runs tuning jobs' searches hand out, on this machine",
        description="Ask the service for runs of tuning jobs with a search, run each "
        "one's command with its hyperparameters, ship its output, and report its end. "
        "Run as many workers, on as many machines, as you like.",
    )
    add_url(worker)
    worker.add_argument(
        "--job", action="append", help="only this job (repeatable; default: any job)"
    )
    worker.add_argument(
        "--parallel", type=positive, default=1, metavar="K", help="runs at once (default 1)"
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
    add_secret_env(worker)
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
        "--s3-root",
        action="append",
        default=[],
        type=_s3_root,
        metavar="S3URI",
        help="an S3 location (s3://bucket or s3://bucket/folder) training jobs may read and "
        "write (repeatable): their channels, code, checkpoints and output path must lie "
        "inside one. Default: wherever this worker's credentials reach. With any, no AWS_* "
        "variable of this worker reaches a job",
    )
    worker.add_argument(
        "--max-source-bytes",
        type=positive,
        default=Sharing().max_source_bytes,
        metavar="BYTES",
        help="the most a sourcedir.tar.gz may unpack to (default 1 GiB)",
    )
    worker.add_argument(
        "--max-source-files",
        type=positive,
        default=Sharing().max_source_files,
        metavar="N",
        help="the most entries a sourcedir.tar.gz may hold (default 100000)",
    )
    worker.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="where this worker keeps what it downloads from S3 (DIR/s3, by ETag, for all "
        "its runs) and the environments a script's requirements.txt is installed in "
        "(DIR/jobs/JOB/venvs, by the file's SHA-256, for the runs of one job). "
        "Default: $XDG_CACHE_HOME/logmetrics, or ~/.cache/logmetrics",
    )
    worker.add_argument(
        "--gpus",
        type=_gpus,
        metavar="all|none|LIST",
        help="count this machine's GPUs and give each run its own (CUDA_VISIBLE_DEVICES, "
        "SM_NUM_GPUS, a container's --gpus): 'all' (found through NVML or nvidia-smi), "
        "'none', or device indices or UUIDs such as 0,1. Only runs it can place now are "
        "leased to it: a job's resources.gpus_per_run, or a SageMaker job's instance type's "
        "GPUs times its InstanceCount. Default: GPUs are not counted and every run sees all",
    )
    worker.set_defaults(handler=_worker)


def _gpus(given: str) -> tuple[str, ...]:
    try:
        return parse_gpus(given)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _s3_root(given: str) -> str:
    try:
        return s3_root(given)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _worker(args: argparse.Namespace, _parser: argparse.ArgumentParser) -> int:
    from app.clients.client import ServiceClient
    from app.clients.shipper.environment import protect_environment
    from app.clients.worker import Worker, WorkerSettings, default_worker_name

    # The runs' commands run as our user: they must not read the token (or the AWS
    # credentials) from our /proc.
    protect_environment()
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
            sharing=Sharing(
                data_roots,
                args.max_source_bytes,
                args.max_source_files,
                s3_roots=tuple(args.s3_root),
            ),
            cache_dir=args.cache_dir.resolve() if args.cache_dir else None,
            gpus=args.gpus,
        ),
    )
    try:
        with interruptible(worker.stop) as received:
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
