"""GET /metrics: the service's metrics in Prometheus' text format."""

from __future__ import annotations

import os

import httpx
from prometheus_client.parser import text_string_to_metric_families

from app.clients.service_process import ServiceProcess
from app.parsing import core_status


def scrape(api):
    answer = api.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_ingest_and_requests_are_counted(api, make_job, make_run, post_log):
    make_job()
    make_run()
    make_run(name="done", status="Completed")
    post_log("run-0001", "Loss = 0.5;\nLoss = 0.25;\npartial")
    post_log("run-0001", "Loss = 0.125;\n")
    api.get("/v1/jobs/gan")

    samples = scrape(api)

    assert samples[("logmetrics_chunks_total", ())] == 2
    assert samples[("logmetrics_log_bytes_total", ())] == 32 + 14
    assert samples[("logmetrics_lines_total", ())] == 3
    assert samples[("logmetrics_points_total", ())] == 3
    assert samples[("logmetrics_regex_timeouts_total", ())] == 0
    assert samples[("logmetrics_runs_in_progress", ())] == 1
    assert samples[("logmetrics_runs_leased", ())] == 0
    assert samples[("logmetrics_pool_queued", (("pool", "ingest"),))] == 0
    # By route template, never by the raw path.
    by_route = (("method", "POST"), ("route", "/v1/jobs/{job}/runs/{run}/logs"), ("status", "200"))
    assert samples[("logmetrics_http_request_duration_seconds_count", by_route)] == 2
    job = (("method", "GET"), ("route", "/v1/jobs/{job}"), ("status", "200"))
    assert samples[("logmetrics_http_request_duration_seconds_count", job)] == 1
    assert not any("run-0001" in str(labels) for _name, labels in samples)
    # Database time, by kind of statement: the chunks' writes among them.
    statements = "logmetrics_database_statement_duration_seconds"
    assert samples[(f"{statements}_count", (("kind", "insert"),))] >= 2
    assert samples[(f"{statements}_count", (("kind", "select"),))] >= 2
    assert samples[(f"{statements}_sum", (("kind", "select"),))] > 0


def test_metrics_need_a_read_token_when_access_control_is_on(start_service):
    service = start_service(api_tokens="read:read-token-0123456789")
    assert service.client.get("/metrics").status_code == 401
    answer = service.client.get(
        "/metrics", headers={"Authorization": "Bearer read-token-0123456789"}
    )
    assert answer.status_code == 200


def test_the_scrape_says_whether_the_compiled_core_parses(api):
    status = core_status()

    samples = scrape(api)

    built = not status.startswith("pure Python")
    assert samples[("logmetrics_parser_compiled_core", (("status", status),))] == int(built)


def test_a_service_with_the_core_off_says_so_at_start_and_when_scraped(tmp_path):
    service = ServiceProcess(f"sqlite:///{tmp_path / 'off.db'}", tmp_path / "service.log")
    service.start({**os.environ, "LOGMETRICS_CORE": "off"})
    try:
        with httpx.Client(base_url=service.url) as client:
            samples = scrape(client)
            definitions = [{"Name": "loss", "Regex": r"loss=(\S+);"}]
            dry_run = client.post("/v1/parse", json={"metric_definitions": definitions, "log": ""})
    finally:
        service.stop()

    off = "pure Python: the compiled core is off (LOGMETRICS_CORE=off)"
    assert f"parsing: {off}" in (tmp_path / "service.log").read_text()
    assert samples[("logmetrics_parser_compiled_core", (("status", off),))] == 0
    assert [d["matched_by"] for d in dry_run.json()["definitions"]] == [
        "regex module: the compiled core is off (LOGMETRICS_CORE=off)"
    ]
