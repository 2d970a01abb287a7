"""Requests racing the deletion of their job: each answers as before the delete or 404,
never a 5xx, and the service logs no traceback (a real service process, its log read).

A re-parse that lost the race to the job's deletion was a 500 (`NoResultFound`), in 2
to 8 of 9 concurrent requests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.clients.service_process import ServiceProcess

JOB = {
    "name": "j",
    "objective": {"MetricName": "loss", "Type": "Minimize"},
    "metric_definitions": [{"Name": "loss", "Regex": r"loss=(\S+)"}],
}
REPARSE = {"metric_definitions": [{"Name": "loss", "Regex": r"loss=(\S+)"}]}
ROUNDS = 4
THREADS = 9


def _requests(client: httpx.Client, i: int, statuses: list[int]) -> None:
    """One of each read and write of the job a client makes, their statuses appended;
    thread `i` starts at the i-th, so that each kind meets the delete."""
    calls = [
        lambda: client.post("/v1/jobs/j/reparse", json=REPARSE),
        lambda: client.get("/v1/jobs/j"),
        lambda: client.get("/v1/jobs"),
        lambda: client.get("/v1/jobs/j/runs"),
        lambda: client.get("/v1/jobs/j/runs/r1"),
        lambda: client.get("/v1/jobs/j/runs/r1/metrics/loss"),
        lambda: client.get("/v1/jobs/j/runs/r1/logs"),
        lambda: client.get("/v1/jobs/j/reparse"),
        lambda: client.post("/v1/jobs/j/runs/r2/logs", content=b"loss=0.5\n"),
    ]
    for k in range(len(calls)):
        statuses.append(calls[(i + k) % len(calls)]().status_code)


def _race(
    url: str, i: int, started: threading.Barrier, deleted: threading.Event, statuses: list[int]
) -> None:
    with httpx.Client(base_url=url, timeout=60) as client:
        started.wait()
        while not deleted.is_set():
            _requests(client, i, statuses)
        _requests(client, i, statuses)  # and once after


@pytest.fixture
def service(tmp_path: Path, service_database_url: str) -> Iterator[httpx.Client]:
    process = ServiceProcess(service_database_url, tmp_path / "service.log")
    process.start()
    with httpx.Client(base_url=process.url, timeout=60) as client:
        yield client
    process.stop()


def test_requests_racing_the_jobs_deletion_answer_404_or_as_before(service, tmp_path):
    statuses: list[int] = []
    deletes: list[int] = []
    for _ in range(ROUNDS):
        assert service.post("/v1/jobs", json=JOB).status_code == 201
        for run in ("r1", "r2"):
            assert service.post("/v1/jobs/j/runs", json={"name": run}).status_code == 201
            log = "".join(f"loss={i / 10}\n" for i in range(50)).encode()
            assert service.post(f"/v1/jobs/j/runs/{run}/logs", content=log).status_code == 200
        started = threading.Barrier(THREADS + 1)
        deleted = threading.Event()
        threads = [
            threading.Thread(
                target=_race, args=(str(service.base_url), i, started, deleted, statuses)
            )
            for i in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        before = len(statuses)
        started.wait()
        try:
            while len(statuses) < before + THREADS and all(t.is_alive() for t in threads):
                time.sleep(0.001)  # until the requests are under way
            deletes.append(service.delete("/v1/jobs/j").status_code)
        finally:
            deleted.set()
            for thread in threads:
                thread.join()

    assert deletes == [204] * ROUNDS
    assert set(statuses) <= {200, 202, 404}
    assert "Traceback" not in (tmp_path / "service.log").read_text()
