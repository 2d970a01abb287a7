"""A job's runs and points as tables: CSV for a spreadsheet, JSON lines for scripts.

Rows are produced as they are read (`run_rows`, `point_rows`), and encoded a row at a
time (`encode`), so an export of millions of points streams in constant memory.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any, Literal

from app.errors import RunNotFound
from app.objective import objective_status, qualifying_statuses, ranking_query
from app.protocol.ranges import DECIMAL_TEXT
from app.records import Job, Run
from app.storage import RunQuery, Storage

__all__ = ["POINT_COLUMNS", "Format", "encode", "point_rows", "run_columns", "run_rows"]

Format = Literal["csv", "jsonl"]
POINT_COLUMNS = ("run", "metric", "step", "value", "timestamp", "stream", "line")
_PAGE = 10_000
# A spreadsheet reads a cell that begins with one of these as a formula (OWASP's "CSV
# injection"); a decimal number that begins with a sign is still a number.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def ranked_runs(storage: Storage, job: Job) -> list[Run]:
    """Every run with its summaries: the ranked ones (`ranking_query`) best first, then
    the others oldest first."""
    ranked = _all(storage, job, ranking_query(job))
    names = {run.name for run in ranked}
    rest = [
        run
        for run in _all(storage, job, RunQuery("created_at", "asc", (), 1000))
        if run.name not in names
    ]
    return ranked + rest


def run_columns(job: Job, runs: Sequence[Run]) -> list[str]:
    hyperparameters: dict[str, None] = {}
    for run in runs:
        hyperparameters.update(dict.fromkeys(run.hyperparameters))
    return [
        "rank",
        "run",
        "status",
        "failure_reason",
        "created_at",
        "ended_at",
        "objective_metric",
        "objective_value",
        "objective_status",
        *(f"hp.{name}" for name in hyperparameters),
        *(f"final.{name}" for name in job.metric_names),
    ]


def run_rows(job: Job, runs: Sequence[Run]) -> Iterator[dict[str, Any]]:
    counted = qualifying_statuses(include_in_progress=False)
    rank = 0
    for run in runs:
        ranked = run.status in counted and run.objective_value is not None
        rank += 1 if ranked else 0
        finals = {m.name: m.last for m in run.metrics if m.last is not None}
        yield {
            "rank": rank if ranked else None,
            "run": run.name,
            "status": run.status.value,
            "failure_reason": run.failure_reason,
            "created_at": run.created_at.isoformat(),
            "ended_at": run.ended_at.isoformat() if run.ended_at else None,
            "objective_metric": job.objective_metric,
            "objective_value": run.objective_value,
            "objective_status": objective_status(run).value,
            **{f"hp.{k}": v for k, v in run.hyperparameters.items()},
            **{f"final.{k}": v for k, v in finals.items()},
        }


def point_rows(storage: Storage, job: Job) -> Iterator[dict[str, Any]]:
    """Every point of every run, runs oldest first, each metric's in arrival order.

    A run deleted while its points are read ends where it was found gone, and the export
    goes on with the next run: the rows stream after the answer has started, when its
    status can no longer become a 404.
    """
    for run in storage.job_runs(job):
        try:
            yield from _run_points(storage, job, run)
        except RunNotFound:
            continue


def _run_points(storage: Storage, job: Job, run: Run) -> Iterator[dict[str, Any]]:
    for metric in job.metric_names:
        after = 0
        while True:
            found, last = storage.metric_series(job, run.name, metric, after, _PAGE)
            for point in found:
                yield {
                    "run": run.name,
                    "metric": metric,
                    "step": point.step,
                    "value": point.value,
                    "timestamp": point.timestamp.isoformat(),
                    "stream": point.stream,
                    "line": point.line,
                }
            if last is None:
                break
            after = last


def encode(rows: Iterable[dict[str, Any]], columns: Sequence[str], form: Format) -> Iterator[bytes]:
    """The rows as CSV (a header, then one line per row) or JSON lines.

    CSV text that a spreadsheet would run as a formula is escaped (`_cell`); JSON lines
    keep every value as it is.
    """
    if form == "jsonl":
        for row in rows:
            yield (json.dumps({k: _json(row.get(k)) for k in columns}) + "\n").encode()
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([_cell(name) for name in columns])
    for row in rows:
        writer.writerow([_cell(row.get(k)) for k in columns])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _cell(value: Any) -> Any:
    """A CSV cell: text a spreadsheet would run as a formula gets a leading `'`, as OWASP
    recommends (a failure reason or a hyperparameter is tenant text, and a log line can
    become a failure reason); numbers, and text that is a plain decimal number, stay."""
    if value is None:
        return ""
    formula = isinstance(value, str) and value.startswith(_FORMULA_STARTS)
    return "'" + value if formula and not DECIMAL_TEXT.fullmatch(value) else value


def _json(value: Any) -> Any:
    # JSON has no NaN or infinity: such a value (a diverged loss, say) goes as text.
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _all(storage: Storage, job: Job, query: RunQuery) -> list[Run]:
    found: list[Run] = []
    cursor = None
    while True:
        page = storage.list_runs(job, replace(query, cursor=cursor))
        found += page.runs
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor
