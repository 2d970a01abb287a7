"""Tuning jobs over HTTP: a job with a search, and leases taken as a worker would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

ACCURACY = [{"Name": "acc", "Regex": r"acc=(\S+);"}]


def search_job_body(name: str = "tune", **search: Any) -> dict[str, Any]:
    """A job maximizing `acc`, with a Random search of `search`'s fields over `lr`."""
    return {
        "name": name,
        "objective": {"MetricName": "acc", "Type": "Maximize"},
        "metric_definitions": ACCURACY,
        "search": {
            "strategy": "Random",
            "command": ["true"],
            "resource_limits": {"max_number_of_training_jobs": 5, "max_parallel_training_jobs": 5},
            "parameter_ranges": {
                "ContinuousParameterRanges": [{"Name": "lr", "MinValue": 0.001, "MaxValue": 0.1}]
            },
            **search,
        },
    }


@pytest.fixture
def make_search_job(api: httpx.Client) -> Callable[..., dict[str, Any]]:
    def make(name: str = "tune", **search: Any) -> dict[str, Any]:
        response = api.post("/v1/jobs", json=search_job_body(name, **search))
        assert response.status_code == 201, response.text
        job: dict[str, Any] = response.json()
        return job

    return make


@pytest.fixture
def lease(api: httpx.Client) -> Callable[..., dict[str, Any]]:
    """Ask for work as worker `w`; the answer's body."""

    def ask(worker: str = "w", jobs: list[str] | None = None) -> dict[str, Any]:
        response = api.post("/v1/leases", json={"worker": worker, "jobs": jobs})
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    return ask


@pytest.fixture
def start_worker(tmp_path):
    """Start `logmetrics worker`; its output goes to a file (`.output()` reads it)."""
    started = []

    def start(url, *args, env=None):
        log = open(tmp_path / f"worker-{len(started)}.log", "w+")  # noqa: SIM115
        worker = subprocess.Popen(
            [sys.executable, "-m", "app", "worker", "--url", url, "--poll", "0.2", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,  # where it saves output it could not send
        )
        worker.output = lambda: Path(log.name).read_text()
        started.append((worker, log))
        return worker

    yield start
    for worker, log in started:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        log.close()
