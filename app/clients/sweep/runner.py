"""Runs a sweep: creates the tuning job, runs a local worker on it until the job ends,
and reports the leaderboard and the best run.

The service chooses every run's hyperparameters; this is a thin client. Interrupted
(Ctrl-C, SIGTERM: `Sweep.interrupt`), it stops the job: the service asks the running
runs to stop, the worker ends their commands, and the report shows what was done.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from app.clients.client import ServiceClient, ServiceError
from app.clients.shipper.process import Echo, raw_echo
from app.clients.sweep.spec import SweepSpec
from app.clients.worker import Worker, WorkerSettings, default_worker_name

__all__ = ["Sweep", "SweepResult", "format_report"]


@dataclass(frozen=True)
class SweepResult:
    job: dict[str, Any]  # the job as the API shows it, when the sweep ended
    leaderboard: tuple[dict[str, Any], ...]  # every run, best first, then the unranked
    best: dict[str, Any] | None
    interrupted: bool


class Sweep:
    """One sweep. `run()` in the main thread; `interrupt()` from a signal handler."""

    def __init__(
        self,
        client: ServiceClient,
        spec: SweepSpec,
        *,
        job_name: str | None = None,
        out: TextIO | None = None,
        poll_seconds: float = 0.5,
    ) -> None:
        self._client = client
        self.spec = spec
        self.job = job_name or spec.name
        self._say = _printer(out)
        parallel = spec.search.resource_limits.max_parallel_training_jobs
        self._worker = Worker(
            client,
            WorkerSettings(
                name=f"sweep@{default_worker_name()}",
                jobs=(self.job,),
                parallel=parallel,
                poll_seconds=poll_seconds,
            ),
            echo=_prefixed_echo if parallel > 1 else None,
            report=self._say,
        )
        self._interrupted = threading.Event()

    def interrupt(self) -> None:
        """Stop the sweep: the job is stopped once `run` sees this (at once)."""
        self._interrupted.set()

    def run(self) -> SweepResult:
        """Create the job and work on it until it ends.

        Raises:
            ServiceError: the job cannot be created (it exists, or the spec is refused).
        """
        self._client.create_job(self.spec.job_body(self.job))
        search = self.spec.search
        self._say(
            f"sweep: job {self.job}: {search.strategy.value} search, up to "
            f"{search.max_training_jobs()} runs, "
            f"{search.resource_limits.max_parallel_training_jobs} at a time"
        )
        working = threading.Thread(target=self._worker.run, name="logmetrics-sweep-worker")
        working.start()
        stopped = False
        while working.is_alive():
            if self._interrupted.is_set() and not stopped:
                stopped = True
                self._say(f"sweep: interrupted; stopping job {self.job}")
                self._stop_job()
            working.join(0.1)
        return self.result()

    def result(self) -> SweepResult:
        job = self._client.get_job(self.job)
        leaderboard = tuple(self._client.leaderboard(self.job, limit=1000)["runs"])
        try:
            best: dict[str, Any] | None = self._client.best_run(self.job)
        except ServiceError as exc:
            if exc.status != 404:
                raise
            best = None
        return SweepResult(job, leaderboard, best, self._interrupted.is_set())

    def _stop_job(self) -> None:
        try:
            self._client.stop_job(self.job)
        except ServiceError as exc:
            if exc.body.get("error") != "job_ended":
                raise
        # The service asks each run to stop; the worker stops them at once too, and
        # takes no more.
        self._worker.stop("the job was stopped")


def format_report(result: SweepResult, tuned: list[str]) -> str:
    """The leaderboard as a table, then the best run's hyperparameters and final metrics."""
    job = result.job
    lines = [f"Leaderboard of {job['name']} (best first):"]
    header = ["#", "run", "status", "objective", *tuned]
    ranked = [r for r in result.leaderboard if r["objective"]["status"] == "Succeeded"]
    rows = [
        [
            str(rank),
            run["name"],
            run["status"] + (" early" if run["stopped_early"] else ""),
            _number(run["objective"]["value"]),
            *(run["hyperparameters"].get(name, "") for name in tuned),
        ]
        for rank, run in enumerate(ranked, 1)
    ]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    for row in [header, *rows]:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        lines.append("  ".join(cells).rstrip())
    counters = job["training_job_status_counters"]
    progress = job.get("search_progress") or {}
    lines.append(
        f"Runs: {progress.get('started', len(result.leaderboard))} started, "
        f"{counters['completed']} completed, {counters['stopped']} stopped "
        f"({progress.get('stopped_early', 0)} early), {counters['non_retryable_error']} failed."
    )
    completion = job.get("completion")
    ended = f"Job {job['status']}"
    if completion:
        ended += f": {completion['criterion']} ({completion['detail']})"
    lines.append(ended + ".")
    best = result.best
    if best is None:
        lines.append("No best run: no completed or stopped run reported its objective metric.")
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
