"""Try new definitions on a job's stored logs in the tester, then apply them: in Chromium."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from sqlalchemy import create_engine, delete, select, update

from app.storage.schema import chunks, runs, streams

pytestmark = pytest.mark.browser

ADMIN = "admin-token-0123456789abcdef"
READER = "read-token-0123456789abcdef"
TYPO = [{"Name": "loss", "Regex": "Los = (.*?);"}]
FIXED = [{"Name": "loss", "Regex": "Loss = (.*?);"}]
LOG = b"epoch 1 Loss = 0.5;\nepoch 2 Loss = 0.25;\n"


def make_typo_job(api: httpx.Client) -> None:
    body = {
        "name": "typo",
        "objective": {"MetricName": "loss", "Type": "Minimize"},
        "metric_definitions": TYPO,
    }
    assert api.post("/v1/jobs", json=body).status_code == 201
    for run in ("first", "second"):
        api.post("/v1/jobs/typo/runs", json={"name": run})
        api.post(f"/v1/jobs/typo/runs/{run}/logs", content=LOG)
        api.post(f"/v1/jobs/typo/runs/{run}/complete", json={"status": "Completed"})


def try_fixed_definitions(tab) -> None:
    """From the job page to the tester on the job's stored log, with the fixed regex."""
    tab.wait_ready()
    tab.page.click("#try-definitions")
    tab.wait_ready()
    assert tab.page.text_content("#job-name") == "typo"
    assert tab.page.input_value("#log-input") == LOG.decode()
    assert tab.page.input_value("#sample-run") == "second"  # the newest run first
    # The job's own regex finds nothing, and the tester says the text is not there.
    assert " ".join(tab.page.text_content("#hints").split()) == "loss: `Los = ` occurs in no line"
    tab.page.fill("#definitions-input", json.dumps(FIXED))
    tab.page.click("#parse-button")
    tab.page.wait_for_selector("#hints", state="hidden")
    assert tab.page.text_content("#points-count") == "2"


def test_a_typo_is_fixed_from_the_job_page(service, api, browse):
    make_typo_job(api)
    tab = browse("/jobs/typo")

    try_fixed_definitions(tab)
    tab.page.click("#apply-button")
    tab.page.wait_for_function(
        "() => document.getElementById('apply-status').textContent.includes('all 2 runs')"
    )

    assert tab.page.text_content("#apply-status") == "version 2: re-parsed all 2 runs"
    assert api.get("/v1/jobs/typo/best").json()["objective"]["value"] == 0.25
    assert tab.errors == []


def test_applying_with_a_read_sign_in_asks_for_an_admin_token(start_service, open_tab):
    service = start_service(api_tokens=f"admin:{ADMIN},read:{READER}")
    with httpx.Client(
        base_url=service.url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60
    ) as admin:
        make_typo_job(admin)
        tab = open_tab(f"{service.url}/jobs/typo")
        tab.page.fill("input[name='token']", READER)
        tab.page.click("button[type='submit']")

        try_fixed_definitions(tab)
        tab.page.click("#apply-button")
        tab.page.wait_for_selector("#admin-token-box", state="visible")
        assert "takes an admin token" in tab.page.text_content("#parse-error")
        assert admin.get("/v1/jobs/typo").json()["definitions_version"] == 1

        tab.page.fill("#admin-token", ADMIN)
        tab.page.click("#apply-button")
        tab.page.wait_for_function(
            "() => document.getElementById('apply-status').textContent.includes('all 2 runs')"
        )
        assert admin.get("/v1/jobs/typo").json()["definitions_version"] == 2
    # The refused POST (the cookie never carries a write: 401) is the one error logged.
    assert [e for e in tab.errors if "401 (Unauthorized)" not in e] == []


def test_the_run_page_says_why_a_metric_has_no_points(api, browse):
    body = {
        "name": "xgb",
        "objective": {"MetricName": "auc", "Type": "Maximize"},
        "metric_definitions": [
            {"Name": "auc", "Regex": r"#011validation-auc:([0-9.]+)"},
            {"Name": "rmse", "Regex": r"validation-rmse:([a-z]+)"},
        ],
    }
    assert api.post("/v1/jobs", json=body).status_code == 201
    api.post("/v1/jobs/xgb/runs", json={"name": "r"})
    api.post(
        "/v1/jobs/xgb/runs/r/logs",
        content=b"[0]\tvalidation-auc:0.8\tvalidation-rmse:0.4\n[1]\tvalidation-auc:0.9\n",
    )

    tab = browse("/jobs/xgb/runs/r")
    tab.wait_ready()

    rows = tab.page.locator("#diagnostics tbody tr")
    auc, rmse = (" ".join(rows.nth(i).inner_text().split()) for i in range(2))
    assert auc.startswith("auc #011validation-auc:([0-9.]+) cloudwatch 2")
    assert rmse.endswith("0 `validation-rmse:` occurs in 1 line, but the regex matched none")


def test_the_job_page_shows_a_reparse_under_way(service, api, browse):
    make_typo_job(api)
    assert api.post("/v1/jobs/typo/reparse", json={"metric_definitions": FIXED}).status_code == 202
    deadline = time.monotonic() + 30
    while not api.get("/v1/jobs/typo/reparse").json()["done"]:
        assert time.monotonic() < deadline, "the re-parse did not finish"
        time.sleep(0.05)
    # Hold one run back: with its stored chunks gone, its re-parse cannot be done (the
    # stream's state says there were bytes), so it stays behind for the page to show.
    engine = create_engine(service.settings.database_url)
    with engine.begin() as conn:
        conn.execute(update(runs).where(runs.c.name == "first").values(definitions_version=1))
        first = select(streams.c.id).join(runs).where(runs.c.name == "first").scalar_subquery()
        conn.execute(delete(chunks).where(chunks.c.stream_id == first))
    engine.dispose()

    tab = browse("/jobs/typo")
    tab.wait_ready()

    assert " ".join(tab.page.text_content("#reparse-progress").split()) == (
        "Re-parsing the runs' stored logs with definitions v2: 1 of 2 runs done. "
        "Their points change as each is done."
    )
    assert tab.page.text_content("a.chip[href$='/definitions']") == "definitions v2"
