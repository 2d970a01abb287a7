"""Two service processes on one database: what one process keeps about a job never
outlives the job, when the other deletes it and creates one of the same name.

SQLite gives a new row the id of a deleted one, so a job (or run) kept by id alone
would be mistaken for its successor; PostgreSQL does not, so a kept job would find none
of its successor's runs. Either way every chunk must be parsed with the new job's
definitions, and the client must see nothing of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.clients.service_process import ServiceProcess


def _job(metric: str) -> dict[str, object]:
    return {
        "name": "j",
        "objective": {"MetricName": metric, "Type": "Maximize"},
        "metric_definitions": [{"Name": metric, "Regex": rf"{metric}=(\S+)"}],
    }


@pytest.fixture
def two_services(tmp_path: Path, service_database_url: str) -> Iterator[list[httpx.Client]]:
    """Two service processes on the same database, each on its own port."""
    services = [
        ServiceProcess(service_database_url, tmp_path / f"service-{i}.log") for i in range(2)
    ]
    for service in services:
        service.start()
    clients = [httpx.Client(base_url=service.url, timeout=60) for service in services]
    yield clients
    for client in clients:
        client.close()
    for service in services:
        service.stop()
    logs = "".join((tmp_path / f"service-{i}.log").read_text() for i in range(2))
    assert "Traceback" not in logs


def test_a_job_created_again_is_parsed_with_its_own_definitions_by_every_process(
    two_services,
):
    a, b = two_services
    assert a.post("/v1/jobs", json=_job("acc")).status_code == 201
    assert a.post("/v1/jobs/j/runs", json={"name": "r"}).status_code == 201
    # Each process reads the job, its run and its stream, and keeps what it read.
    for client in (a, b):
        assert client.get("/v1/jobs/j").status_code == 200
        assert client.post("/v1/jobs/j/runs/r/logs", content=b"acc=0.5\n").status_code == 200

    assert a.delete("/v1/jobs/j").status_code == 204
    assert a.post("/v1/jobs", json=_job("loss")).status_code == 201
    assert a.post("/v1/jobs/j/runs", json={"name": "r"}).status_code == 201
    answers = [
        (a, b)[i % 2].post("/v1/jobs/j/runs/r/logs", content=b"acc=0.9 loss=0.1\n").status_code
        for i in range(30)
    ]

    assert answers == [200] * 30
    run = a.get("/v1/jobs/j/runs/r").json()
    assert [m["metric_name"] for m in run["final_metrics"]] == ["loss"]
    assert [(m["metric_name"], m["points"]) for m in run["diagnostics"]] == [("loss", 30)]
    for client in (a, b):
        series = client.get("/v1/jobs/j/runs/r/metrics/loss")
        assert series.status_code == 200
        assert [p["value"] for p in series.json()["points"]] == [0.1] * 30
        assert client.get("/v1/jobs/j/runs/r/metrics/acc").status_code == 404
    reparse = {"metric_definitions": [{"Name": "loss", "Regex": r"loss=(\S+)"}]}
    assert [client.post("/v1/jobs/j/reparse", json=reparse).status_code for client in (a, b)] == [
        202,
        202,
    ]


def test_a_run_created_again_is_parsed_from_its_own_stream_by_every_process(two_services):
    a, b = two_services
    assert a.post("/v1/jobs", json=_job("loss")).status_code == 201
    assert a.post("/v1/jobs/j/runs", json={"name": "r"}).status_code == 201
    # b keeps the stream as it left it: 5 bytes, the held line "loss=".
    assert b.post("/v1/jobs/j/runs/r/logs", content=b"loss=").status_code == 200

    assert a.delete("/v1/jobs/j/runs/r").status_code == 204
    assert a.post("/v1/jobs/j/runs", json={"name": "r"}).status_code == 201
    assert a.post("/v1/jobs/j/runs/r/logs", content=b"xxxxx").status_code == 200
    answer = b.post("/v1/jobs/j/runs/r/logs", content=b"0.5\nloss=0.25\n")

    assert answer.status_code == 200
    series = a.get("/v1/jobs/j/runs/r/metrics/loss").json()
    assert [p["value"] for p in series["points"]] == [0.25]
    assert a.get("/v1/jobs/j/runs/r/logs").content == b"xxxxx0.5\nloss=0.25\n"
