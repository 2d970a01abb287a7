"""The dashboard's pages: jobs, a job, a run, and the regex tester.

Each page renders what it shows from the storage, through the same records the JSON API
answers with. A page's live parts are marked `data-region`; `live.js` fetches the page
again and swaps those, so each thing is rendered in one place, here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from typing import Annotated, Any, cast
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.analysis.early_stopping import rule_of
from app.api.deps import PresetsDep, StorageDep, TunerDep
from app.diagnostics import unmatched_hints
from app.errors import NotFound
from app.objective import qualifying_statuses, ranking_query
from app.parsing.definitions import rendering_of
from app.parsing.framing import LineFramer
from app.parsing.lines import CLEANED
from app.protocol.search import EarlyStopping
from app.records import Job, JobStatus, MetricSummary, ObjectiveType, Run, RunStatus
from app.storage import RunQuery, Storage
from app.tuning.tuner import runs_pending, search_of
from app.web.auth import ViewerDep
from app.web.leaderboard import (
    Hyperparameter,
    Leaderboard,
    Row,
    build_leaderboard,
    compare_hyperparameters,
)
from app.web.templating import TemplatesDep

__all__ = ["router"]

# A page lists at most this many runs; the API pages through any number.
MAX_RUNS = 5000
# Runs a compare page shows at most.
MAX_COMPARED = 12
# Leaderboard rows a job page renders unless asked for every run (`?runs=all`): a thousand
# rows of eighteen cells made a 1.3 MB page that took the browser seconds to lay out.
FIRST_ROWS = 100
# The statuses of a job whose search may still start or stop runs.
_SEARCHING = (JobStatus.IN_PROGRESS, JobStatus.STOPPING)

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

JobName = Annotated[str, Path(max_length=63)]
RunName = Annotated[str, Path(max_length=63)]


@router.get("/")
def read_jobs_page(
    request: Request, _viewer: ViewerDep, storage: StorageDep, templates: TemplatesDep
) -> Response:
    """Every job with its objective, run counts and best run."""
    overviews = storage.list_jobs()
    return templates.TemplateResponse(request, "jobs.html", {"overviews": overviews, "nav": "jobs"})


@router.get("/jobs/{job}")
def read_job_page(
    request: Request,
    job: JobName,
    _viewer: ViewerDep,
    storage: StorageDep,
    tuner: TunerDep,
    templates: TemplatesDep,
    runs: str | None = None,
) -> Response:
    """A job: its search, leaderboard, charts of its runs and its metric definitions.

    The leaderboard shows its first `FIRST_ROWS` rows in ranking order, or every run with
    `?runs=all` (any other value: the first rows); the charts draw every run either way.
    """
    try:
        found = storage.get_job(job)
    except NotFound as exc:
        return _not_found(request, templates, exc, back=("/", "all jobs"))
    overview = storage.job_overview(found)
    every = _all_runs(storage, found, RunQuery("created_at", "asc", (), 1000))
    ranked = (
        _ranked(found, every)
        if len(every) < MAX_RUNS
        # Past the cap `every` holds only the oldest runs: the best come from the storage.
        else _all_runs(storage, found, ranking_query(found))
    )
    best = overview.best_run.name if overview.best_run else None
    board = build_leaderboard(found, ranked, every, best)
    search = search_of(found)
    # A search that has not ended starts runs by itself, and a re-parse under way
    # replaces runs' points: the page follows them too.
    reparse = storage.reparse_progress(found)
    searching = search is not None and overview.state.status in _SEARCHING
    state = _job_state(found, board, every, searching or not reparse.done)
    if search is not None and search.early_stopping is EarlyStopping.AUTO:
        state["median"] = [[p.step, p.median] for p in tuner.median_curve(found)]
    state["preload"] = _first_reads(found, len(board.rows))
    all_runs = runs == "all"
    context = {
        "job": found,
        "overview": overview,
        "board": board,
        "shown": board.rows if all_runs else board.rows[:FIRST_ROWS],
        "all_runs": all_runs,
        "first_rows": FIRST_ROWS,
        "state": state,
        "search": search,
        "job_state": overview.state,
        "tallies": overview.tallies,
        "pending": runs_pending(overview),
        "reparse": reparse,
        "nav": "jobs",
    }
    return templates.TemplateResponse(request, "job.html", context)


@router.get("/jobs/{job}/compare")
def read_compare_page(
    request: Request,
    job: JobName,
    _viewer: ViewerDep,
    storage: StorageDep,
    templates: TemplatesDep,
    run: Annotated[list[str] | None, Query(max_length=63)] = None,
) -> Response:
    """Runs of a job side by side: each metric's series overlaid, their hyperparameters."""
    try:
        found_job = storage.get_job(job)
    except NotFound as exc:
        return _not_found(request, templates, exc, back=("/", "all jobs"))
    names = list(dict.fromkeys(run or ()))[:MAX_COMPARED]
    try:
        runs = [storage.get_run(found_job, name) for name in names]
    except NotFound as exc:
        return _not_found(request, templates, exc, back=(f"/jobs/{job}", f"job {job}"))
    with_points = {m.name for r in runs for m in r.metrics if m.count}
    metrics = [name for name in found_job.metric_names if name in with_points]
    context = {
        "job": found_job,
        "runs": runs,
        "hyperparameters": compare_hyperparameters(runs),
        "metrics": metrics,
        "state": {
            "job": found_job.name,
            "objective": found_job.objective_metric,
            "runs": names,
            "metrics": metrics,
        },
        "nav": "jobs",
    }
    return templates.TemplateResponse(request, "job_compare.html", context)


@router.get("/jobs/{job}/runs/{run}")
def read_run_page(
    request: Request,
    job: JobName,
    run: RunName,
    _viewer: ViewerDep,
    storage: StorageDep,
    templates: TemplatesDep,
) -> Response:
    """A run: its metrics over steps, diagnostics and the tail of its logs."""
    try:
        found_job = storage.get_job(job)
    except NotFound as exc:
        return _not_found(request, templates, exc, back=("/", "all jobs"))
    try:
        found = storage.get_run(found_job, run)
    except NotFound as exc:
        return _not_found(request, templates, exc, back=(f"/jobs/{job}", f"job {job}"))
    context = {
        "job": found_job,
        "run": found,
        "summaries": {m.name: m for m in found.metrics},
        "finals": _in_definition_order(found_job, found.metrics),
        "hints": unmatched_hints(storage, found_job, found),
        "renderings": {
            d.name: rendering_of(d, found_job.log_format) for d in found_job.metric_definitions
        },
        "state": _run_state(found_job, found),
        "rule": rule_of(found_job),
        "nav": "jobs",
    }
    return templates.TemplateResponse(request, "run.html", context)


@router.get("/tester")
def read_tester_page(
    request: Request, _viewer: ViewerDep, presets: PresetsDep, templates: TemplatesDep
) -> Response:
    """Try metric definitions on a sample log."""
    names = [preset.name for preset in presets.all()]
    return templates.TemplateResponse(request, "tester.html", {"presets": names, "nav": "tester"})


def _not_found(
    request: Request, templates: TemplatesDep, exc: NotFound, back: tuple[str, str]
) -> Response:
    context = {"message": exc.message, "back": back, "nav": "jobs"}
    return templates.TemplateResponse(request, "not_found.html", context, status_code=404)


def _all_runs(storage: Storage, job: Job, query: RunQuery) -> list[Run]:
    found: list[Run] = []
    cursor = None
    while len(found) < MAX_RUNS:
        page = storage.list_runs(job, replace(query, cursor=cursor))
        found += page.runs
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    return found[:MAX_RUNS]


def _ranked(job: Job, every: Sequence[Run]) -> list[Run]:
    """The runs `ranking_query(job)` lists, in its order, from every run oldest first:
    the counting runs by value, best first, ties oldest first (a stable sort of runs in
    creation order), so the page reads the job's runs once."""
    counting = set(qualifying_statuses(include_in_progress=False))
    ranked = [r for r in every if r.status in counting and r.objective_value is not None]
    maximize = job.objective_type is ObjectiveType.MAXIMIZE
    # `reverse` keeps equal values in their order, as ascending does.
    return sorted(ranked, key=lambda r: cast(float, r.objective_value), reverse=maximize)


def _job_state(
    job: Job, board: Leaderboard, every: Sequence[Run], searching: bool
) -> dict[str, Any]:
    """What the job page's scripts draw from, rendered into the page as JSON. `live`:
    the page polls only while it is true."""
    with_points = {m.name for run in every for m in run.metrics if m.count}
    return {
        "job": job.name,
        "objective": {"metric": job.objective_metric, "type": job.objective_type},
        "metrics": [name for name in job.metric_names if name in with_points],
        "runs": [_chart_run(row, board.tuned) for row in board.rows],
        "tuned": [
            {"name": hp.name, "scale": hp.scale.value, "categories": list(hp.categories)}
            for hp in board.tuned
        ],
        "live": board.live or searching,
        "median": [],
        # Changes whenever a run gets a point or changes status: the charts then refetch.
        "version": _digest(
            (run.name, run.status.value, sum(m.count for m in run.metrics)) for run in every
        ),
    }


def _chart_run(row: Row, tuned: Sequence[Hyperparameter]) -> dict[str, Any]:
    """A run as the job page's charts draw it, in as few bytes as they need (a thousand
    runs are read from the page): its rank, colour and value, `best` only on the best
    run, and for a run with a value its tuned hyperparameters' values in `tuned`'s order
    (null where unset), which the scatter plots place it by."""
    found: dict[str, Any] = {
        "name": row.run.name,
        "rank": row.rank,
        "color": row.color,
        "objective": row.run.objective_value,
    }
    if row.is_best:
        found["best"] = True
    if row.run.objective_value is not None:
        found["values"] = [row.run.hyperparameters.get(hp.name) for hp in tuned]
    return found


# The points per run the job page asks the series for: job-page.js's maxPoints, the same.
def _max_points(runs: int) -> int:
    return min(2000, max(100, 100_000 // max(runs, 1)))


def _first_reads(job: Job, runs: int) -> dict[str, str]:
    """The JSON the job page's scripts read first, by view, as the URLs they ask for
    (encoded as `encodeURIComponent` does). The page names them in `<link rel=preload>`, so
    the browser asks while it still parses a long page; the scripts' first reads take the
    answers."""
    job_path = f"/v1/jobs/{quote(job.name, safe=_URI_COMPONENT_SAFE)}"
    metric = quote(job.objective_metric, safe=_URI_COMPONENT_SAFE)
    return {
        "series": f"{job_path}/series/{metric}?max_points={_max_points(runs)}&limit=1000",
        "history": f"{job_path}/history",
        "parallel": f"{job_path}/parallel-coordinates",
        "importance": f"{job_path}/importance?evaluator=fanova",
    }


# What encodeURIComponent leaves as it is, beyond what `quote` always leaves.
_URI_COMPONENT_SAFE = "!*'()"


def _in_definition_order(job: Job, summaries: Sequence[MetricSummary]) -> list[MetricSummary]:
    order = {name: index for index, name in enumerate(job.metric_names)}
    return sorted(
        (m for m in summaries if m.last is not None), key=lambda m: order.get(m.name, len(order))
    )


def _run_state(job: Job, run: Run) -> dict[str, Any]:
    counts = {m.name: m.count for m in run.metrics}
    return {
        "job": job.name,
        "run": run.name,
        "objective": job.objective_metric,
        "live": run.status is RunStatus.IN_PROGRESS,
        "metrics": {name: counts[name] for name in job.metric_names if counts.get(name)},
        "streams": {
            s.name: {
                "next_offset": s.next_offset,
                "lines": s.lines,
                "partial_length": s.partial_length,
            }
            for s in run.streams
        },
        # The parser's own rules, so that the log's tail is cut and cleaned as it is.
        "line_rules": {
            "cr_ends": LineFramer(job.log_format).cr_ends,
            "cleaned": CLEANED,
        },
    }


def _digest(items: Any) -> str:
    return hashlib.sha256(repr(list(items)).encode()).hexdigest()[:16]
