"""What operators watch: the service's metrics in Prometheus' text format (`GET /metrics`).

One registry per app (`create_app` makes it, nothing global): counters of what ingest
stored, request latency by route, database time by kind of statement, and gauges read at
scrape time (runs in progress, runs
leased to workers, requests waiting for a worker thread). With `serve --workers N` each
process counts its own; a scrape reaches one of them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.ingest import Appended
from app.parsing import core_status
from app.storage import Storage
from app.workpool import WorkPool

__all__ = ["CONTENT_TYPE", "RequestTimer", "Telemetry"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Telemetry:
    def __init__(self, storage: Storage, pools: Mapping[str, WorkPool]) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.chunks = Counter("logmetrics_chunks", "Log chunks stored.", registry=registry)
        self.log_bytes = Counter("logmetrics_log_bytes", "Raw log bytes stored.", registry=registry)
        self.lines = Counter("logmetrics_lines", "Log lines completed.", registry=registry)
        self.points = Counter("logmetrics_points", "Metric points found.", registry=registry)
        self.timeouts = Counter(
            "logmetrics_regex_timeouts",
            "Lines a definition skipped because its regex ran out of time.",
            registry=registry,
        )
        self.requests = Histogram(
            "logmetrics_http_request_duration_seconds",
            "HTTP requests by route template, method and status, and how long they took.",
            ["method", "route", "status"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.statements = Histogram(
            "logmetrics_database_statement_duration_seconds",
            "Database statements by kind (select, insert, update, delete, with, other), and "
            "how long each took.",
            ["kind"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
            registry=registry,
        )
        storage.observe_statements(
            lambda kind, seconds: self.statements.labels(kind).observe(seconds)
        )
        registry.register(_StateCollector(storage, pools))
        core = Gauge(
            "logmetrics_parser_compiled_core",
            "1 where the compiled matching core parses (definitions it takes), 0 where every "
            "definition goes by the regex module; `status` says which and why.",
            ["status"],
            registry=registry,
        )
        status = core_status()
        core.labels(status).set(0 if status.startswith("pure Python") else 1)

    def chunk_stored(self, appended: Appended) -> None:
        self.chunks.inc()
        self.log_bytes.inc(appended.stored_bytes)
        self.lines.inc(appended.lines)
        self.points.inc(appended.points)
        self.timeouts.inc(appended.timeouts)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _StateCollector(Collector):
    """Gauges read when scraped."""

    def __init__(self, storage: Storage, pools: Mapping[str, WorkPool]) -> None:
        self._storage = storage
        self._pools = pools

    def collect(self) -> Iterator[GaugeMetricFamily]:
        in_progress, leased = self._storage.runs_in_progress()
        yield GaugeMetricFamily(
            "logmetrics_runs_in_progress", "Runs in progress, in all jobs.", value=in_progress
        )
        yield GaugeMetricFamily(
            "logmetrics_runs_leased", "Runs in progress held by a worker.", value=leased
        )
        queued = GaugeMetricFamily(
            "logmetrics_pool_queued",
            "Requests waiting for a thread of a pool (ingest: log chunks; parse: dry runs).",
            labels=["pool"],
        )
        for name, pool in self._pools.items():
            queued.add_metric([name], pool.queued)
        yield queued


class RequestTimer:
    """ASGI middleware: each HTTP request's duration into `Telemetry.requests`, labelled
    with its route's template (`/v1/jobs/{job}`), never the raw path."""

    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.telemetry.requests.labels(scope["method"], template, str(status)).observe(
                time.perf_counter() - started
            )
