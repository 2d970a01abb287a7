"""The job page at scale (issue 29, item 6): how long until a tuning job's page is drawn.

    python -m bench.job_page [--sizes 100,1000] [--points 1000] [--repeat 10] [--cold 3]
                             [--reuse-db] [--write-results]

The jobs are the scale phase's (bench/scale.py), made as tuning jobs (`search=True`: a
Random search over four hyperparameters, each run holding a value of each), bulk-loaded
and cached under bench/out/cache/ with `--reuse-db`. The service is started on the file
as the scale phase starts it (`bench.service.Service`: `python -m app serve`, every
`LOGMETRICS_*` variable removed).

Two measurements per job size:

- **The page in Chromium** (Playwright, Debian's /usr/bin/chromium with the browser
  tests' arguments): milliseconds from the navigation's start (`performance.now()` in the
  page, whose origin is the navigation) until `body[data-ready]` (the existing charts are
  drawn) and until `body[data-analysis-ready]` (history, parallel coordinates and
  importance each drawn, empty or failed), as a MutationObserver installed before the
  page's own scripts sees each attribute appear. A page without the analysis views (no
  `[data-testid="history-chart"]`) is timed to `data-ready` only. *Cold*: the first load
  after the service started, in a fresh browser context (no cached assets), once per
  service start, `--cold` starts. *Warm*: `--repeat` loads in one context after one
  untimed load, each in a new tab (assets cached, the service's caches warm).
- **Each request the page makes** (its same-origin requests in the cold load, static
  assets aside, plus the importance route with the other evaluator), over HTTP with
  httpx as `bench.scale.time_reads` times reads: the first answer after a service start
  (`--cold` starts; the importance evaluators fit their forest on it) and, cached, the
  median and 95th percentile of `--repeat` answers after 2 untimed ones.

The target: the page ready (`data-analysis-ready`) in under 1 s at 1,000 runs x 1,000
points, judged on the warm median; the cold figure is printed beside it.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.machine import load_average
from bench.scale import Fill, ScaleRead, prepare_scale_database, scale_job, time_request
from bench.sections import replace_section
from bench.service import Service
from tests.web.chromium import CHROMIUM, CHROMIUM_ARGS

__all__ = [
    "TARGET_MS",
    "TARGET_RUNS",
    "JobPageResult",
    "PageLoad",
    "RequestTiming",
    "main",
    "measure",
    "render",
    "target",
]

_REPO = Path(__file__).resolve().parent.parent
TARGET_MS = 1000.0
TARGET_RUNS = 1000
_WAIT_MS = 120_000  # a bound on one load's waits, never a timing claim
_OTHER_EVALUATOR = "ped-anova"

# Records, in the page, when each marker first appears (ms since the navigation started),
# and resolves `__benchMarked(name)` then: the harness waits on that promise rather than
# polling the DOM, whose queries would run on the page's main thread.
_MARKS_SCRIPT = """
window.__benchMarks = {};
const benchWaiting = {};
window.__benchMarked = (name, timeoutMs) => new Promise((resolve, reject) => {
  if (window.__benchMarks[name] !== undefined) return resolve(window.__benchMarks[name]);
  benchWaiting[name] = resolve;
  setTimeout(() => reject(new Error(`no ${name} after ${timeoutMs} ms`)), timeoutMs);
});
new MutationObserver(() => {
  const body = document.body;
  if (!body) return;
  for (const name of ["ready", "analysisReady"]) {
    if (body.dataset[name] !== undefined && window.__benchMarks[name] === undefined) {
      window.__benchMarks[name] = performance.now();
      if (benchWaiting[name]) benchWaiting[name](window.__benchMarks[name]);
    }
  }
}).observe(document, {
  subtree: true, childList: true, attributes: true,
  attributeFilter: ["data-ready", "data-analysis-ready"],
});
window.__benchLongTasks = [];
new PerformanceObserver((list) => {
  for (const task of list.getEntries()) {
    window.__benchLongTasks.push([task.startTime, task.duration]);
  }
}).observe({ type: "longtask", buffered: true });
"""

# Where one load's time went: the document's and each same-origin request's start and
# end (ms since the navigation started), and the main thread's long tasks (> 50 ms).
_WATERFALL_SCRIPT = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const steps = [
    ["document (HTML)", nav.requestStart, nav.responseEnd],
    ["DOMContentLoaded", nav.domContentLoadedEventStart, nav.domContentLoadedEventEnd],
  ];
  for (const entry of performance.getEntriesByType("resource")) {
    steps.push([entry.name, entry.startTime, entry.responseEnd]);
  }
  return { steps, longTasks: window.__benchLongTasks };
}"""


@dataclass(frozen=True)
class PageLoad:
    """One job size's page loads: ms to each marker, cold and warm (empty: not reached)."""

    runs: int
    analysis: bool  # the page has the analysis views (and was timed to data-analysis-ready)
    cold_ready: tuple[float, ...]
    cold_analysis: tuple[float, ...]
    warm_ready: tuple[float, ...]
    warm_analysis: tuple[float, ...]
    requests: tuple[str, ...]  # the page's same-origin requests but static assets, in order
    # The warm load whose last marker came at the median: (what, start ms, end ms) of the
    # document, DOMContentLoaded and each request (static assets aside), and the main
    # thread's long tasks (start ms, duration ms) until the markers.
    waterfall: tuple[tuple[str, float, float], ...] = ()
    long_tasks: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class RequestTiming:
    """One request of the page, over HTTP: first answers after a start, then cached."""

    runs: int
    path: str
    status: int
    first_ms: tuple[float, ...]  # one per service start
    cached: ScaleRead | None  # None: the route did not answer 200


@dataclass(frozen=True)
class JobPageResult:
    sizes: tuple[int, ...]
    points_per_run: int
    fill: Fill
    loads: tuple[PageLoad, ...]
    requests: tuple[RequestTiming, ...]
    load_before: str
    load_after: str


def measure(
    database: Path,
    log_dir: Path,
    sizes: Sequence[int],
    points_per_run: int,
    repeats: int,
    cold: int,
    cache_dir: Path | None = None,
    seed: int = 1,
) -> JobPageResult:
    """Fill (or copy) the tuning jobs, then time their pages and the pages' requests.

    Args:
        database: the SQLite file to fill (replaced).
        log_dir: where the service's logs go.
        sizes: runs per job; one job of each size.
        points_per_run: points in each run.
        repeats: warm page loads, and cached answers per request.
        cold: service starts, each timing one cold page load and, in another start,
            each request's first answer.
        cache_dir: where filled files are cached (None: always fill).
        seed: the fill's seed.

    Returns:
        Every timing, per job size.

    Raises:
        RuntimeError: Playwright or Chromium is missing, or a page never got ready.
    """
    load_before = load_average()
    for stale in (database, *(database.with_name(database.name + end) for end in ("-wal", "-shm"))):
        stale.unlink(missing_ok=True)
    _progress(f"filling tuning jobs of {', '.join(f'{n:,}' for n in sizes)} runs")
    fill = prepare_scale_database(database, sizes, points_per_run, seed, cache_dir, search=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    loads: list[PageLoad] = []
    requests: list[RequestTiming] = []
    with _browser() as browser:
        for size in sizes:
            job = scale_job(size)
            _progress(f"{size:,} runs: {cold} cold page loads, one service start each")
            cold_loads = []
            for attempt in range(cold):
                with Service(database, log_dir / f"job-page-{size}-cold-{attempt}.log") as service:
                    context = browser.new_context(viewport={"width": 1440, "height": 900})
                    try:
                        cold_loads.append(_load(context, f"{service.url}/jobs/{job}"))
                    finally:
                        context.close()
            paths = cold_loads[0].requests
            analysis = cold_loads[0].analysis
            if analysis:
                importance = next((p for p in paths if "/importance" in p), None)
                if importance is not None:
                    paths += (f"/v1/jobs/{job}/importance?evaluator={_OTHER_EVALUATOR}",)
            _progress(f"{size:,} runs: each request's first answer, {cold} service starts")
            first: dict[str, list[float]] = {path: [] for path in paths}
            statuses: dict[str, int] = {}
            for attempt in range(cold):
                log = log_dir / f"job-page-{size}-first-{attempt}.log"
                with Service(database, log) as service, service.client() as client:
                    for path in paths:
                        start = time.perf_counter()
                        response = client.get(path)
                        first[path].append((time.perf_counter() - start) * 1000)
                        statuses[path] = response.status_code
            _progress(f"{size:,} runs: {repeats} warm page loads and cached requests")
            with Service(database, log_dir / f"job-page-{size}-warm.log") as service:
                context = browser.new_context(viewport={"width": 1440, "height": 900})
                try:
                    _load(context, f"{service.url}/jobs/{job}")
                    warm = [_load(context, f"{service.url}/jobs/{job}") for _ in range(repeats)]
                finally:
                    context.close()
                with service.client() as client:
                    for path in paths:
                        cached = None
                        if statuses[path] == 200:
                            cached = time_request(
                                size, path, lambda path=path: client.get(path), repeats
                            )
                        requests.append(
                            RequestTiming(size, path, statuses[path], tuple(first[path]), cached)
                        )
            median = sorted(warm, key=lambda load: load.last)[len(warm) // 2] if warm else None
            loads.append(
                PageLoad(
                    size,
                    analysis,
                    tuple(load.ready for load in cold_loads),
                    tuple(load.analysis_ms for load in cold_loads if load.analysis_ms is not None),
                    tuple(load.ready for load in warm),
                    tuple(load.analysis_ms for load in warm if load.analysis_ms is not None),
                    paths,
                    median.waterfall if median else (),
                    median.long_tasks if median else (),
                )
            )
    return JobPageResult(
        tuple(sizes),
        points_per_run,
        fill,
        tuple(loads),
        tuple(requests),
        load_before,
        load_average(),
    )


@dataclass(frozen=True)
class _Loaded:
    ready: float
    analysis_ms: float | None
    analysis: bool
    requests: tuple[str, ...]
    waterfall: tuple[tuple[str, float, float], ...]
    long_tasks: tuple[tuple[float, float], ...]

    @property
    def last(self) -> float:
        return max(self.ready, self.analysis_ms or 0.0)


def _load(context: Any, url: str) -> _Loaded:
    """One navigation in a new tab of `context`, until the page's markers are set."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    page = context.new_page()
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    page.add_init_script(_MARKS_SCRIPT)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(url)
        page.evaluate("([name, ms]) => window.__benchMarked(name, ms)", ["ready", _WAIT_MS])
        analysis = page.query_selector('[data-testid="history-chart"]') is not None
        if analysis:
            page.evaluate(
                "([name, ms]) => window.__benchMarked(name, ms)", ["analysisReady", _WAIT_MS]
            )
        marks = page.evaluate("window.__benchMarks")
        found = page.evaluate(_WATERFALL_SCRIPT)
    except Exception as exc:
        raise RuntimeError(f"{url} never got ready ({'; '.join(errors) or exc})") from exc
    finally:
        page.close()
    paths = []
    for each in seen:
        parts = urlsplit(each)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if each.startswith(origin) and not parts.path.startswith("/static/"):
            paths.append(path)
    waterfall = []
    for name, start, end in found["steps"]:
        parts = urlsplit(name)
        if name.startswith(origin) and parts.path.startswith("/static/"):
            continue
        shown = parts.path + (f"?{parts.query}" if parts.query else "") if parts.scheme else name
        waterfall.append((shown, float(start), float(end)))
    return _Loaded(
        marks["ready"],
        marks.get("analysisReady") if analysis else None,
        analysis,
        tuple(dict.fromkeys(paths)),
        tuple(waterfall),
        tuple((float(start), float(duration)) for start, duration in found["longTasks"]),
    )


class _browser:
    """Chromium through Playwright's sync API, closed on exit."""

    def __enter__(self) -> Any:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as exc:
            raise RuntimeError(
                "Playwright is not installed: .venv/bin/pip install -e '.[dev]'"
            ) from exc
        if not CHROMIUM.exists():
            raise RuntimeError(f"{CHROMIUM} is missing: apt-get install chromium")
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        return self._browser

    def __exit__(self, *_exc: object) -> None:
        self._browser.close()
        self._playwright.stop()


# The report.


def target(result: JobPageResult) -> tuple[str, bool | None, str]:
    """(name, passed, numbers) of the issue's target; passed None when not measured."""
    name = f"job page ready < {TARGET_MS / 1000:g} s at {TARGET_RUNS:,} runs x 1,000 points"
    load = next((each for each in result.loads if each.runs == TARGET_RUNS), None)
    if load is None or result.points_per_run != 1000:
        return name, None, "not measured at this size"
    marker = "data-analysis-ready" if load.analysis else "data-ready (no analysis views yet)"
    warm = load.warm_analysis if load.analysis else load.warm_ready
    cold = load.cold_analysis if load.analysis else load.cold_ready
    if not warm:
        return name, False, f"{marker} never reached"
    detail = f"{marker}: warm median {_ms(warm)} (p95 {_p95(warm):,.0f} ms)"
    if cold:
        detail += f"; cold (first load after a start) median {_ms(cold)}"
    return name, statistics.median(warm) < TARGET_MS, detail


def render(result: JobPageResult, command: str) -> str:
    """The section of bench/RESULTS.md, in Markdown."""
    sizes = ", ".join(f"{n:,}" for n in result.sizes)
    fill = result.fill
    reused = f", copied from {fill.reused}" if fill.reused else ""
    lines = [
        f"## Job page at scale (tuning jobs of {sizes} runs x {result.points_per_run:,} points)",
        "",
        f"- Command: `{command}`",
        f"- Load average (1, 5, 15 min): before {result.load_before}; after {result.load_after}",
        f"- Filled: {fill.runs:,} runs, {fill.points:,} points in {fill.seconds:,.1f} s{reused}",
        "",
        "Page loads in Chromium, ms from the navigation's start to each marker, median (p95):",
        "",
        "| runs | marker | cold | warm |",
        "|---|---|---|---|",
    ]
    for load in result.loads:
        rows = [("data-ready (existing charts)", load.cold_ready, load.warm_ready)]
        if load.analysis:
            rows.append(("data-analysis-ready", load.cold_analysis, load.warm_analysis))
        for marker, cold, warm in rows:
            lines.append(f"| {load.runs:,} | {marker} | {_summary(cold)} | {_summary(warm)} |")
    lines += [
        "",
        "The page's requests over HTTP (httpx, one keep-alive connection), ms: the first "
        "answer after a service start (median of the starts), then cached, median (p95):",
        "",
        "| runs | request | status | first | cached |",
        "|---|---|---|---|---|",
    ]
    for each in result.requests:
        cached = f"{each.cached.median_ms:,.1f} ({each.cached.p95_ms:,.1f})" if each.cached else ""
        lines.append(
            f"| {each.runs:,} | `{each.path}` | {each.status} | {_ms(each.first_ms)} | {cached} |"
        )
    for load in result.loads:
        if not load.waterfall:
            continue
        end = max(load.warm_ready + load.warm_analysis) if load.warm_ready else 0.0
        busy = sum(duration for start, duration in load.long_tasks if start < end)
        lines += [
            "",
            f"Where a warm load's time went at {load.runs:,} runs (the load at the median): "
            "ms since the navigation started; the main thread's long tasks (> 50 ms) took "
            f"{busy:,.0f} ms in {len(load.long_tasks)} tasks, the longest "
            f"{max((d for _, d in load.long_tasks), default=0.0):,.0f} ms:",
            "",
            "| what | start | end |",
            "|---|---|---|",
        ]
        lines += [
            f"| `{what}` | {start:,.0f} | {stop:,.0f} |" for what, start, stop in load.waterfall
        ]
    name, passed, detail = target(result)
    verdict = {True: "PASS", False: "FAIL", None: "n/a"}[passed]
    lines += ["", "| target | verdict | numbers |", "|---|---|---|"]
    lines.append(f"| {name} | {verdict} | {detail} |")
    return "\n".join(lines) + "\n"


def _summary(values: Sequence[float]) -> str:
    if not values:
        return "not reached"
    return f"{statistics.median(values):,.0f} ({_p95(values):,.0f}), {len(values)} loads"


def _ms(values: Sequence[float]) -> str:
    return f"{statistics.median(values):,.0f} ms" if values else "n/a"


def _p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


# The command.


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m bench.job_page`: exit status 2 when the target fails, 0 otherwise."""
    parser = argparse.ArgumentParser(prog="python -m bench.job_page", description=__doc__)
    parser.add_argument("--sizes", default="100,1000", help="runs per job (default 100,1000)")
    parser.add_argument("--points", type=int, default=1000, help="points a run (default 1000)")
    parser.add_argument("--repeat", type=int, default=10, help="warm loads (default 10)")
    parser.add_argument("--cold", type=int, default=3, help="service starts (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse-db", action="store_true", help="cache the filled file")
    parser.add_argument("--out-dir", type=Path, default=_REPO / "bench" / "out")
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    sizes = tuple(sorted(int(n) for n in args.sizes.split(",") if n.strip()))
    work = args.out_dir / "job-page"
    work.mkdir(parents=True, exist_ok=True)
    result = measure(
        work / "job-page.db",
        work,
        sizes,
        args.points,
        args.repeat,
        args.cold,
        args.out_dir / "cache" if args.reuse_db else None,
        args.seed,
    )
    command = "python -m bench.job_page " + shlex.join(sys.argv[1:] if argv is None else argv)
    text = render(result, command.strip())
    print(text)
    if args.write_results:
        path = _REPO / "bench" / "RESULTS.md"
        path.write_text(replace_section(path.read_text(), "job_page", text))
        print(f"wrote {path}")
    return 2 if target(result)[1] is False else 0


def _progress(message: str) -> None:
    print(f"[bench.job_page] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
