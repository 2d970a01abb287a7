"""The run page in a browser: a chart per metric, diagnostics, the log's tail, live updates."""

from __future__ import annotations

import pytest

from tests.web.runs import OBJECTIVE, SWEEP, RunSpec, create_sweep, epoch_line, post, start_run

pytestmark = pytest.mark.browser


def points_of(api, job, run):
    """Every point of the run, metric by metric, from the API."""
    detail = api.get(f"/v1/jobs/{job}/runs/{run}").json()
    found = []
    for diagnostics in detail["diagnostics"]:
        if diagnostics["points"]:
            name = diagnostics["metric_name"]
            body = api.get(f"/v1/jobs/{job}/runs/{run}/metrics/{name}?limit=100000").json()
            found += [(name, p) for p in body["points"]]
    return found


def highlighted(tab):
    return tab.page.eval_on_selector_all(
        "#log-view .line.has-points",
        "rows => rows.map(r => [Number(r.dataset.offset), r.querySelector('.ln').textContent])",
    )


def test_every_metric_with_points_has_a_chart(api, browse):
    create_sweep(api)
    best = SWEEP[4]
    detail = api.get(f"/v1/jobs/sweep/runs/{best.name}").json()
    counts = {d["metric_name"]: d["points"] for d in detail["diagnostics"] if d["points"]}

    tab = browse(f"/jobs/sweep/runs/{best.name}")
    tab.wait_ready()

    charts = tab.page.eval_on_selector_all(
        "#metric-charts .plot",
        "els => els.map(e => [e.dataset.metric, +e.dataset.series, +e.dataset.points])",
    )
    assert charts[0][0] == OBJECTIVE  # the objective first, then the definitions' order
    assert {name: points for name, _series, points in charts} == counts
    assert all(series == 1 for _name, series, _points in charts)
    headings = tab.page.eval_on_selector_all(
        "#metric-charts .chart-cell",
        "cells => cells.map(c => [c.classList.contains('objective'), "
        "c.querySelector('h3 code').textContent, c.querySelector('h3 .muted').textContent])",
    )
    assert [objective for objective, _name, _count in headings] == [True] + [False] * (
        len(charts) - 1
    )
    assert [name for _objective, name, _count in headings] == [name for name, *_ in charts]
    assert all(count.startswith(f"{counts[name]} points · last ") for _o, name, count in headings)
    assert tab.errors == []
    tab.shoot("run-page")


def test_the_log_highlights_the_lines_that_produced_points(api, browse):
    create_sweep(api)
    run = SWEEP[0].name
    points = points_of(api, "sweep", run)

    tab = browse(f"/jobs/sweep/runs/{run}")
    tab.wait_ready()

    shown = highlighted(tab)
    assert {offset for offset, _ln in shown} == {p["offset"] for _name, p in points}
    lines = {p["offset"]: str(p["line"]) for _name, p in points}
    assert all(ln == lines[offset] for offset, ln in shown)
    assert tab.errors == []


def test_the_tail_splits_lines_as_the_parser_does(api, browse):
    """\\r\\n and lone \\r end lines; a tail that starts inside a line shows it as partial."""
    create_sweep(api, runs=())
    spec = RunSpec("bars", "adam", 0.001, 0.95)
    start_run(api, "sweep", spec)
    chunks = []
    for epoch in range(1, 41):
        bars = "".join(
            f"\r epoch {epoch}: {pct:3d}%|{'#' * (pct // 10):<10}|" for pct in (25, 50, 100)
        )
        chunks.append(f"{bars}\r\n{epoch_line(epoch, spec)}\r\n" + "training batch ok\n" * 20)
    for chunk in chunks:  # a chunk per epoch, as the shipper sends them
        post(api, "sweep", "bars", chunk)
    points = points_of(api, "sweep", "bars")
    tail = api.get("/v1/jobs/sweep/runs/bars/logs", params={"stream": "stdout", "tail": 16385})
    start = int(tail.headers["X-Log-Start"])
    assert start > 0, "the log must be longer than the tail"

    tab = browse("/jobs/sweep/runs/bars")
    tab.wait_ready()
    tab.page.select_option("#tail-size", "16384")
    tab.page.wait_for_function("document.querySelector('#log-view .line.partial') !== null")

    shown = highlighted(tab)
    assert {offset for offset, _ln in shown} == {
        p["offset"] for _n, p in points if p["offset"] > start
    }
    lines = {p["offset"]: str(p["line"]) for _n, p in points}
    assert all(ln == lines[offset] for offset, ln in shown)
    texts = tab.page.eval_on_selector_all(
        "#log-view .line .text", "els => els.map(e => e.textContent)"
    )
    assert " epoch 40: 100%|##########|" in texts  # a progress-bar redraw is its own line
    assert tab.errors == []


def test_a_failed_run_shows_its_reason_and_rejected_captures(api, browse):
    create_sweep(api)
    failed = SWEEP[5]

    tab = browse(f"/jobs/sweep/runs/{failed.name}")
    tab.wait_ready()

    assert failed.failure_reason in tab.page.inner_text(".callout-error")
    row = tab.page.locator("#diagnostics tr[data-metric='val_loss']")
    assert row.locator("td").nth(3).inner_text() == "1"
    assert '"nan"' in row.inner_text()
    assert tab.errors == []
    tab.shoot("run-page-failed")


def test_the_page_picks_up_new_points_and_the_end_without_a_reload(api, browse):
    create_sweep(api)
    running = SWEEP[-1]
    tab = browse(f"/jobs/sweep/runs/{running.name}")
    tab.wait_ready()
    objective_chart = f"#metric-charts .plot[data-metric='{OBJECTIVE}']"
    before = int(tab.page.get_attribute(objective_chart, "data-points"))
    tab.page.evaluate("window.notReloaded = true")

    post(api, "sweep", running.name, epoch_line(running.epochs + 1, running) + "\n")

    tab.page.wait_for_function(
        "([sel, n]) => Number(document.querySelector(sel).dataset.points) > n",
        arg=[objective_chart, before],
    )
    newest = api.get(
        f"/v1/jobs/sweep/runs/{running.name}/metrics/{OBJECTIVE}", params={"cursor": before}
    ).json()["points"][0]
    tab.page.wait_for_selector(f"#log-view .line.has-points[data-offset='{newest['offset']}']")

    api.post(f"/v1/jobs/sweep/runs/{running.name}/complete", json={"status": "Stopped"})
    tab.page.wait_for_selector("h1 .status-stopped")
    assert tab.page.evaluate("window.notReloaded") is True
    assert tab.errors == []


def test_charts_switch_to_time(api, browse):
    create_sweep(api)
    tab = browse(f"/jobs/sweep/runs/{SWEEP[0].name}")
    tab.wait_ready()
    before = tab.page.get_attribute("#metric-charts .plot", "data-points")

    tab.page.click("button[data-axis='time']")

    assert tab.page.get_attribute("button[data-axis='time']", "aria-pressed") == "true"
    assert tab.page.get_attribute("#metric-charts .plot", "data-points") == before
    assert tab.errors == []


def test_markup_in_logs_hyperparameters_and_reasons_is_shown_as_text(api, browse):
    create_sweep(api, runs=())
    markup = "<img src=x onerror=window.pwned=1>"
    created = api.post(
        "/v1/jobs/sweep/runs", json={"name": "html", "hyperparameters": {"note": markup}}
    )
    assert created.status_code == 201, created.text
    post(
        api,
        "sweep",
        "html",
        f"<script>window.pwned=1</script> epoch=1; val_accuracy=0.5; {markup}\n",
    )
    ended = api.post(
        "/v1/jobs/sweep/runs/html/complete", json={"status": "Failed", "failure_reason": markup}
    )
    assert ended.status_code == 200, ended.text

    for path in ["/jobs/sweep", "/jobs/sweep/runs/html"]:
        tab = browse(path)
        tab.wait_ready()
        assert tab.page.evaluate("window.pwned") is None, path
        assert tab.page.locator("main img").count() == 0, path
        assert markup in tab.page.inner_text("main"), path
        assert tab.errors == []
    assert "<script>window.pwned=1</script>" in tab.page.inner_text("#log-view")


def test_metrics_whose_names_need_encoding_in_a_url_are_charted(api, browse):
    names = ["a/b", "50%", "loss?x=1#y", "..a"]
    job = {
        "name": "odd",
        "objective": {"MetricName": "a/b", "Type": "Minimize"},
        "metric_definitions": [
            {"Name": name, "Regex": rf"m{i}=(\S+);"} for i, name in enumerate(names)
        ],
    }
    assert api.post("/v1/jobs", json=job).status_code == 201
    assert api.post("/v1/jobs/odd/runs", json={"name": "run-1"}).status_code == 201
    log = "".join(f"m0={k}; m1={k}; m2={k}; m3={k};\n" for k in range(5))
    assert api.post("/v1/jobs/odd/runs/run-1/logs", content=log.encode()).status_code == 200

    tab = browse("/jobs/odd/runs/run-1")
    tab.wait_ready()

    charts = tab.page.eval_on_selector_all(
        "#metric-charts .plot", "els => els.map(e => [e.dataset.metric, +e.dataset.points])"
    )
    assert sorted(charts) == sorted([name, 5] for name in names)
    assert tab.errors == []


def test_a_metric_chart_titles_its_axes_and_shows_values_on_hover_not_in_a_legend(api, browse):
    create_sweep(api)
    tab = browse(f"/jobs/sweep/runs/{SWEEP[0].name}")
    tab.wait_ready()

    plots = tab.page.locator("#metric-charts .plot")
    assert plots.count() > 1
    # No uPlot legend, whose values read a dash until the pointer is over the chart.
    assert tab.page.locator("#metric-charts .u-legend").count() == 0
    labels = plots.evaluate_all("els => els.map(e => [e.dataset.xLabel, e.dataset.yLabel])")
    names = tab.page.locator("#metric-charts .chart-cell h3 code").all_inner_texts()
    assert labels == [["step", name] for name in names]

    objective = tab.page.locator(f"#metric-charts .chart-cell:has(h3 code:text-is('{OBJECTIVE}'))")
    box = objective.locator(".u-over").bounding_box()
    tab.page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    tip = objective.locator(".tooltip")
    tip.wait_for(state="visible")
    assert tip.inner_text().startswith(f"step {SWEEP[0].epochs} · {OBJECTIVE} ")
    assert tab.errors == []


def test_a_cloudwatch_logs_tail_is_cut_at_newlines_only_as_the_parser_cuts_it(api, browse):
    """In a CloudWatch log a `\\r` is text: a line holding one is one line, numbered once."""
    created = api.post(
        "/v1/jobs",
        json={
            "name": "cw",
            "objective": {"MetricName": "loss", "Type": "Minimize"},
            "metric_definitions": [{"Name": "loss", "Regex": r"loss=([0-9.]+)"}],
            "log_format": "cloudwatch",
        },
    )
    assert created.status_code == 201, created.text
    start_run(api, "cw", RunSpec("bars", "adam", 0.001, 0.95))
    post(api, "cw", "bars", b"step 1 50%\rloss=0.5\n\x1b[32mstep 2\x1b[0m loss=0.25\n")

    tab = browse("/jobs/cw/runs/bars")
    tab.wait_ready()

    rows = tab.page.eval_on_selector_all(
        "#log-view .line",
        "rows => rows.map(r => [r.querySelector('.ln').textContent, "
        "r.querySelector('.text').textContent, r.classList.contains('has-points')])",
    )
    assert rows == [
        ["1", "step 1 50%loss=0.5", True],
        ["2", "step 2 loss=0.25", True],
    ]
    assert tab.errors == []


def test_a_run_tried_again_lists_its_earlier_attempts(api, browse):
    body = {
        "name": "tune",
        "objective": {"MetricName": "acc", "Type": "Maximize"},
        "metric_definitions": [{"Name": "acc", "Regex": r"acc=(\S+);"}],
        "search": {
            "strategy": "Random",
            "command": ["true"],
            "retry_strategy": {"maximum_retry_attempts": 1},
            "resource_limits": {"max_number_of_training_jobs": 1},
            "parameter_ranges": {
                "ContinuousParameterRanges": [{"Name": "lr", "MinValue": 0.001, "MaxValue": 0.1}]
            },
        },
    }
    assert api.post("/v1/jobs", json=body).status_code == 201
    assert api.post("/v1/leases", json={"worker": "gpu-box-1"}).json()["lease"]["run"] == "run-0001"
    launch = {
        "status": "Failed",
        "failure_reason": "no docker here",
        "infrastructure_failure": True,
    }
    assert api.post("/v1/jobs/tune/runs/run-0001/complete", json=launch).json()["attempt"] == 2

    tab = browse("/jobs/tune/runs/run-0001")
    tab.wait_ready()

    shown = tab.page.inner_text("[data-region=attempts]")
    assert "Attempt 2" in shown
    assert "attempt 1 on gpu-box-1: no docker here" in " ".join(shown.split())
    assert tab.errors == []
