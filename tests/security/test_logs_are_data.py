"""Logs are data: no bytes are refused, memory stays bounded, nothing around is lost."""

from __future__ import annotations

import random
import sqlite3

import pytest

JOB = {
    "name": "gan",
    "objective": {"MetricName": "loss", "Type": "Minimize"},
    "metric_definitions": [{"Name": "loss", "Regex": "Loss = (.*?);"}],
}
LOGS = "/v1/jobs/gan/runs/run-0001/logs"


@pytest.fixture
def run(api):
    assert api.post("/v1/jobs", json=JOB).status_code == 201
    assert api.post("/v1/jobs/gan/runs", json={}).status_code == 201


def points(api) -> list[tuple[int, float]]:
    series = api.get("/v1/jobs/gan/runs/run-0001/metrics/loss").json()["points"]
    return [(p["line"], p["value"]) for p in series]


def test_binary_garbage_nul_bytes_and_invalid_utf8_are_taken(api, run):
    garbage = random.Random(7).randbytes(1 << 20)
    chunks = [b"Loss = 1;\n", garbage, b"\n\x00\x00Loss = 2;\x00\n", b"\xff\xfe\xc3(Loss = 3;\n"]
    for chunk in chunks:
        assert api.post(LOGS, content=chunk).status_code == 200
    assert (
        api.post(f"{LOGS.removesuffix('/logs')}/complete", json={"status": "Completed"}).status_code
        == 200
    )
    lines = 1 + garbage.count(b"\n") + garbage.count(b"\r") - garbage.count(b"\r\n")
    found = points(api)
    assert found[0] == (1, 1.0)
    assert found[-2:] == [(lines + 2, 2.0), (lines + 3, 3.0)]
    stored = api.get(LOGS).content
    assert stored == b"".join(chunks)


@pytest.mark.slow
def test_a_100_mb_line_is_taken_in_bounded_memory(api, run, database_url):
    piece = b"x" * (16 * 1024 * 1024 - 1)
    assert api.post(LOGS, content=b"Loss = 1;\n").status_code == 200
    for _ in range(6):
        assert api.post(LOGS, content=piece).status_code == 200
    assert api.post(LOGS, content=b"x" * 4_000_000 + b" Loss = 9;").status_code == 200
    # The line so far is 100 MB long, but only its first 64 KiB (+1) are kept to match.
    stream = api.get("/v1/jobs/gan/runs/run-0001").json()["streams"][0]
    assert stream["partial_length"] == 6 * len(piece) + 4_000_000 + 10
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
        (kept,) = db.execute("select length(partial) from streams").fetchone()
    assert kept == 64 * 1024 + 1
    assert api.post(LOGS, content=b"\nLoss = 2;\n").status_code == 200
    # The long line matched on its first 64 KiB only (its Loss lies beyond); the lines
    # around it are intact.
    assert points(api) == [(1, 1.0), (3, 2.0)]


def test_a_million_empty_lines_are_counted_and_the_next_line_still_found(api, run):
    response = api.post(LOGS, content=b"Loss = 1;\n" + b"\n" * 1_000_000 + b"Loss = 2;\n")
    assert response.json()["lines"] == 1_000_002
    assert points(api) == [(1, 1.0), (1_000_002, 2.0)]
