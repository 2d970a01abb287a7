"""The run page's early-stopping card in a browser, on runs the real tuner's median rule
stopped (or not): the words, the step marked on the chart, the earlier runs' links.

One service for the module (the tests only read it), with the search of
tests/api/test_early_stopping_route.py. Run as a script, it takes the README's picture of
the card, docs/run-early-stopping.png:

    .venv/bin/python -m tests.web.test_run_page_early_stopping
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from tests.api.test_early_stopping_route import JOB, NOT_STOPPED, STOPPED, stopped_search
from tests.service import Service, running_service
from tests.tuning.conftest import search_job_body
from tests.web.conftest import Tab

pytestmark = pytest.mark.browser

CARD = "[data-testid='early-stopping']"
OUTPUT = Path(__file__).resolve().parents[2] / "docs" / "run-early-stopping.png"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    database = tmp_path_factory.mktemp("run-early-stopping") / "logmetrics.db"
    settings = Settings(database_url=f"sqlite:///{database}", sqlite_synchronous="NORMAL")
    with running_service(settings) as service:
        stopped_search(service.client)
        plain = {
            "name": "plain",
            "objective": {"MetricName": "acc", "Type": "Maximize"},
            "metric_definitions": [{"Name": "acc", "Regex": r"acc=(\S+);"}],
        }
        assert service.client.post("/v1/jobs", json=plain).status_code == 201
        assert service.client.post("/v1/jobs/plain/runs", json={"name": "alone"}).status_code == 201
        _live_search(service.client)
        _live_search(service.client, "fresh", first_points=False)
        _live_search(service.client, "late")
        yield service


def _live_search(api: Any, name: str = "live", first_points: bool = True) -> None:
    """Job `name`: three runs completed, run-0004 in progress with two points (none
    where not `first_points`)."""
    body = search_job_body(
        name,
        early_stopping="Auto",
        resource_limits={"max_number_of_training_jobs": 4, "max_parallel_training_jobs": 4},
    )
    assert api.post("/v1/jobs", json=body).status_code == 201
    for run in [
        api.post("/v1/leases", json={"worker": "w"}).json()["lease"]["run"] for _ in range(4)
    ]:
        log = "acc=0.5;\nacc=0.6;\n" if run == "run-0004" else "acc=0.5;\nacc=0.6;\nacc=0.7;\n"
        if run == "run-0004" and not first_points:
            continue
        assert api.post(f"/v1/jobs/{name}/runs/{run}/logs", content=log.encode()).status_code == 200
        if run != "run-0004":
            api.post(f"/v1/jobs/{name}/runs/{run}/complete", json={"status": "Completed"})


def open_card(open_tab: Callable[..., Tab], url: str, **options: Any) -> Tab:
    tab = open_tab(url, **options)
    tab.page.wait_for_selector(f"{CARD}:not([data-state='loading'])")
    return tab


def test_a_stopped_run_says_why_and_marks_the_step(service, open_tab):
    tab = open_card(open_tab, f"{service.url}/jobs/{JOB}/runs/{STOPPED}")
    card = tab.page.locator(CARD)

    assert card.get_attribute("data-state") == "drawn"
    assert card.locator("[data-part='why']").text_content() == (
        "Stopped at step 7: 0.41 was below the median 0.46 of 5 earlier runs' running averages."
    )
    assert card.get_attribute("data-stopped-at-step") == "7"
    chart = card.locator("[data-part='chart']")
    assert (chart.get_attribute("data-marked-step"), chart.get_attribute("data-points")) == (
        "7",
        "7",
    )
    assert chart.locator("canvas").count() == 1
    assert card.locator("[data-part='earlier-label']").text_content() == (
        "The median rested on 5 earlier runs at step 7:"
    )
    links = card.locator("[data-part='earlier-runs'] a")
    assert links.all_text_contents() == [f"run-000{i}" for i in range(1, 6)]
    assert [links.nth(i).get_attribute("href") for i in range(5)] == [
        f"/jobs/{JOB}/runs/run-000{i}" for i in range(1, 6)
    ]
    assert "stopped early at step 7" in card.locator("[data-part='note']").text_content()
    assert tab.errors == []


def test_a_run_not_stopped_says_how_close_it_came(service, open_tab):
    tab = open_card(open_tab, f"{service.url}/jobs/{JOB}/runs/{NOT_STOPPED}")
    card = tab.page.locator(CARD)

    assert card.get_attribute("data-state") == "drawn"
    # At step 4 the six earlier runs' running averages are 0.3, 0.35, 0.37 (run-0006), 0.4,
    # 0.45 and 0.5: median 0.385, 0.115 below its 0.5, its least margin (then 0.117 at 5).
    assert card.locator("[data-part='why']").text_content() == (
        "Not stopped early: from its point 4 on, each value was at least as good as the median. "
        "Closest at step 4: 0.5 against the median 0.385 of 6 earlier runs' running averages."
    )
    assert card.get_attribute("data-stopped-at-step") is None
    assert card.locator("[data-part='chart']").get_attribute("data-marked-step") is None
    assert card.locator("[data-part='earlier-runs'] a").count() == 6
    assert tab.errors == []


def test_a_job_without_early_stopping_has_no_card(service, open_tab):
    tab = open_tab(f"{service.url}/jobs/plain/runs/alone")
    tab.wait_ready()
    assert tab.page.locator(CARD).count() == 0
    assert tab.errors == []


def test_a_live_run_is_drawn_again_as_its_points_come(service, open_tab):
    tab = open_card(open_tab, f"{service.url}/jobs/live/runs/run-0004")
    chart = tab.page.locator(f"{CARD} [data-part='chart']")
    assert chart.get_attribute("data-points") == "2"

    log = b"acc=0.65;\nacc=0.7;\n"
    assert service.client.post("/v1/jobs/live/runs/run-0004/logs", content=log).status_code == 200

    tab.page.wait_for_selector(f"{CARD} [data-part='chart'][data-points='4']")
    assert tab.page.locator(CARD).get_attribute("data-state") == "drawn"
    assert tab.errors == []


def test_a_live_run_opened_before_its_first_point_shows_its_chart_once_points_come(
    service, open_tab
):
    tab = open_card(open_tab, f"{service.url}/jobs/fresh/runs/run-0004")
    card = tab.page.locator(CARD)
    assert card.get_attribute("data-state") == "empty"
    assert not card.locator("[data-part='chart']").is_visible()

    log = b"acc=0.65;\nacc=0.7;\n"
    assert service.client.post("/v1/jobs/fresh/runs/run-0004/logs", content=log).status_code == 200

    tab.page.wait_for_selector(f"{CARD}[data-state='drawn']")
    chart = card.locator("[data-part='chart']")
    assert (chart.get_attribute("data-points"), chart.is_visible()) == ("2", True)
    assert tab.errors == []


def test_an_older_read_failing_late_leaves_the_newer_drawing(service, open_tab):
    held: list[Any] = []

    def hold_the_first(page: Any) -> None:
        def answer(route: Any) -> None:
            if held:
                route.continue_()
            else:
                held.append(route)  # answered below, after a newer read has drawn

        page.route("**/early-stopping", answer)

    tab = open_tab(f"{service.url}/jobs/late/runs/run-0004", before=hold_the_first)
    tab.page.wait_for_function("() => document.querySelector('#log-view') !== null")
    log = b"acc=0.65;\nacc=0.7;\n"
    assert service.client.post("/v1/jobs/late/runs/run-0004/logs", content=log).status_code == 200
    tab.page.wait_for_selector(f"{CARD}[data-state='drawn'] [data-part='chart'][data-points='4']")

    held[0].fulfill(status=503, body="{}")
    tab.page.wait_for_timeout(300)

    card = tab.page.locator(CARD)
    assert card.get_attribute("data-state") == "drawn"
    assert card.locator(".chart-error").count() == 0


def test_a_failed_read_says_so(service, open_tab):
    def fail(page: Any) -> None:
        page.route("**/early-stopping", lambda route: route.fulfill(status=503, body="{}"))

    tab = open_card(open_tab, f"{service.url}/jobs/{JOB}/runs/{STOPPED}", before=fail)
    card = tab.page.locator(CARD)
    assert card.get_attribute("data-state") == "error"
    assert (
        card.locator(".chart-status")
        .text_content()
        .startswith("Could not read why the run was or was not stopped")
    )


def _answer(**fields: Any) -> dict[str, Any]:
    """An early-stopping answer for run-0007 of the median rule's job, with `fields`."""
    return {
        "run": NOT_STOPPED,
        "metric_name": "acc",
        "objective_type": "Maximize",
        "rule": "median",
        "stopped_early": False,
        "reason": None,
        "min_runs": 3,
        "warmup_points": 4,
        "stopped_at_step": None,
        "steps": [],
        "earlier_runs": ["run-0001", "run-0002", "run-0003"],
        **fields,
    }


def _step(step: int, value: float, median: float | None, worse: bool) -> dict[str, Any]:
    return {
        "step": step,
        "value": value,
        "running_average": value,
        "median": median,
        "runs": 3,
        "worse": worse,
    }


@pytest.mark.parametrize(
    ("answer", "state", "words"),
    [
        (
            _answer(
                steps=[_step(s, 0.5, 0.6, True) for s in (1, 2, 3)]
                + [_step(4, 0.5, 0.6, True), _step(5, 0.7, 0.6, False)]
            ),
            "drawn",
            "Not stopped early, though at step 4 its value 0.5 was worse than the median 0.6 of 3 "
            "earlier runs' running averages (as they are now): the rule judges the latest point "
            "after each chunk of the log, and the median may have moved since.",
        ),
        (
            _answer(steps=[_step(s, 0.5, None, False) for s in (1, 2, 3, 4)], earlier_runs=[]),
            "drawn",
            "Not stopped early: the median rule never judged it, as it waits for 3 earlier runs "
            "at a step and for the run's point 4.",
        ),
        (
            _answer(
                rule="hyperband",
                stopped_early=True,
                reason="stopped by Hyperband at resource 1 of 9: 0.5 is not among the best 1 "
                "of 3 runs at this rung",
                earlier_runs=[],
            ),
            "empty",
            "Stopped by Hyperband at resource 1 of 9: 0.5 is not among the best 1 of 3 runs at "
            "this rung.",
        ),
    ],
    ids=["worse-but-never-judged-alone", "too-few-runs", "hyperband"],
)
def test_the_words_for_literal_answers(service, open_tab, answer, state, words):
    def give(page: Any) -> None:
        page.route(
            "**/early-stopping",
            lambda route: route.fulfill(
                status=200, content_type="application/json", body=json.dumps(answer)
            ),
        )

    tab = open_card(open_tab, f"{service.url}/jobs/{JOB}/runs/{NOT_STOPPED}", before=give)
    card = tab.page.locator(CARD)
    assert card.get_attribute("data-state") == state
    assert card.locator("[data-part='why']").text_content() == words
    assert card.locator("[data-part='chart']").is_visible() == (state == "drawn")
    assert tab.errors == []


def main() -> None:
    """Write docs/run-early-stopping.png: the card of a run the median rule stopped."""
    from playwright.sync_api import sync_playwright

    from tests.web.chromium import CHROMIUM, CHROMIUM_ARGS

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite:///{folder}/logmetrics.db")
        with running_service(settings) as service, sync_playwright() as playwright:
            stopped_search(service.client)
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1100, "height": 900}, device_scale_factor=2)
            page.goto(f"{service.url}/jobs/{JOB}/runs/{STOPPED}")
            page.wait_for_selector(f"{CARD}[data-state='drawn']")
            page.locator(CARD).screenshot(path=str(OUTPUT))
            browser.close()
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
