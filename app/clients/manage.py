"""`logmetrics jobs`, `leaderboard`, `best`, `export` and `reparse`: a job from the
command line."""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from app.clients.client import ServiceClient, ServiceError

__all__ = ["print_best", "print_jobs", "print_leaderboard", "reparse", "write_export"]


def print_jobs(client: ServiceClient, out: TextIO) -> None:
    rows = [["job", "status", "objective", "runs", "best run", "best value"]]
    for job in client.list_jobs()["jobs"]:
        best = job["best_run"] or {}
        objective = job["objective"]
        rows.append(
            [
                job["name"],
                job["status"],
                f"{objective['type']} {objective['metric_name']}",
                str(sum(job["run_counts"].values())),
                best.get("name", "-"),
                _number(best.get("objective_value")),
            ]
        )
    _table(rows, out)


def print_leaderboard(client: ServiceClient, job: str, out: TextIO) -> None:
    """Ranked runs (those `best` considers) best first, then the others with their status."""
    body = b"".join(client.export(job, "runs", "jsonl"))
    runs = [json.loads(line) for line in body.decode().splitlines()]
    tuned = sorted(
        {key for run in runs for key in run if key.startswith("hp.") and not key.startswith("hp._")}
    )
    varying = [k for k in tuned if len({run.get(k) for run in runs}) > 1]
    rows = [["#", "run", "status", "objective", *(k[3:] for k in varying)]]
    for run in runs:
        rows.append(
            [
                str(run["rank"] or ""),
                run["run"],
                run["status"],
                _number(run["objective_value"]),
                *(str(run.get(k) or "") for k in varying),
            ]
        )
    _table(rows, out)


def print_best(client: ServiceClient, job: str, out: TextIO) -> int:
    try:
        best = client.best_run(job)
    except ServiceError as exc:
        if exc.status == 404 and exc.body.get("error") == "no_best_run":
            print(exc.body["message"], file=out)
            return 1
        raise
    objective = best["objective"]
    print(f"{best['name']}: {objective['metric_name']} = {_number(objective['value'])}", file=out)
    shown = {k: v for k, v in best["hyperparameters"].items() if not k.startswith("_")}
    print("hyperparameters: " + ", ".join(f"{k}={v}" for k, v in shown.items()), file=out)
    finals = ", ".join(f"{m['metric_name']}={_number(m['value'])}" for m in best["final_metrics"])
    print("final metrics: " + finals, file=out)
    return 0


def reparse(
    client: ServiceClient,
    job: str,
    definitions: Path,
    objective: dict[str, str] | None,
    wait: bool,
    out: TextIO,
    poll_seconds: float = 0.5,
) -> None:
    """Give the job the definitions in the file (JSON: a list of definitions, or an object
    with `metric_definitions` / `MetricDefinitions`, as a job's body or SageMaker's
    AlgorithmSpecification has them) and, with `wait`, report until every run is done.

    Raises: ValueError for a file that holds no definitions; ServiceError as the service
        answers (422 names the definition at fault).
    """
    try:
        given = json.loads(definitions.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read definitions from {definitions}: {exc}") from exc
    if isinstance(given, dict):
        given = given.get("metric_definitions", given.get("MetricDefinitions"))
    if not isinstance(given, list):
        raise ValueError(
            f"{definitions} holds no list of metric definitions (a JSON list, or an object "
            "with metric_definitions or MetricDefinitions)"
        )
    body: dict[str, Any] = {"metric_definitions": given}
    if objective:
        body["objective"] = objective
    progress = client.reparse(job, body)
    print(
        f"job {job!r} has definitions version {progress['definitions_version']}; "
        f"re-parsing its {progress['runs']} runs",
        file=out,
    )
    while wait and not progress["done"]:
        time.sleep(poll_seconds)
        progress = client.reparse_progress(job)
    if wait:
        print(f"re-parsed {progress['runs_reparsed']} of {progress['runs']} runs", file=out)


def write_export(
    client: ServiceClient, job: str, what: str, form: str, output: Path | None
) -> None:
    """Write the export to `output` (stdout when None). Parquet is written here from the
    service's JSON lines, with pyarrow (`pip install 'logmetrics[parquet]'`)."""
    if form == "parquet":
        if output is None:
            raise ValueError("a Parquet export needs --output FILE")
        _write_parquet(b"".join(client.export(job, what, "jsonl")), output)
        return
    if output is None:
        for piece in client.export(job, what, form):
            sys.stdout.buffer.write(piece)
        sys.stdout.buffer.flush()
        return
    with output.open("wb") as file:
        for piece in client.export(job, what, form):
            file.write(piece)


def _write_parquet(jsonl: bytes, output: Path) -> None:
    try:
        import pyarrow.json
        import pyarrow.parquet
    except ImportError as exc:
        raise ValueError("Parquet needs pyarrow: pip install 'logmetrics[parquet]'") from exc
    table = pyarrow.json.read_json(io.BytesIO(jsonl)) if jsonl else pyarrow.table({})
    pyarrow.parquet.write_table(table, output)


def _table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(), file=out
        )


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:.6g}" if isinstance(value, float) else str(value)
