"""The job-page measurement (bench/job_page.py) on a tiny tuning job: the harness loads
the page in Chromium, finds the page's requests and times them, and judges the target.
No timing claims: two shared cores make any figure here noise."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
from concurrent.futures import ProcessPoolExecutor

import pytest

from bench import cli
from bench.job_page import JobPageResult, PageLoad, measure, render, target
from bench.scale import Fill
from tests.web.chromium import CHROMIUM


def _browser_or_skip() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "Playwright is not installed"
    else:
        if CHROMIUM.exists():
            return
        reason = f"{CHROMIUM} is missing"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def test_the_harness_times_a_tiny_tuning_jobs_page_and_its_requests(tmp_path):
    _browser_or_skip()
    # In a process of its own: Playwright's sync API refuses to start where another sync
    # session already runs (the browser tests' session-wide one, when they ran first).
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        result = pool.submit(
            measure,
            tmp_path / "page.db",
            tmp_path,
            sizes=(4,),
            points_per_run=40,
            repeats=1,
            cold=1,
        ).result()

    [load] = result.loads
    assert load.runs == 4
    assert len(load.cold_ready) == 1 and len(load.warm_ready) == 1
    assert all(ms > 0 for ms in (*load.cold_ready, *load.warm_ready))
    if load.analysis:  # the page has the history, parallel-coordinates and importance views
        assert len(load.cold_analysis) == len(load.warm_analysis) == 1
    timed = {each.path: each for each in result.requests}
    assert timed["/jobs/scale-4"].status == 200
    [series] = [path for path in timed if path.startswith("/v1/jobs/scale-4/series/val_accuracy")]
    assert timed[series].status == 200
    for each in result.requests:
        assert len(each.first_ms) == 1
        assert (each.cached is not None) == (each.status == 200)
    # The filled job is a tuning job whose runs hold a value of each tuned hyperparameter.
    with sqlite3.connect(tmp_path / "page.db") as conn:
        [(search,)] = conn.execute("SELECT search FROM jobs WHERE name = 'scale-4'").fetchall()
        rows = conn.execute("SELECT hyperparameters FROM runs").fetchall()
    ranges = json.loads(search)["parameter_ranges"]
    assert [r["name"] for r in ranges["continuous"]] == ["lr", "momentum"]
    assert [r["name"] for r in ranges["integer"]] == ["batch_size"]
    assert ranges["categorical"][0]["values"] == ["adam", "adamw", "sgd"]
    assert len(rows) == 4
    for (hyperparameters,) in rows:
        assert {"lr", "momentum", "batch_size", "optimizer"} <= set(json.loads(hyperparameters))
    text = render(result, "python -m bench.job_page --sizes 4")
    assert "| 4 | data-ready (existing charts) |" in text
    assert "| job page ready < 1 s at 1,000 runs x 1,000 points | n/a | not measured" in text


def _result(
    warm: tuple[float, ...], cold: tuple[float, ...], analysis: bool = True
) -> JobPageResult:
    load = PageLoad(1000, analysis, (2000.0,), cold, (300.0,) * 3, warm, ("/jobs/scale-1000",))
    return JobPageResult((1000,), 1000, Fill(1000, 10**6, 1.0), (load,), (), "0", "0")


def test_the_target_is_judged_on_the_warm_median_of_data_analysis_ready():
    assert target(_result((800.0, 900.0, 1500.0), (2500.0,))) == (
        "job page ready < 1 s at 1,000 runs x 1,000 points",
        True,
        "data-analysis-ready: warm median 900 ms (p95 1,500 ms); "
        "cold (first load after a start) median 2,500 ms",
    )
    assert target(_result((900.0, 1200.0, 1300.0), ()))[1:] == (
        False,
        "data-analysis-ready: warm median 1,200 ms (p95 1,300 ms)",
    )
    # Before the analysis views exist, the page's own marker is what is timed.
    assert target(_result((), (), analysis=False))[1:] == (
        True,
        "data-ready (no analysis views yet): warm median 300 ms (p95 300 ms); "
        "cold (first load after a start) median 2,000 ms",
    )


def test_the_benchmark_command_takes_the_job_page_as_a_phase():
    args = cli._parser().parse_args(["--quick", "--phases", "job-page"])
    config = cli._config(args)
    assert (config.phases, config.job_page_runs, config.points_per_run) == (
        ("job-page",),
        (10, 100),
        100,
    )
    full = cli._config(cli._parser().parse_args([]))
    assert full.phases[-1] == "job-page"
    assert (full.job_page_runs, full.points_per_run, full.job_page_repeats) == (
        (100, 1000),
        1000,
        10,
    )
    # Not asked for: nothing measured, the section RESULTS.md had is kept.
    scale_only = cli._config(cli._parser().parse_args(["--phases", "scale"]))
    assert cli._job_page(scale_only, "python -m bench --phases scale") is None
