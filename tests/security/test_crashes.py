"""Crashes and concurrency against the service as a real process."""

from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from app.parsing import LogFormat, MetricDefinition, parse_log

DEFINITIONS = [
    {"Name": "loss", "Regex": r"loss=(\S+);"},
    {"Name": "acc", "Regex": r"acc=(\S+);"},
]
JOB = {
    "name": "crash",
    "objective": {"MetricName": "loss", "Type": "Minimize"},
    "metric_definitions": DEFINITIONS,
}


def make_log(seed: int, lines: int) -> bytes:
    rng = random.Random(seed)
    out = []
    for i in range(lines):
        if rng.random() < 0.3:
            out.append(f"step {i}: loss={rng.random():.6f}; acc={rng.random():.6f};")
        else:
            out.append("noise " + "x" * rng.randrange(0, 120))
    return ("\n".join(out) + "\n").encode()


def expected_points(log: bytes) -> list[tuple[str, float, int, int]]:
    definitions = [MetricDefinition(d["Name"], d["Regex"]) for d in DEFINITIONS]
    parsed = parse_log(definitions, log, LogFormat.TEXT)
    return sorted((p.metric, p.value, p.step, p.line) for p in parsed.points)


def stored_points(url: str, run: str) -> list[tuple[str, float, int, int]]:
    found = []
    for definition in DEFINITIONS:
        name = definition["Name"]
        series = httpx.get(
            f"{url}/v1/jobs/crash/runs/{run}/metrics/{name}", params={"limit": 100000}
        )
        found += [(name, p["value"], p["step"], p["line"]) for p in series.json()["points"]]
    return sorted(found)


class ResumingClient(threading.Thread):
    """Posts one run's log in chunks with offsets; after any failure it asks the
    service where the stream stands and goes on from there, as the shipper does."""

    def __init__(self, url: str, run: str, log: bytes, chunk: int) -> None:
        super().__init__()
        self.url, self.run_name, self.log, self.chunk = url, run, log, chunk
        self.failures = 0
        self.refused: list[int] = []
        self.offset = 0

    def run(self) -> None:
        offset = 0
        deadline = time.monotonic() + 180
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while offset < len(self.log) and time.monotonic() < deadline:
                data = self.log[offset : offset + self.chunk]
                try:
                    reply = client.post(
                        f"/v1/jobs/crash/runs/{self.run_name}/logs",
                        params={"offset": offset},
                        content=data,
                    )
                except httpx.HTTPError:
                    self.failures += 1
                    offset = self._where_it_stands(client, offset)
                    continue
                if reply.status_code != 200:
                    self.refused.append(reply.status_code)
                    return
                offset = self.offset = reply.json()["next_offset"]

    def _where_it_stands(self, client: httpx.Client, fallback: int) -> int:
        while True:
            try:
                run = client.get(f"/v1/jobs/crash/runs/{self.run_name}").json()
                streams = {s["name"]: s["next_offset"] for s in run["streams"]}
                return streams.get("stdout", 0)
            except (httpx.HTTPError, ValueError, KeyError):
                time.sleep(0.1)


@pytest.mark.slow
def test_a_service_killed_mid_ingest_loses_no_acknowledged_chunk_and_halves_none(
    service_process,
):
    url = service_process.url
    assert httpx.post(f"{url}/v1/jobs", json=JOB).status_code == 201
    logs = {}
    for i in range(4):
        run = f"run-{i}"
        assert httpx.post(f"{url}/v1/jobs/crash/runs", json={"name": run}).status_code == 201
        logs[run] = make_log(seed=i, lines=150_000)
    clients = [ResumingClient(url, run, log, chunk=64 * 1024) for run, log in logs.items()]
    for client in clients:
        client.start()
    # SIGKILL in the middle of heavy ingest: once every client is under way.
    while not all(c.offset > len(c.log) // 10 for c in clients):
        assert all(c.is_alive() for c in clients)
        time.sleep(0.01)
    service_process.kill()
    time.sleep(0.5)
    service_process.start()
    for client in clients:
        client.join(timeout=240)
    assert sum(client.failures for client in clients) > 0  # the kill did interrupt them
    assert all(not client.refused for client in clients), [c.refused for c in clients]
    for run, log in logs.items():
        assert httpx.get(f"{url}/v1/jobs/crash/runs/{run}/logs").content == log
        assert stored_points(url, run) == expected_points(log)


@pytest.mark.slow
def test_fifty_clients_and_leaderboard_readers_at_once(service_process):
    url = service_process.url
    assert httpx.post(f"{url}/v1/jobs", json=JOB).status_code == 201
    logs = {f"run-{i}": make_log(seed=100 + i, lines=2000) for i in range(50)}
    for run in logs:
        assert httpx.post(f"{url}/v1/jobs/crash/runs", json={"name": run}).status_code == 201
    errors: list[str] = []
    done = threading.Event()

    def write(run: str, log: bytes) -> None:
        with httpx.Client(base_url=url, timeout=120) as client:
            for start in range(0, len(log), 8192):
                reply = client.post(
                    f"/v1/jobs/crash/runs/{run}/logs",
                    params={"offset": start},
                    content=log[start : start + 8192],
                )
                if reply.status_code != 200:
                    errors.append(f"{run}: {reply.status_code} {reply.text}")
            reply = client.post(f"/v1/jobs/crash/runs/{run}/complete", json={"status": "Completed"})
            if reply.status_code != 200:
                errors.append(f"{run}: {reply.status_code} {reply.text}")

    def read() -> None:
        with httpx.Client(base_url=url, timeout=120) as client:
            while not done.is_set():
                for path in ("/v1/jobs/crash/runs", "/v1/jobs/crash", "/v1/jobs"):
                    reply = client.get(path)
                    if reply.status_code != 200:
                        errors.append(f"{path}: {reply.status_code} {reply.text}")

    writers = [threading.Thread(target=write, args=item) for item in logs.items()]
    readers = [threading.Thread(target=read) for _ in range(4)]
    for thread in [*writers, *readers]:
        thread.start()
    for thread in writers:
        thread.join(timeout=300)
    done.set()
    for thread in readers:
        thread.join(timeout=60)
    assert errors == []
    board = httpx.get(f"{url}/v1/jobs/crash/runs", params={"limit": 100}).json()["runs"]
    assert len(board) == 50
    for run, log in logs.items():
        diagnostics = httpx.get(f"{url}/v1/jobs/crash/runs/{run}").json()["diagnostics"]
        assert stored_points(url, run) == expected_points(log), diagnostics
    assert "database is locked" not in service_process.log_path.read_text()


@pytest.mark.slow
def test_sigterm_lets_requests_in_flight_finish(service_process):
    url = service_process.url
    hostile = {
        "name": "slow",
        "objective": {"MetricName": "a", "Type": "Minimize"},
        "metric_definitions": [{"Name": "a", "Regex": r"(a|aa)+$"}],
    }
    assert httpx.post(f"{url}/v1/jobs", json=hostile).status_code == 201
    assert httpx.post(f"{url}/v1/jobs/slow/runs", json={}).status_code == 201
    replies: list[httpx.Response] = []
    # 50,000 lines that all time out: the request takes a while.
    lines = [b"a" * 40 + b"!\n"] * 50_000
    sending = threading.Event()

    def body() -> Iterator[bytes]:
        yield from lines[:1000]
        sending.set()
        yield from lines[1000:]

    def post() -> None:
        with httpx.Client(base_url=url, timeout=120) as client:
            assert client.get("/healthz").status_code == 200  # the connection is accepted
            replies.append(client.post("/v1/jobs/slow/runs/run-0001/logs", content=body()))

    poster = threading.Thread(target=post)
    poster.start()
    assert sending.wait(timeout=60)
    time.sleep(0.3)  # the request's head and first bytes have reached the service
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status says so.
    assert service_process.terminate() in (0, -signal.SIGTERM)
    poster.join(timeout=120)
    assert [r.status_code for r in replies] == [200]
    assert replies[0].json()["lines"] == 50_000
