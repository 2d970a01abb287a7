"""`logmetrics jobs`, `leaderboard`, `best` and `export`: a job from the command line."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from app.client import ServiceClient, ServiceError

__all__ = ["print_best", "print_jobs", "print_leaderboard", "write_export"]


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
