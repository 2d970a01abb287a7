"""Comparing runs: ticked in the leaderboard, side by side on a page of their own."""

from __future__ import annotations

import pytest

from tests.web.runs import OBJECTIVE, SWEEP, create_sweep

pytestmark = pytest.mark.browser


def test_ticking_runs_in_the_leaderboard_opens_them_side_by_side(api, browse):
    create_sweep(api)
    tab = browse("/jobs/sweep")
    tab.wait_ready()
    compare = tab.page.locator("#compare-button")
    assert compare.is_disabled()

    for name in ("run-0002", "run-0004"):
        tab.page.check(f"#leaderboard tr[data-run='{name}'] .pick")
    assert compare.is_enabled()
    with tab.page.expect_navigation():
        compare.click()

    assert tab.page.url.endswith("/jobs/sweep/compare?run=run-0002&run=run-0004")
    tab.wait_ready()
    heads = tab.page.locator("#compare-hyperparameters thead th[data-run]").all_inner_texts()
    assert [h.strip() for h in heads] == ["run-0002", "run-0004"]
    assert tab.errors == []


def test_the_compare_page_overlays_each_metric_and_highlights_what_differs(api, browse):
    create_sweep(api)
    picked = [SWEEP[0].name, SWEEP[2].name, SWEEP[-1].name]
    tab = browse("/jobs/sweep/compare?" + "&".join(f"run={name}" for name in picked))
    tab.wait_ready()

    # A chart per metric with points, each with the picked runs' lines, read from uPlot.
    charts = tab.page.locator("#compare-charts .chart-cell")
    metrics = charts.evaluate_all("cells => cells.map(c => c.dataset.metric)")
    assert metrics == ["epoch", "train_loss", "val_loss", OBJECTIVE, "val_f1", "lr"]
    for metric in metrics:
        chart = tab.page.locator(f"#compare-charts .chart-cell[data-metric='{metric}'] .chart")
        assert chart.get_attribute("data-series") == "3"
        assert chart.get_attribute("data-runs").split() == picked
        expected = sum(
            len(api.get(f"/v1/jobs/sweep/runs/{name}/metrics/{metric}").json()["points"])
            for name in picked
        )
        assert int(chart.get_attribute("data-points")) == expected
    assert tab.page.locator("#compare-charts .chart-status:visible").count() == 0

    # Hyperparameters side by side: optimizer and lr differ, epochs and task do not.
    rows = tab.page.locator("#compare-hyperparameters tbody tr[data-hyperparameter]")
    table = rows.evaluate_all(
        "rows => rows.map(r => [r.dataset.hyperparameter, r.classList.contains('differs'),"
        " [...r.querySelectorAll('td')].map(td => td.textContent.trim())])"
    )
    by_name = {name: (differs, values) for name, differs, values in table}
    assert by_name["optimizer"] == (True, ["adamw", "adam", "adamw"])
    assert by_name["lr"][0] is True
    assert by_name["epochs"] == (False, ["8", "8", "8"])
    assert by_name["task"][0] is False
    differs = tab.page.locator("#compare-hyperparameters tr.differs td").first
    same = tab.page.locator("#compare-hyperparameters tr.same td").first
    assert differs.evaluate("e => getComputedStyle(e).backgroundColor") != same.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    tab.shoot("compare-page")
    assert tab.errors == []


def test_comparing_an_unknown_run_is_not_found(api, browse):
    create_sweep(api)
    tab = browse("/jobs/sweep/compare?run=run-0001&run=run-9999")

    assert "run-9999" in tab.page.inner_text("main")
    assert tab.page.locator("#compare-charts").count() == 0
