"""Several service processes on one database: `logmetrics serve --workers 2`.

Many runs, each with several streams, posted at once over many connections (so both
processes take requests), every chunk sent twice as a shipper's retry would: every
point must be stored exactly once, and no answer may be a 5xx.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.clients.service_process import ServiceProcess

RUNS = 12
STREAMS = ("stdout", "stderr", "algo-2-stdout")
LINES = 60
JOB = {
    "name": "fleet",
    "objective": {"MetricName": "loss", "Type": "Minimize"},
    "metric_definitions": [{"Name": "loss", "Regex": r"loss=([0-9.]+);"}],
}


def stream_log(run: int, stream: str) -> bytes:
    rng = random.Random(f"{run}-{stream}")
    lines = [
        f"step {i} loss={run}.{STREAMS.index(stream)}{i:03d};" if rng.random() < 0.7 else "noise"
        for i in range(LINES)
    ]
    return ("\n".join(lines) + "\n").encode()


def expected_losses(run: int) -> list[float]:
    values = []
    for stream in STREAMS:
        for line in stream_log(run, stream).decode().splitlines():
            if "loss=" in line:
                values.append(float(line.split("loss=")[1].rstrip(";")))
    return sorted(values)


@pytest.fixture
def two_workers(tmp_path: Path, service_database_url: str) -> Iterator[ServiceProcess]:
    service = ServiceProcess(service_database_url, tmp_path / "service.log", workers=2)
    service.start()
    yield service
    service.stop()


def _post_stream(url: str, run: int, stream: str, answers: list[int]) -> None:
    log = stream_log(run, stream)
    rng = random.Random(f"cut-{run}-{stream}")
    cuts = sorted({0, len(log), *(rng.randrange(1, len(log)) for _ in range(8))})
    with httpx.Client(base_url=url, timeout=60) as client:
        for start, stop in itertools.pairwise(cuts):
            for _ in range(2):  # the chunk, then its retry
                response = client.post(
                    f"/v1/jobs/fleet/runs/run-{run:02d}/logs",
                    params={"stream": stream, "offset": start},
                    content=log[start:stop],
                )
                answers.append(response.status_code)


def test_two_processes_store_every_point_exactly_once(two_workers):
    url = two_workers.url
    with httpx.Client(base_url=url, timeout=60) as client:
        assert client.post("/v1/jobs", json=JOB).status_code == 201
        for run in range(RUNS):
            created = client.post("/v1/jobs/fleet/runs", json={"name": f"run-{run:02d}"})
            assert created.status_code == 201
    answers: list[int] = []
    threads = [
        threading.Thread(target=_post_stream, args=(url, run, stream, answers))
        for run in range(RUNS)
        for stream in STREAMS
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with httpx.Client(base_url=url, timeout=60) as client:
        completed = [
            client.post(f"/v1/jobs/fleet/runs/run-{run:02d}/complete", json={"status": "Completed"})
            for run in range(RUNS)
        ]
        stored = {
            run: sorted(
                p["value"]
                for p in client.get(
                    f"/v1/jobs/fleet/runs/run-{run:02d}/metrics/loss", params={"limit": 100000}
                ).json()["points"]
            )
            for run in range(RUNS)
        }
        logs = {
            (run, stream): client.get(
                f"/v1/jobs/fleet/runs/run-{run:02d}/logs", params={"stream": stream}
            ).content
            for run in range(RUNS)
            for stream in STREAMS
        }

    assert set(answers) == {200}
    assert [c.status_code for c in completed] == [200] * RUNS
    assert stored == {run: expected_losses(run) for run in range(RUNS)}
    assert logs == {(run, s): stream_log(run, s) for run in range(RUNS) for s in STREAMS}
