"""A tuning job's page in a browser: its search, runs stopped early, the median curve."""

from __future__ import annotations

import pytest

from tests.tuning.conftest import search_job_body
from tests.tuning.test_service import CURVES, REASON

pytestmark = pytest.mark.browser


def test_the_job_page_shows_the_search_and_what_early_stopping_did(api, browse):
    assert api.post("/v1/jobs", json=search_job_body(early_stopping="Auto")).status_code == 201
    runs = [api.post("/v1/leases", json={"worker": "w"}).json()["lease"]["run"] for _ in range(5)]
    worse = "acc=0.5;\nacc=0.6;\nacc=0.65;\nacc=0.71;\n"
    for run, log in zip(runs, [*CURVES, worse], strict=False):
        posted = api.post(f"/v1/jobs/tune/runs/{run}/logs", content=log.encode())
        assert posted.status_code == 200, posted.text
        # The worker stopped run-0004's command when the service asked.
        status = "Stopped" if run == "run-0004" else "Completed"
        ended = api.post(f"/v1/jobs/tune/runs/{run}/complete", json={"status": status})
        assert ended.status_code == 200, ended.text

    tab = browse("/jobs/tune")
    tab.wait_ready()

    card = tab.page.locator("[data-testid=search]")
    assert card.locator("[data-fact=started]").inner_text() == "5 of 5"
    assert card.locator("[data-fact=pending]").inner_text() == "0"
    assert card.locator("[data-fact=leased]").inner_text() == "1"  # run-0005 runs on
    assert card.locator("[data-fact=stopped-early]").inner_text() == "1"
    assert "Random" in card.inner_text() and "early stopping Auto" in card.inner_text()
    early = tab.page.locator('#leaderboard tr[data-run="run-0004"] .early')
    assert early.inner_text() == "stopped early"
    assert early.get_attribute("title") == REASON
    chart = tab.page.locator("#series-chart")
    # Worst to best (run-0005 has no point yet), then the median on top.
    assert chart.get_attribute("data-runs").split() == [
        "run-0004",
        "run-0001",
        "run-0002",
        "run-0003",
        "(median)",
    ]
    assert tab.errors == []


def test_a_completed_search_says_which_criterion_ended_it(api, browse):
    body = search_job_body(
        completion_criteria={"TargetObjectiveMetricValue": 0.9},
        resource_limits={"max_number_of_training_jobs": 3},
    )
    assert api.post("/v1/jobs", json=body).status_code == 201
    run = api.post("/v1/leases", json={"worker": "w"}).json()["lease"]["run"]
    api.post(f"/v1/jobs/tune/runs/{run}/logs", content=b"acc=0.95;\n")
    api.post(f"/v1/jobs/tune/runs/{run}/complete", json={"status": "Completed"})

    tab = browse("/jobs/tune")
    tab.wait_ready()

    text = tab.page.locator("[data-testid=completion]").inner_text()
    assert text.startswith(
        "Completed by TargetObjectiveMetricValue: run-0001 reached acc = 0.95 >= the target 0.9"
    )
    assert tab.page.locator("[data-testid=search] .status").inner_text() == "Completed"
    assert tab.errors == []
