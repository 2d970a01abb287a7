"""Runs a sweep: creates the job, runs the command once per hyperparameter set, and
reports the leaderboard and the best run."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TextIO

from app.client import ServiceClient, ServiceError
from app.shipper import Shipped, ship
from app.shipper.process import Echo, raw_echo
from app.sweep.search import hyperparameter_sets
from app.sweep.spec import SweepSpec

__all__ = ["SweepResult", "format_report", "run_sweep"]


@dataclass(frozen=True)
class SweepResult:
    job: str
    runs: tuple[Shipped, ...]
    leaderboard: tuple[dict[str, Any], ...]
    best: dict[str, Any] | None


def run_sweep(
    client: ServiceClient,
    spec: SweepSpec,
    *,
    job_name: str | None = None,
    out: TextIO | None = None,
    give_up_after: float = 3600.0,
) -> SweepResult:
    """Create the spec's job and run every hyperparameter set through the shipper,
    at most `max_parallel` at once.

    Raises:
        ServiceError: the job cannot be created (it exists, or the spec is refused).
        ValueError: the grid is too large.
    """
    job = job_name or spec.job.name
    sets = hyperparameter_sets(spec)
    client.create_job(
        {
            "name": job,
            "objective": spec.job.objective,
            "metric_definitions": spec.job.metric_definitions,
            "log_format": spec.job.log_format,
            "environment": spec.job.environment,
        }
    )
    say = _printer(out)
    say(f"sweep: job {job}: {len(sets)} runs, {spec.max_parallel} at a time")
    echo = _prefixed_echo if spec.max_parallel > 1 else None

    def one(hyperparameters: dict[str, str]) -> Shipped:
        shipped = ship(
            client,
            job,
            spec.command,
            hyperparameters=hyperparameters,
            give_up_after=give_up_after,
            echo=echo,
        )
        say(
            f"sweep: {shipped.run} {shipped.status}"
            + (f": {shipped.failure}" if shipped.failure else "")
        )
        return shipped

    with ThreadPoolExecutor(max_workers=spec.max_parallel) as pool:
        runs = tuple(pool.map(one, sets))
    leaderboard = tuple(client.leaderboard(job, limit=1000)["runs"])
    try:
        best: dict[str, Any] | None = client.best_run(job)
    except ServiceError as exc:
        if exc.status != 404:
            raise
        best = None
    return SweepResult(job, runs, leaderboard, best)


def format_report(result: SweepResult, tuned: list[str]) -> str:
    """The leaderboard as a table, then the best run's hyperparameters and final metrics."""
    lines = [f"Leaderboard of {result.job} (best first):"]
    header = ["#", "run", "status", "objective", *tuned]
    rows = [
        [
            str(rank),
            run["name"],
            run["status"],
            _number(run["objective"]["value"]),
            *(run["hyperparameters"].get(name, "") for name in tuned),
        ]
        for rank, run in enumerate(result.leaderboard, 1)
    ]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    for row in [header, *rows]:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        lines.append("  ".join(cells).rstrip())
    unranked = [r for r in result.runs if r.run not in {run["name"] for run in result.leaderboard}]
    for shipped in unranked:
        lines.append(f"   {shipped.run}: {shipped.status}, no objective value")
    best = result.best
    if best is None:
        lines.append("No best run: no completed run reported its objective metric.")
        return "\n".join(lines)
    objective = best["objective"]
    lines.append(
        f"Best run: {best['name']} with {objective['metric_name']} = {_number(objective['value'])}"
    )
    lines.append(
        "  hyperparameters: "
        + ", ".join(f"{k}={v}" for k, v in best["hyperparameters"].items() if not k.startswith("_"))
    )
    lines.append(
        "  final metrics:   "
        + ", ".join(f"{m['metric_name']}={_number(m['value'])}" for m in best["final_metrics"])
    )
    return "\n".join(lines)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _printer(out: TextIO | None) -> Callable[[str], None]:
    lock = threading.Lock()

    def say(text: str) -> None:
        with lock:
            if out is None:
                raw_echo(2, (text + "\n").encode())
            else:
                print(text, file=out, flush=True)

    return say


_ECHO_LOCK = threading.Lock()


def _prefixed_echo(run: str) -> Echo:
    """Show output with the run's name at the start of each line (and of each
    progress-bar redraw), so that parallel runs stay legible."""
    prefix = f"[{run}] ".encode()
    at_line_start = {1: True, 2: True}

    def echo(fd: int, data: bytes) -> None:
        shown = bytearray()
        for piece in data.splitlines(keepends=True):
            if at_line_start[fd]:
                shown += prefix
            shown += piece
            at_line_start[fd] = piece.endswith((b"\n", b"\r"))
        with _ECHO_LOCK:
            raw_echo(fd, bytes(shown))

    return echo
