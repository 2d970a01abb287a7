"""A page of another origin cannot write to the service (issue 10, item 7)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

JOB = {
    "name": "gan",
    "objective": {"MetricName": "loss", "Type": "Minimize"},
    "metric_definitions": [{"Name": "loss", "Regex": "Loss = (.*?);"}],
}


def test_a_no_cors_post_from_another_origin_stores_nothing(service, open_tab):
    api = service.client
    assert api.post("/v1/jobs", json=JOB).status_code == 201
    assert api.post("/v1/jobs/gan/runs", json={"name": "run-0001"}).status_code == 201
    port = service.url.rsplit(":", 1)[1]
    # http://localhost:PORT is another origin than http://127.0.0.1:PORT.
    tab = open_tab(f"http://localhost:{port}/")

    tab.page.evaluate(
        """url => fetch(url, {method: "POST", mode: "no-cors", body: "Loss = -1000;\\n"})""",
        f"{service.url}/v1/jobs/gan/runs/run-0001/logs",
    )

    assert api.get("/v1/jobs/gan/runs/run-0001").json()["streams"] == []
    assert api.get("/v1/jobs/gan/runs/run-0001/metrics/loss").json()["points"] == []


def test_the_services_own_pages_still_write(service, open_tab):
    # The regex tester's dry run is a POST from the service's own origin.
    tab = open_tab(f"{service.url}/")

    status = tab.page.evaluate(
        """url => fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
             body: JSON.stringify({metric_definitions: [{Name: "x", Regex: "x=(\\\\d+)"}],
                                   log: "x=1\\n"})}).then(r => r.status)""",
        f"{service.url}/v1/parse",
    )

    assert status == 200
