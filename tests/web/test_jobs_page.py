"""The jobs page and the not-found pages in a browser."""

from __future__ import annotations

import pytest

from tests.web.runs import OBJECTIVE, create_sweep

pytestmark = pytest.mark.browser


def test_each_job_shows_its_objective_runs_and_best_run(api, browse, make_job):
    create_sweep(api)
    make_job(name="gan")
    best = api.get("/v1/jobs/sweep/best").json()

    tab = browse("/")

    row = tab.page.locator("#jobs-table tr[data-job='sweep']")
    text = row.inner_text()
    assert OBJECTIVE in text and "max" in text
    assert "1 running" in text and "5 completed" in text and "1 failed" in text
    assert best["name"] in text
    assert row.locator(f"a[href='/jobs/sweep/runs/{best['name']}']").count() == 1
    assert "no runs" in tab.page.locator("#jobs-table tr[data-job='gan']").inner_text()
    assert tab.errors == []
    tab.shoot("jobs-page")


def test_without_jobs_the_page_shows_the_command_that_creates_one(service, browse):
    tab = browse("/")

    commands = tab.page.eval_on_selector_all(".command code", "els => els.map(e => e.textContent)")
    assert commands[0].startswith(
        f"curl -s {service.url}/v1/jobs -H 'Content-Type: application/json'"
    )
    assert any(c.startswith("logmetrics run") for c in commands)
    assert "make demo" in tab.page.inner_text(".empty")
    assert tab.errors == []
    tab.shoot("jobs-page-empty")


@pytest.mark.parametrize(
    ("path", "back"),
    [("/jobs/nope", "/"), ("/jobs/sweep/runs/nope", "/jobs/sweep")],
)
def test_an_unknown_job_or_run_has_a_404_page_with_a_way_back(api, browse, path, back):
    create_sweep(api, runs=())
    tab = browse(path)

    assert tab.page.inner_text("h1") == "Not found"
    assert "nope" in tab.page.inner_text(".not-found")
    assert tab.page.locator(f".not-found a[href='{back}']").count() == 1
    # The browser logs the page's own 404; nothing else may fail.
    assert [e for e in tab.errors if "404" not in e] == []
    tab.shoot("not-found")
