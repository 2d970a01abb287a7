"""The re-parse phase: a job's stored log parsed again through the service's API.

One job per corpus, so that each row is that corpus's figure: the job is created with one
definition that finds nothing (named as the benchmark's objective, which a job's
definitions must hold), the corpus is posted to one run over HTTP in 1 MiB chunks and
the run completed, untimed. Then `POST /v1/jobs/{job}/reparse` gives the job the 40
definitions, and the clock runs from that request until `GET /v1/jobs/{job}/reparse`
says done (polled every few milliseconds): reading the stored chunks, decompressing,
parsing, and replacing the run's summaries and points, in the service's re-parse thread.
The points are then read back for the equality check.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from app.parsing import MetricDefinition
from bench.http_ingest import check_response, post_run, read_points
from bench.inprocess import Corpus
from bench.service import Service
from bench.timing import Rate
from tests.parsing.naive import PointRow

__all__ = ["LABEL", "Reparsed", "reparse_job"]

LABEL = "re-parse through the service (SQLite)"
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
    chunk_size: int,
    lines: int,
) -> Reparsed:
    """Store `corpus` as the one run of a new job `job`, then re-parse the job with
    `definitions` and time it from the request to its completion.

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
    rate = Rate(LABEL, corpus.name, seconds, len(corpus.data), lines, cpu_seconds=cpu)
    return Reparsed(rate, points, peak)


def _done(client: httpx.Client, job: str) -> bool:
    response = client.get(f"/v1/jobs/{job}/reparse")
    check_response(response)
    return bool(response.json()["done"])
