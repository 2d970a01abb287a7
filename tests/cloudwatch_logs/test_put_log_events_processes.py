"""Several service processes on one database (`logmetrics serve --workers 2`): every
PutLogEvents batch sent by three tries at once, over connections both processes take,
as shippers that timed out would; every event must be stored exactly once, and no answer
may be a 5xx."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from botocore.exceptions import ClientError

from app.clients.service_process import ServiceProcess
from tests.cloudwatch_logs.test_logs import logs_client

RUNS = 4
BATCHES = 6
TRIES = 3
EVENTS = 30


@pytest.fixture
def two_workers(tmp_path: Path, service_database_url: str) -> Iterator[ServiceProcess]:
    service = ServiceProcess(service_database_url, tmp_path / "service.log", workers=2)
    service.start()
    yield service
    service.stop()


def batch(base: int, run: int, number: int) -> list[dict[str, object]]:
    """Events a quarter second apart (a batch is several chunks), each loss unique."""
    return [
        {
            "timestamp": base + (number * EVENTS + i) * 250,
            "message": f"step {i} loss={run}.{number:02d}{i:02d};",
        }
        for i in range(EVENTS)
    ]


def _ship(url: str, run: int, base: int, failures: list[str]) -> None:
    clients = [logs_client(url) for _ in range(TRIES)]
    for number in range(BATCHES):
        events = batch(base, run, number)
        start = threading.Barrier(TRIES)

        def send(client, events=events, start=start):
            start.wait()
            try:
                client.put_log_events(
                    logGroupName="/logmetrics/fleet", logStreamName=f"r{run}", logEvents=events
                )
            except ClientError as exc:
                failures.append(str(exc))

        tries = [threading.Thread(target=send, args=(client,)) for client in clients]
        for thread in tries:
            thread.start()
        for thread in tries:
            thread.join()


def test_tries_of_each_batch_at_once_in_two_processes_store_it_once(two_workers):
    url = two_workers.url
    with httpx.Client(base_url=url, timeout=60) as api:
        made = api.post(
            "/v1/jobs",
            json={
                "name": "fleet",
                "objective": {"MetricName": "loss", "Type": "Minimize"},
                "metric_definitions": [{"Name": "loss", "Regex": r"loss=([0-9.]+);"}],
            },
        )
        assert made.status_code == 201, made.text
        base = (int(time.time()) - 3600) * 1000
        failures: list[str] = []
        # Each run is made by its stream's first batch, by whichever try comes first.
        shippers = [
            threading.Thread(target=_ship, args=(url, run, base, failures)) for run in range(RUNS)
        ]
        for thread in shippers:
            thread.start()
        for thread in shippers:
            thread.join()
        assert failures == []
        for run in range(RUNS):
            series = api.get(f"/v1/jobs/fleet/runs/r{run}/metrics/loss").json()["points"]
            assert [point["value"] for point in series] == [
                float(f"{run}.{number:02d}{i:02d}")
                for number in range(BATCHES)
                for i in range(EVENTS)
            ]
