"""Phase (3) and the ingest phases around it: the live service over HTTP with SQLite.

- `ingest_run`: one run's log posted in chunks with `offset`, the run completed, its
  points read back with GET .../metrics/{metric} for the equality check.
- `concurrent_ingest`: 50 runs posting at once, one client thread each.
- `memory_growth`: the service's resident size as the ingested bytes grow.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from app.parsing import MetricDefinition, Parser
from bench.inprocess import Corpus, parse_in_chunks
from bench.service import Service
from bench.timing import Rate, chunk_label
from tests.parsing.naive import PointRow

__all__ = [
    "Concurrent",
    "HttpIngest",
    "MemoryGrowth",
    "check_response",
    "concurrent_ingest",
    "create_job",
    "ingest_run",
    "memory_growth",
    "post_run",
]

_PAGE = 100_000  # the largest page GET .../metrics/{metric} serves


@dataclass(frozen=True)
class HttpIngest:
    rate: Rate
    points: list[PointRow]
    peak_rss: int
    requests: int


@dataclass(frozen=True)
class Concurrent:
    rate: Rate
    runs: int
    requests: int
    errors: tuple[str, ...]  # the first few; `error_count` counts all
    error_count: int
    mismatched_runs: tuple[str, ...]  # runs whose stored point count is not the parser's
    timeouts: int  # regex time-outs the runs' diagnostics count, in all
    peak_rss: int


@dataclass(frozen=True)
class MemoryGrowth:
    checkpoints: tuple[tuple[int, int], ...]  # (bytes ingested, resident bytes after)
    peak_rss: int
    seconds: float


def create_job(
    client: httpx.Client,
    name: str,
    definitions: Sequence[MetricDefinition],
    objective: dict[str, str],
) -> None:
    response = client.post(
        "/v1/jobs",
        json={
            "name": name,
            "objective": objective,
            "metric_definitions": [{"Name": d.name, "Regex": d.regex} for d in definitions],
        },
    )
    check_response(response, 201)


def ingest_run(
    service: Service,
    job: str,
    run: str,
    corpus: Corpus,
    chunk_size: int,
    lines: int,
    metrics: Sequence[str],
) -> HttpIngest:
    """Post `corpus` to a new run in `chunk_size` chunks, complete it, read its points."""
    with service.client() as client:
        check_response(client.post(f"/v1/jobs/{job}/runs", json={"name": run}), 201)
        service.reset_peak()
        cpu = service.cpu_seconds()
        start = time.perf_counter()
        requests = post_run(client, job, run, corpus.data, chunk_size)
        seconds = time.perf_counter() - start
        cpu = service.cpu_seconds() - cpu
        peak = service.peak_rss()
        points = [row for metric in metrics for row in read_points(client, job, run, metric)]
    label = f"HTTP ingest + SQLite, {chunk_label(chunk_size)} chunks"
    rate = Rate(label, corpus.name, seconds, len(corpus.data), lines, cpu_seconds=cpu)
    return HttpIngest(rate, points, peak, requests)


def post_run(client: httpx.Client, job: str, run: str, data: bytes, chunk_size: int) -> int:
    """Post a created run's whole log in chunks with offsets, then complete it.

    Returns:
        The number of requests.
    """
    requests = _post_log(client, job, run, data, chunk_size)
    check_response(client.post(f"/v1/jobs/{job}/runs/{run}/complete", json={"status": "Completed"}))
    return requests + 1


def read_points(client: httpx.Client, job: str, run: str, metric: str) -> list[PointRow]:
    """Every stored point of one metric of a run, in arrival order, page by page."""
    rows: list[PointRow] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": _PAGE}
        if cursor is not None:
            params["cursor"] = cursor
        response = client.get(f"/v1/jobs/{job}/runs/{run}/metrics/{metric}", params=params)
        check_response(response)
        page = response.json()
        rows.extend((metric, p["value"], p["step"], p["line"], p["offset"]) for p in page["points"])
        cursor = page["next_cursor"]
        if cursor is None:
            return rows


def concurrent_ingest(
    service: Service,
    job: str,
    corpus: Corpus,
    parser: Parser,
    runs: int,
    bytes_per_run: int,
    chunk_size: int,
) -> Concurrent:
    """`runs` client threads, each posting its own slice of `corpus` to its own run.

    The clock starts when every thread is ready (runs created, clients connected) and
    stops when the last run is completed. Afterwards each run's stored point count is
    compared with what the parser finds in its slice.
    """
    names = [f"concurrent-{i + 1:03d}" for i in range(runs)]
    step = max(1, (len(corpus.data) - bytes_per_run) // max(1, runs - 1))
    slices = [_wrapped(corpus.data, i * step, bytes_per_run) for i in range(runs)]
    expected = [parse_in_chunks(parser, data, chunk_size) for data in slices]
    with service.client() as client:
        for name in names:
            check_response(client.post(f"/v1/jobs/{job}/runs", json={"name": name}), 201)
    ready = threading.Barrier(runs + 1)
    lock = threading.Lock()
    errors: list[str] = []
    requests = [0]

    def post_one(name: str, data: bytes) -> None:
        with service.client() as own:
            try:
                own.get("/healthz")  # connect before the clock starts
            finally:
                ready.wait()
            try:
                sent = post_run(own, job, name, data, chunk_size)
            except (httpx.HTTPError, RuntimeError) as exc:
                with lock:
                    errors.append(f"{name}: {exc}")
                return
            with lock:
                requests[0] += sent

    threads = [
        threading.Thread(target=post_one, args=(name, data), daemon=True)
        for name, data in zip(names, slices, strict=True)
    ]
    for thread in threads:
        thread.start()
    service.reset_peak()
    ready.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    peak = service.peak_rss()
    counts = [len(points) for points, _lines in expected]
    mismatched, timeouts = _check_counts(service, job, names, counts)
    rate = Rate(
        f"{runs} runs posting at once, {chunk_label(chunk_size)} chunks",
        corpus.name,
        seconds,
        sum(len(data) for data in slices),
        sum(lines for _points, lines in expected),
    )
    return Concurrent(
        rate, runs, requests[0], tuple(errors[:5]), len(errors), tuple(mismatched), timeouts, peak
    )


def memory_growth(
    service: Service,
    job: str,
    corpus: Corpus,
    total: int,
    checkpoints: Sequence[int],
    chunk_size: int,
) -> MemoryGrowth:
    """Post `total` bytes (the corpus again and again, a new run each time); read the
    service's resident size each time the ingested bytes pass a checkpoint."""
    readings: list[tuple[int, int]] = []
    wanted = sorted(checkpoints)
    sent = 0
    service.reset_peak()
    start = time.perf_counter()
    with service.client() as client:
        number = 0
        while sent < total:
            number += 1
            run = f"memory-{number:04d}"
            check_response(client.post(f"/v1/jobs/{job}/runs", json={"name": run}), 201)
            for offset in range(0, len(corpus.data), chunk_size):
                chunk = corpus.data[offset : offset + chunk_size]
                post_chunk(client, job, run, chunk, offset)
                sent += len(chunk)
                while wanted and sent >= wanted[0]:
                    readings.append((sent, service.rss()))
                    wanted.pop(0)
                if sent >= total:
                    break
            check_response(
                client.post(f"/v1/jobs/{job}/runs/{run}/complete", json={"status": "Completed"})
            )
    seconds = time.perf_counter() - start
    return MemoryGrowth(tuple(readings), service.peak_rss(), seconds)


def _post_log(client: httpx.Client, job: str, run: str, data: bytes, chunk_size: int) -> int:
    count = 0
    for offset in range(0, len(data), chunk_size):
        post_chunk(client, job, run, data[offset : offset + chunk_size], offset)
        count += 1
    return count


def post_chunk(client: httpx.Client, job: str, run: str, chunk: bytes, offset: int) -> None:
    """Post one chunk of a run's stdout at `offset`; raises RuntimeError unless taken."""
    response = client.post(
        f"/v1/jobs/{job}/runs/{run}/logs",
        params={"stream": "stdout", "offset": offset},
        content=chunk,
        headers={"Content-Type": "application/octet-stream"},
    )
    check_response(response)
    if response.json()["next_offset"] != offset + len(chunk):
        raise RuntimeError(f"{run}: next_offset {response.json()['next_offset']} after {offset}")


def _check_counts(
    service: Service, job: str, names: Sequence[str], expected: Sequence[int]
) -> tuple[list[str], int]:
    """Runs whose stored point count differs from `expected`, and the time-outs in all."""
    mismatched, timeouts = [], 0
    with service.client() as client:
        for name, count in zip(names, expected, strict=True):
            response = client.get(f"/v1/jobs/{job}/runs/{name}")
            check_response(response)
            diagnostics = response.json()["diagnostics"]
            stored = sum(d["points"] for d in diagnostics)
            timed_out = sum(d["timeouts"] for d in diagnostics)
            timeouts += timed_out
            if stored != count:
                mismatched.append(
                    f"{name}: {stored} points stored, {count} expected, {timed_out} time-outs"
                )
    return mismatched, timeouts


def _wrapped(data: bytes, start: int, length: int) -> bytes:
    start %= len(data)
    piece = data[start : start + length]
    while len(piece) < length:
        piece += data[: length - len(piece)]
    return piece


def check_response(response: httpx.Response, status: int = 200) -> None:
    """Raises RuntimeError, with the answer's start, unless its status is `status`."""
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:300]}"
        )
