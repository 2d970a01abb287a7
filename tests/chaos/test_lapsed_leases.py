"""A lease that lapsed while no service ran, or while its database was down, is not
evidence that its worker died.

The test plays the worker itself, over HTTP, so that it decides when heartbeats come:
it leases a run, the service is SIGKILLed and stays down longer than the lease, and
after the restart the worker's next heartbeat, a while after the reaper's first round,
keeps the run. A worker that never beats again still loses its run, a lease later. The
same for an outage of PostgreSQL (a server of the test's own, stopped and started).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.clients.service_process import ServiceProcess
from tests.chaos.pg_control import private_postgres

pytestmark = pytest.mark.slow

LEASE_SECONDS = 3  # the reaper looks every 0.75 s
JOB = {
    "name": "lapse",
    "objective": {"MetricName": "acc", "Type": "Maximize"},
    "metric_definitions": [{"Name": "acc", "Regex": r"acc=(\S+);"}],
    "search": {
        "strategy": "Random",
        "command": ["true"],
        "resource_limits": {"max_number_of_training_jobs": 2, "max_parallel_training_jobs": 2},
        "parameter_ranges": {
            "ContinuousParameterRanges": [{"Name": "lr", "MinValue": 0.001, "MaxValue": 0.1}]
        },
    },
}


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ServiceProcess]:
    process = ServiceProcess(f"sqlite:///{tmp_path / 'lapse.db'}", tmp_path / "service.log")
    process.start({**os.environ, "LOGMETRICS_LEASE_SECONDS": str(LEASE_SECONDS)})
    yield process
    process.stop()


def _post(service: ServiceProcess, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(f"{service.url}{path}", json=body, timeout=30)
    assert answer.status_code in (200, 201), answer.text
    found: dict[str, Any] = answer.json()
    return found


def _run(service: ServiceProcess, run: str) -> tuple[str, str | None]:
    found = httpx.get(f"{service.url}/v1/jobs/lapse/runs/{run}", timeout=30).json()
    return found["status"], found["failure_reason"]


def _down_longer_than_the_lease(service: ServiceProcess) -> None:
    service.kill()
    time.sleep(LEASE_SECONDS + 1)
    service.start({**os.environ, "LOGMETRICS_LEASE_SECONDS": str(LEASE_SECONDS)})


def test_the_first_heartbeat_after_a_long_outage_keeps_the_run(service):
    _post(service, "/v1/jobs", JOB)
    run = _post(service, "/v1/leases", {"worker": "w"})["lease"]["run"]

    _down_longer_than_the_lease(service)
    time.sleep(1.5)  # two rounds of the reaper: a lease lapsed in the outage is not reaped
    beat = _post(service, f"/v1/jobs/lapse/runs/{run}/heartbeat", {"worker": "w"})

    assert (beat["status"], beat["stop_requested"]) == ("InProgress", None)
    assert _run(service, run) == ("InProgress", None)
    # A worker that stays silent still loses its run: a lease after its last beat.
    deadline = time.monotonic() + 15
    while _run(service, run)[0] == "InProgress" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _run(service, run) == ("Failed", "worker lost: no heartbeat for 3 s")


# A restarted service's first lease request, before the worker's next beat, must not end
# the run either: Tuner.lease reaps only once its process has been up for a lease.
def test_another_workers_lease_after_a_long_outage_leaves_the_run_alone(service):
    _post(service, "/v1/jobs", JOB)
    run = _post(service, "/v1/leases", {"worker": "w"})["lease"]["run"]

    _down_longer_than_the_lease(service)
    # Another worker asks for work at once, as an idle slot backing off does.
    other = _post(service, "/v1/leases", {"worker": "w2"})["lease"]
    beat = _post(service, f"/v1/jobs/lapse/runs/{run}/heartbeat", {"worker": "w"})

    assert other["run"] == "run-0002"
    assert (beat["status"], beat["stop_requested"]) == ("InProgress", None)
    assert _run(service, run) == ("InProgress", None)


# The reaper's and the lease requests' reaps share one grace (Tuner.reap's): it starts
# again when a round finds the database not answering.
def test_a_lease_that_lapsed_while_the_database_was_down_is_kept(tmp_path):
    # PostgreSQL stopped for longer than the lease while the service runs: every
    # heartbeat is a 500 meanwhile. Once the database is back, the first request is
    # another worker's lease, and then the run's worker beats: the run is still its.
    with private_postgres() as (url, server):
        service = ServiceProcess(url, tmp_path / "service.log")
        service.start({**os.environ, "LOGMETRICS_LEASE_SECONDS": str(LEASE_SECONDS)})
        try:
            _post(service, "/v1/jobs", JOB)
            run = _post(service, "/v1/leases", {"worker": "w"})["lease"]["run"]
            time.sleep(LEASE_SECONDS)  # the service has been up a lease: reaping is on
            server.stop()
            failed = httpx.post(
                f"{service.url}/v1/jobs/lapse/runs/{run}/heartbeat", json={"worker": "w"}
            )
            time.sleep(LEASE_SECONDS + 1)
            server.start()
            other = _post(service, "/v1/leases", {"worker": "w2"})["lease"]
            beat = _post(service, f"/v1/jobs/lapse/runs/{run}/heartbeat", {"worker": "w"})
            state = _run(service, run)
        finally:
            service.stop()

    assert failed.status_code >= 500
    assert other["run"] == "run-0002"
    assert (beat["status"], beat["stop_requested"], state) == (
        "InProgress",
        None,
        ("InProgress", None),
    )
