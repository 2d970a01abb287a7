"""The job page's webhooks panel in a browser: each webhook's URL (redacted for a viewer
with a read token, whole for an admin), its events, and its deliveries' status, attempts
and last answer, for a receiver that failed three times before it answered 200."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from app.config import Settings
from app.web.auth import COOKIE
from tests.service import Service, running_service
from tests.web.conftest import SCREENSHOTS
from tests.webhooks.receiver import Receiver, running_receiver

pytestmark = pytest.mark.browser

PANEL = "[data-testid='webhooks']"
ADMIN = "admin-token-0123456789"
READER = "read-token-0123456789"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
JOB = {
    "objective": {"MetricName": "loss", "Type": "Minimize"},
    "metric_definitions": [{"Name": "loss", "Regex": r"loss=(\S+)"}],
}


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with running_receiver(statuses=[500, 500, 502]) as receiver:
        yield receiver


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[Service]:
    database = tmp_path_factory.mktemp("webhooks-panel") / "logmetrics.db"
    settings = Settings(
        database_url=f"sqlite:///{database}",
        sqlite_synchronous="NORMAL",
        api_tokens=f"admin:{ADMIN},read:{READER}",
        webhook_allow_loopback=True,
        webhook_backoff_seconds=0.05,
        webhook_max_attempts=5,
    )
    with running_service(settings) as service:
        api = service.client
        for name in ("hooked", "plain"):
            assert api.post("/v1/jobs", headers=AUTH, json={"name": name, **JOB}).status_code == 201
        hooks = [{"url": f"{receiver.url}?token=abc", "events": ["run_failed", "job_ended"]}]
        put = api.put("/v1/jobs/hooked/webhooks", headers=AUTH, json={"webhooks": hooks})
        assert put.status_code == 200, put.text
        api.post("/v1/jobs/hooked/runs", headers=AUTH, json={"name": "r1"})
        ended = api.post(
            "/v1/jobs/hooked/runs/r1/complete", headers=AUTH, json={"status": "Failed"}
        )
        assert ended.status_code == 200, ended.text
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            hook = api.get("/v1/jobs/hooked/webhooks", headers=AUTH).json()["webhooks"][0]
            if hook["deliveries"][0]["status"] == "delivered":
                break
            time.sleep(0.05)
        yield service


def _open(open_tab: Any, service: Service, token: str, path: str) -> Any:
    def sign_in(page: Any) -> None:
        page.context.add_cookies([{"name": COOKIE, "value": token, "url": service.url}])

    tab = open_tab(service.url + path, before=sign_in)
    return tab


def _rows(page: Any) -> list[list[str]]:
    return page.eval_on_selector_all(
        f"{PANEL} .webhook-deliveries tbody tr",
        "rows => rows.map(r => [...r.cells].slice(0, 4).map(c => c.textContent.trim()))",
    )


def test_a_viewer_sees_the_url_redacted_and_the_deliveries_attempts(open_tab, service, receiver):
    tab = _open(open_tab, service, READER, "/jobs/hooked")
    page = tab.page
    page.wait_for_selector(f"{PANEL}[data-state='drawn']")

    assert page.text_content(f"{PANEL} .webhook-url") == "http://127.0.0.1/…"
    assert "token=abc" not in page.content()
    assert page.eval_on_selector_all(
        f"{PANEL} .webhook-event", "chips => chips.map(c => c.textContent)"
    ) == ["run failed", "job ended"]
    assert page.text_content(f"{PANEL} .webhook-format") == "JSON"
    assert _rows(page) == [["run failed", "delivered", "4", "200"]]
    assert tab.errors == []
    SCREENSHOTS.mkdir(exist_ok=True)
    page.locator(PANEL).screenshot(path=str(SCREENSHOTS / "job-webhooks.png"))


def test_an_admin_sees_the_whole_url(open_tab, service, receiver):
    tab = _open(open_tab, service, ADMIN, "/jobs/hooked")
    tab.page.wait_for_selector(f"{PANEL}[data-state='drawn']")

    assert tab.page.text_content(f"{PANEL} .webhook-url") == f"{receiver.url}?token=abc"
    assert tab.errors == []


def test_a_job_without_webhooks_says_so(open_tab, service):
    tab = _open(open_tab, service, READER, "/jobs/plain")
    tab.page.wait_for_selector(f"{PANEL}[data-state='empty']")

    assert tab.page.text_content(f"{PANEL} .chart-status").startswith("No webhooks")
    assert tab.page.query_selector_all(f"{PANEL} .webhook") == []
    assert tab.errors == []


def test_an_idle_panel_reads_its_webhooks_once(open_tab, service):
    # The job's one delivery is delivered and no run is in progress: nothing to poll for.
    webhooks = "/v1/jobs/hooked/webhooks"
    reads: list[str] = []

    def count_reads(page: Any) -> None:
        page.on(
            "request",
            lambda request: reads.append(request.url) if webhooks in request.url else None,
        )
        page.context.add_cookies([{"name": COOKIE, "value": READER, "url": service.url}])

    tab = open_tab(service.url + "/jobs/hooked", before=count_reads)
    tab.page.wait_for_selector(f"{PANEL}[data-state='drawn']")
    tab.page.wait_for_timeout(6000)

    assert reads == [service.url + "/v1/jobs/hooked/webhooks"]
    assert tab.errors == []
