"""The re-parse phase: a job's stored log parsed again through the service's API.

One job per corpus and way of storing it, so that each row is one figure: the job is
created with one definition that finds nothing (named as the benchmark's objective,
which a job's definitions must hold), the corpus is posted to its one run over HTTP and
the run completed, untimed. The corpus is posted either in 1 MiB chunks cut anywhere, as
the HTTP phase posts it (the target's row), or in chunks of about 4 KiB that each end at
a line end, as a worker ships a second of lines. Then `POST /v1/jobs/{job}/reparse`
gives the job the 40 definitions, and the clock runs from that request until
`GET /v1/jobs/{job}/reparse` says done (polled every few milliseconds): reading the
stored chunks, decompressing, parsing, and replacing the run's summaries and points, in
the service's re-parse thread. The points are then read back for the equality check.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import httpx

from app.parsing import MetricDefinition
from bench.http_ingest import check_response, post_chunk, post_run, read_points
from bench.inprocess import Corpus
from bench.service import Service
from bench.timing import Rate, chunk_label
from tests.parsing.naive import PointRow

__all__ = [
    "LINES_LABEL",
    "WHOLE_LINES",
    "Reparsed",
    "reparse_job",
    "reparse_label",
    "whole_line_chunks",
]

LINES_LABEL = "re-parse, stored in ~4 KiB chunks of whole lines (SQLite)"
WHOLE_LINES = 4096  # about how long the chunks of whole lines are
# Finds nothing in the corpora (no line has this literal): storing the log costs little.
_NOTHING = r"no metric is ever printed as this=([0-9.]+)"
_POLL = 0.005  # seconds between progress reads
_TIMEOUT = 1800.0


@dataclass(frozen=True)
class Reparsed:
    rate: Rate
    points: list[PointRow]
    peak_rss: int


def reparse_job(
    service: Service,
    job: str,
    corpus: Corpus,
    definitions: Sequence[MetricDefinition],
    objective: dict[str, str],
    chunk_size: int | None,
    lines: int,
) -> Reparsed:
    """Store `corpus` as the one run of a new job `job`, then re-parse the job with
    `definitions` and time it from the request to its completion.

    Args:
        chunk_size: the stored chunks' size, cut anywhere; None: chunks of about
            `WHOLE_LINES` bytes, each ending at a line end.

    Raises: RuntimeError if the service answers an error or the re-parse takes more
        than half an hour.
    """
    run = "run"
    with service.client() as client:
        body = {
            "name": job,
            "objective": objective,
            "metric_definitions": [{"Name": objective["MetricName"], "Regex": _NOTHING}],
        }
        check_response(client.post("/v1/jobs", json=body), 201)
        check_response(client.post(f"/v1/jobs/{job}/runs", json={"name": run}), 201)
        if chunk_size is None:
            for offset, chunk in whole_line_chunks(corpus.data, WHOLE_LINES):
                post_chunk(client, job, run, chunk, offset)
            complete = {"status": "Completed"}
            check_response(client.post(f"/v1/jobs/{job}/runs/{run}/complete", json=complete))
        else:
            post_run(client, job, run, corpus.data, chunk_size)
        service.reset_peak()
        cpu = service.cpu_seconds()
        start = time.perf_counter()
        check_response(
            client.post(
                f"/v1/jobs/{job}/reparse",
                json={
                    "metric_definitions": [{"Name": d.name, "Regex": d.regex} for d in definitions]
                },
            ),
            202,
        )
        while not _done(client, job):
            if time.perf_counter() - start > _TIMEOUT:
                raise RuntimeError(f"the re-parse of {job} took more than {_TIMEOUT:g} s")
            time.sleep(_POLL)
        seconds = time.perf_counter() - start
        cpu = service.cpu_seconds() - cpu
        peak = service.peak_rss()
        points = [row for d in definitions for row in read_points(client, job, run, d.name)]
    label = reparse_label(chunk_size) if chunk_size is not None else LINES_LABEL
    rate = Rate(label, corpus.name, seconds, len(corpus.data), lines, cpu_seconds=cpu)
    return Reparsed(rate, points, peak)


def reparse_label(chunk_size: int) -> str:
    """The row of a re-parse of a run stored in `chunk_size` chunks cut anywhere."""
    return f"re-parse, stored in {chunk_label(chunk_size)} chunks (SQLite)"


def _done(client: httpx.Client, job: str) -> bool:
    response = client.get(f"/v1/jobs/{job}/reparse")
    check_response(response)
    return bool(response.json()["done"])


def whole_line_chunks(data: bytes, size: int) -> Iterator[tuple[int, bytes]]:
    """(offset, chunk): `data` in chunks of about `size` bytes, each ending at a line
    end (`\n`, or `\r` as a progress bar's redraw ends), or longer where a line is."""
    start = 0
    while start < len(data):
        end = min(len(data), start + size)
        cut = max(data.rfind(b"\n", start, end), data.rfind(b"\r", start, end))
        if end < len(data):
            if cut >= start:
                end = cut + 1
            else:  # a line longer than `size`: to its end
                found = [i for i in (data.find(b"\n", end), data.find(b"\r", end)) if i >= 0]
                end = min(found) + 1 if found else len(data)
        yield start, data[start:end]
        start = end
