"""POST /v1/logs over real HTTP: OpenTelemetry's own exporter, OTLP/JSON, refusals."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.rpc.status_pb2 import Status
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource

from tests.otlp.messages import record, request
from tests.service import Service

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = [{"Name": "loss", "Regex": "Loss = (.*?);"}, {"Name": "lr", "Regex": "lr=(.*)"}]
T0 = 1_765_000_000_000_000_000  # 2025-12-06T05:46:40Z
ADMIN = "admin-token-0123456789abcdef"
READER = "read-token-0123456789abcdef"
PROTOBUF = {"Content-Type": "application/x-protobuf"}


@pytest.fixture
def job(api: httpx.Client, make_job: Any) -> str:
    make_job(name="otel", metric="loss", definitions=DEFINITIONS)
    return "otel"


def points(api: httpx.Client, run: str, metric: str = "loss") -> list[dict[str, Any]]:
    response = api.get(f"/v1/jobs/otel/runs/{run}/metrics/{metric}")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["points"]
    return found


def log(api: httpx.Client, run: str, stream: str = "stdout") -> bytes:
    response = api.get(f"/v1/jobs/otel/runs/{run}/logs", params={"stream": stream})
    assert response.status_code == 200, response.text
    return response.content


@pytest.fixture
def exporter_logger(service: Service) -> Iterator[Any]:
    """`logger(run, gzip_it=False)`: an OpenTelemetry SDK logger whose
    records, of resource logmetrics.job=otel and logmetrics.run=`run`, OTLPLogExporter
    sends to the service one by one as they are emitted."""
    providers: list[LoggerProvider] = []

    def logger(run: str, gzip_it: bool = False) -> Any:
        resource = Resource.create({"logmetrics.job": "otel", "logmetrics.run": run})
        provider = LoggerProvider(resource=resource)
        exporter = OTLPLogExporter(
            endpoint=f"{service.url}/v1/logs",
            compression=Compression.Gzip if gzip_it else Compression.NoCompression,
        )
        provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
        providers.append(provider)
        return provider.get_logger("train")

    yield logger
    for provider in providers:
        provider.shutdown()


def run_program(service: Service, run: str, **settings: str) -> bytes:
    """Run tests/otlp/program.py set up by OTEL_* variables; what it printed."""
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OTEL_RESOURCE_ATTRIBUTES": f"logmetrics.job=otel,logmetrics.run={run}",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": f"{service.url}/v1/logs",
        **settings,
    }
    return subprocess.run(
        [sys.executable, "-m", "tests.otlp.program"],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout


def test_a_program_logging_through_the_otel_sdk_feeds_its_run(service, api, job):
    printed = run_program(service, "sdk-1")

    assert printed.decode().splitlines()[0] == "epoch 1: Loss = 0.9; lr=0.1"
    assert log(api, "sdk-1") == printed
    assert [(p["step"], p["value"], p["line"]) for p in points(api, "sdk-1")] == [
        (1, 0.9, 1),
        (2, 0.7, 2),
        (3, 0.55, 3),
        (4, 0.4, 4),
        (5, 0.35, 5),
    ]
    assert api.get("/v1/jobs/otel/runs/sdk-1").json()["status"] == "InProgress"


def test_a_program_sends_its_runs_token_and_gzips_by_otel_settings(start_service):
    service = start_service(api_tokens=f"admin:{ADMIN}")
    api = service.client
    admin = {"Authorization": f"Bearer {ADMIN}"}
    job = {"name": "otel", "objective": {"MetricName": "loss", "Type": "Minimize"}}
    created = api.post("/v1/jobs", json={**job, "metric_definitions": DEFINITIONS}, headers=admin)
    assert created.status_code == 201
    run = api.post("/v1/jobs/otel/runs", json={"name": "sdk-1"}, headers=admin).json()

    printed = run_program(
        service,
        "sdk-1",
        OTEL_EXPORTER_OTLP_LOGS_HEADERS=f"Authorization=Bearer%20{run['ingest_token']}",
        OTEL_EXPORTER_OTLP_LOGS_COMPRESSION="gzip",
    )

    series = api.get("/v1/jobs/otel/runs/sdk-1/metrics/loss", headers=admin).json()["points"]
    assert [p["value"] for p in series] == [0.9, 0.7, 0.55, 0.4, 0.35]
    assert len(printed.splitlines()) == 5


LINES = [
    "epoch 1: Loss = 0.9; lr=0.1",
    "epoch 2: Loss = 0.7; lr=0.05",
    "not a metric line",
    "epoch 3: Loss = 0.5; lr=0.025",
]


def test_a_chunk_through_otlp_gives_the_points_it_gives_through_v1(
    api, job, make_run, exporter_logger
):
    make_run(job="otel", name="v1-run")
    chunk = "".join(f"{line}\n" for line in LINES)
    posted = api.post(
        "/v1/jobs/otel/runs/v1-run/logs", content=chunk, params={"timestamp": "1765000000.5"}
    )
    assert posted.status_code == 200, posted.text
    logger = exporter_logger("otlp-run")

    for line in LINES:
        logger.emit(timestamp=T0 + 500_000_000, body=line)

    for metric in ("loss", "lr"):
        through_otlp = points(api, "otlp-run", metric)
        assert through_otlp == points(api, "v1-run", metric)
        assert through_otlp[0]["timestamp"] == "2025-12-06T05:46:40.500000Z"
    assert [p["value"] for p in points(api, "otlp-run")] == [0.9, 0.7, 0.5]
    assert log(api, "otlp-run") == log(api, "v1-run") == chunk.encode()


def test_gzip_and_the_stream_attributes_reach_their_streams(api, job, exporter_logger):
    logger = exporter_logger("r1", gzip_it=True)

    logger.emit(timestamp=T0, body="to stdout")
    logger.emit(timestamp=T0, body=b"\xffraw", attributes={"log.iostream": "stderr"})
    logger.emit(timestamp=T0, body="x", attributes={"logmetrics.stream": "algo-2-stdout"})

    assert log(api, "r1") == b"to stdout\n"
    assert log(api, "r1", "stderr") == b"\xffraw\n"
    assert log(api, "r1", "algo-2-stdout") == b"x\n"


def otlp_json(*records: dict[str, Any], **resource: str) -> dict[str, Any]:
    return {
        "resourceLogs": [
            {
                "resource": {
                    "attributes": [
                        {"key": key, "value": {"stringValue": v}} for key, v in resource.items()
                    ]
                },
                "scopeLogs": [{"logRecords": list(records)}],
            }
        ]
    }


def json_record(body: str, **attributes: str) -> dict[str, Any]:
    return {
        "timeUnixNano": str(T0),
        "traceId": "5b8efff798038103d269b633813fc60c",
        "body": {"stringValue": body},
        "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attributes.items()],
    }


def test_refused_records_are_counted_in_a_partial_success_and_the_rest_kept(
    api, job, make_job, make_run, complete_run
):
    make_run(job="otel", name="ended")
    assert complete_run("ended", job="otel").status_code == 200
    make_job(
        name="tuned",
        metric="loss",
        definitions=DEFINITIONS,
        search={
            "strategy": "Random",
            "command": ["true"],
            "parameter_ranges": {"continuous": [{"name": "lr", "min_value": 0.1, "max_value": 1}]},
            "resource_limits": {"max_number_of_training_jobs": 2, "max_parallel_training_jobs": 1},
        },
    )
    body = otlp_json(
        json_record("epoch 1: Loss = 0.9;", **{"logmetrics.run": "kept"}),
        json_record("no run named"),
        json_record("Loss = 1;", **{"logmetrics.run": "ended"}),
        json_record("Loss = 2;", **{"logmetrics.run": "ended"}),
        json_record("Loss = 3;", **{"logmetrics.job": "nope", "logmetrics.run": "r"}),
        json_record("Loss = 4;", **{"logmetrics.job": "tuned", "logmetrics.run": "not-started"}),
        json_record("Loss = 5;", **{"logmetrics.run": "Not_A_Name"}),
        **{"logmetrics.job": "otel"},
    )

    response = api.post(
        "/v1/logs",
        content=gzip.compress(httpx.Request("POST", "/", json=body).content),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "partialSuccess": {
            "rejectedLogRecords": "6",
            "errorMessage": "1 record: no logmetrics.run attribute (a non-empty string) on "
            "the record, its scope or its resource; "
            "2 records: run 'ended' of job 'otel', stream 'stdout': run 'ended' has ended "
            "(Completed); it takes no more logs; "
            "1 record: run 'r' of job 'nope': job 'nope' does not exist; "
            "1 record: run 'not-started' of job 'tuned': run 'not-started' does not exist "
            "in job 'tuned'; "
            "1 record: run 'Not_A_Name' of job 'otel': run name 'Not_A_Name' is not 1 to 63 "
            "letters, digits and hyphens, starting and ending with a letter or digit",
        }
    }
    assert [p["value"] for p in points(api, "kept")] == [0.9]
    assert points(api, "ended") == []


def test_every_record_kept_is_an_empty_answer(api, job):
    sent = request(record("Loss = 1;", T0), logmetrics_job="otel", logmetrics_run="r1")

    response = api.post("/v1/logs", content=sent.SerializeToString(), headers=PROTOBUF)
    as_json = api.post(
        "/v1/logs",
        json=otlp_json(
            json_record("Loss = 2;"), **{"logmetrics.job": "otel", "logmetrics.run": "r1"}
        ),
    )

    assert (response.status_code, response.headers["content-type"]) == (
        200,
        "application/x-protobuf",
    )
    assert ExportLogsServiceResponse.FromString(response.content) == ExportLogsServiceResponse()
    assert (as_json.status_code, as_json.json()) == (200, {})
    assert [p["value"] for p in points(api, "r1")] == [1.0, 2.0]


def refusal(response: httpx.Response) -> tuple[int, int, str]:
    assert response.headers["content-type"] == "application/x-protobuf"
    status = Status.FromString(response.content)
    return response.status_code, status.code, status.message


def test_a_body_that_is_not_a_request_is_a_400_status_in_its_encoding(api, job):
    broken = api.post("/v1/logs", content=b"\x0a\xff\xff", headers=PROTOBUF)
    not_json = api.post("/v1/logs", content=b"{", headers={"Content-Type": "application/json"})

    assert refusal(broken)[:2] == (400, 3)
    assert refusal(broken)[2].startswith("the body is not an ExportLogsServiceRequest")
    assert not_json.status_code == 400
    assert not_json.json()["code"] == 3
    assert not_json.json()["message"].startswith("the body is not JSON text")


def test_other_content_types_and_encodings_are_a_415(api, job):
    text = api.post("/v1/logs", content=b"x", headers={"Content-Type": "text/plain"})
    deflated = api.post(
        "/v1/logs", content=b"x", headers={**PROTOBUF, "Content-Encoding": "deflate"}
    )

    assert (text.status_code, text.json()) == (
        415,
        {
            "code": 12,
            "message": "Content-Type 'text/plain' is not OTLP/HTTP's: send "
            "application/x-protobuf or application/json",
        },
    )
    assert refusal(deflated) == (
        415,
        12,
        "Content-Encoding 'deflate' is not supported: send gzip, or nothing",
    )


def test_a_body_above_the_otlp_limit_is_a_413_compressed_or_inflated(start_service):
    service = start_service(max_otlp_bytes=10_000)
    api = service.client
    bomb = gzip.compress(b"\0" * 10_000_000)
    message = (
        "an OTLP request may hold at most 10000 bytes, compressed or not; "
        "send fewer records per request"
    )

    inflated = api.post("/v1/logs", content=bomb, headers={**PROTOBUF, "Content-Encoding": "gzip"})
    large = api.post("/v1/logs", content=b"\0" * 10_001, headers=PROTOBUF)

    assert refusal(inflated) == (413, 8, message)
    assert refusal(large) == (413, 8, message)


def test_tokens_admin_writes_a_run_token_its_own_run_a_read_token_nothing(start_service):
    service = start_service(api_tokens=f"admin:{ADMIN},read:{READER}")
    api = service.client
    admin = {"Authorization": f"Bearer {ADMIN}"}
    job = {"name": "otel", "objective": {"MetricName": "loss", "Type": "Minimize"}}
    created = api.post("/v1/jobs", json={**job, "metric_definitions": DEFINITIONS}, headers=admin)
    assert created.status_code == 201
    tokens = {}
    for run in ("mine", "theirs"):
        created = api.post("/v1/jobs/otel/runs", json={"name": run}, headers=admin)
        tokens[run] = created.json()["ingest_token"]

    def post(token: str | None, at: int = T0) -> httpx.Response:
        sent = request(
            record("Loss = 1;", at, logmetrics_run="mine"),
            record("Loss = 2;", at, logmetrics_run="theirs"),
            record("Loss = 3;", at, logmetrics_run="new-one"),
            logmetrics_job="otel",
        )
        headers = {**PROTOBUF, **({"Authorization": f"Bearer {token}"} if token else {})}
        return api.post("/v1/logs", content=sent.SerializeToString(), headers=headers)

    nobody, reader, wrong = post(None), post(READER), post("lmr_1_forged")
    by_run = post(tokens["mine"])

    assert (nobody.status_code, nobody.json()["error"]) == (401, "unauthenticated")
    assert (wrong.status_code, wrong.json()["error"]) == (401, "unauthenticated")
    assert (reader.status_code, reader.json()["error"]) == (403, "forbidden")
    answer = ExportLogsServiceResponse.FromString(by_run.content).partial_success
    assert (by_run.status_code, answer.rejected_log_records, answer.error_message) == (
        200,
        2,
        "1 record: run 'theirs' of job 'otel': a run token may post only its own run's "
        "records; 1 record: run 'new-one' of job 'otel': a run token may post only its own "
        "run's records",
    )
    by_admin = post(ADMIN, T0 + 10**9)
    assert (by_admin.status_code, by_admin.content) == (200, b"")
    read = {"Authorization": f"Bearer {READER}"}
    series = {
        run: api.get(f"/v1/jobs/otel/runs/{run}/metrics/loss", headers=read).json()["points"]
        for run in ("mine", "theirs", "new-one")
    }
    assert {run: [p["value"] for p in found] for run, found in series.items()} == {
        "mine": [1.0, 1.0],
        "theirs": [2.0],
        "new-one": [3.0],
    }


def post_protobuf(api: httpx.Client, sent: Any) -> httpx.Response:
    response = api.post("/v1/logs", content=sent.SerializeToString(), headers=PROTOBUF)
    assert (response.status_code, response.content) == (200, b""), response.content
    return response


def test_a_retried_request_counts_once(api, job):
    sent = request(
        record("epoch 1: Loss = 0.9;", T0),
        record("epoch 2: Loss = 0.7;", T0 + 2 * 10**9),
        logmetrics_job="otel",
        logmetrics_run="r1",
    )
    later = request(
        record("epoch 3: Loss = 0.5;", T0 + 3 * 10**9), logmetrics_job="otel", logmetrics_run="r1"
    )

    post_protobuf(api, sent)
    post_protobuf(api, sent)  # the answer to the first was lost: the exporter retries
    post_protobuf(api, later)
    post_protobuf(api, sent)  # recognised though other lines came after it

    assert [p["value"] for p in points(api, "r1")] == [0.9, 0.7, 0.5]
    # The same lines at other times are other lines.
    again = request(
        record("epoch 1: Loss = 0.9;", T0 + 4 * 10**9), logmetrics_job="otel", logmetrics_run="r1"
    )
    post_protobuf(api, again)
    assert [p["value"] for p in points(api, "r1")] == [0.9, 0.7, 0.5, 0.9]


def test_two_tries_of_a_request_in_flight_at_once_count_once(service, job):
    records = [record(f"epoch {i}: Loss = {i};", T0 + i * 10**9) for i in range(1, 41)]
    sent = request(*records, logmetrics_job="otel", logmetrics_run="r1").SerializeToString()

    def post() -> int:
        with httpx.Client(base_url=service.url) as client:
            return client.post("/v1/logs", content=sent, headers=PROTOBUF).status_code

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: post(), range(4)))

    assert answers == [200] * 4
    assert [p["value"] for p in points(service.client, "r1")] == [float(i) for i in range(1, 41)]


def test_different_requests_of_the_same_lines_at_once_are_all_stored(service, job):
    # The Collector's otlphttp exporter sends with ten connections at once.
    def post(second: int) -> int:
        sent = request(
            record("epoch Loss = 0.5;", T0 + second * 10**9),
            logmetrics_job="otel",
            logmetrics_run="r1",
        )
        with httpx.Client(base_url=service.url) as client:
            answer = client.post("/v1/logs", content=sent.SerializeToString(), headers=PROTOBUF)
            return answer.status_code

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(post, range(24)))

    assert answers == [200] * 24
    assert [p["value"] for p in points(service.client, "r1")] == [0.5] * 24


def test_records_without_a_time_are_stored_again_when_sent_again(api, job):
    sent = request(record("Loss = 1;"), logmetrics_job="otel", logmetrics_run="r1")

    post_protobuf(api, sent)
    post_protobuf(api, sent)

    assert [p["value"] for p in points(api, "r1")] == [1.0, 1.0]
