"""GET /metrics: the service's metrics in Prometheus' text format."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


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
