"""Hostile input to every write and read, against the service as a real process: no
answer is a 5xx, and the process is alive at the end (issue 10, "never a 5xx").

Values mix what broke the service before: lone surrogates and NUL in every string,
integers past 64 bits, timestamps outside any calendar, regexes that expand to
gigabytes or backtrack for ages, names made of dots, forged tokens.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.clients.service_process import ServiceProcess

pytestmark = pytest.mark.slow

HOSTILE_TEXT = st.one_of(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=20),  # surrogates too
    st.sampled_from(
        [
            "\ud800",
            "a\x00b",
            "..",
            ".",
            "((?:ab|cd){1000000})",
            "(a|aa)+$",
            "(a{100000000})",
            "lmr_99999999999999999999999_x",
            "Loss = (.*?);",
            "",
            " " * 300,
        ]
    ),
)
HOSTILE_NUMBER = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30), st.floats(allow_nan=False)
)
VALUE = st.one_of(HOSTILE_TEXT, HOSTILE_NUMBER, st.booleans(), st.none())
TIMESTAMP = st.one_of(
    HOSTILE_TEXT,
    st.sampled_from(
        ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1e300", "-1e20", "nan"]
    ),
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
)


@pytest.fixture(scope="module")
def process(tmp_path_factory: pytest.TempPathFactory):
    folder: Path = tmp_path_factory.mktemp("fuzz")
    service = ServiceProcess(f"sqlite:///{folder / 'fuzz.db'}", folder / "service.log")
    service.start()
    with httpx.Client(base_url=service.url, timeout=120) as client:
        job = {
            "name": "gan",
            "objective": {"MetricName": "loss", "Type": "Minimize"},
            "metric_definitions": [{"Name": "loss", "Regex": "Loss = (.*?);"}],
        }
        assert client.post("/v1/jobs", json=job).status_code == 201
        assert client.post("/v1/jobs/gan/runs", json={"name": "run-1"}).status_code == 201
    yield service
    alive = service.process is not None and service.process.poll() is None
    service.stop()
    assert alive, "the service died"


def send(client: httpx.Client, method: str, path: str, body: object = None, **kwargs):
    content = None if body is None else json.dumps(body).encode()  # \\ud800 as JSON escapes
    headers = {"Content-Type": "application/json"} if content is not None else {}
    headers.update(kwargs.pop("headers", {}))
    answer = client.request(method, path, content=content, headers=headers, **kwargs)
    assert answer.status_code < 500, (method, path, body, answer.text)
    return answer


FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(
    name=HOSTILE_TEXT,
    metric=HOSTILE_TEXT,
    regex=HOSTILE_TEXT,
    environment=st.dictionaries(HOSTILE_TEXT, VALUE, max_size=3),
    log=HOSTILE_TEXT,
)
def test_jobs_and_dry_runs(process, name, metric, regex, environment, log):
    with httpx.Client(base_url=process.url, timeout=120) as client:
        definitions = [{"Name": metric, "Regex": regex}]
        send(
            client,
            "POST",
            "/v1/jobs",
            {
                "name": name,
                "objective": {"MetricName": metric, "Type": "Maximize"},
                "metric_definitions": definitions,
                "environment": environment,
            },
        )
        send(client, "POST", "/v1/parse", {"metric_definitions": definitions, "log": log})
        send(client, "GET", "/v1/jobs")


@FUZZ
@given(
    run=HOSTILE_TEXT,
    hyperparameters=st.dictionaries(HOSTILE_TEXT, VALUE, max_size=3),
    stream=HOSTILE_TEXT,
    offset=st.one_of(st.none(), st.integers(min_value=-5, max_value=10**30)),
    timestamp=st.one_of(st.none(), TIMESTAMP),
    data=st.binary(max_size=200),
    reason=st.one_of(st.none(), HOSTILE_TEXT),
    token=HOSTILE_TEXT,
)
def test_runs_logs_and_reads(
    process, run, hyperparameters, stream, offset, timestamp, data, reason, token
):
    with httpx.Client(base_url=process.url, timeout=120) as client:
        send(client, "POST", "/v1/jobs/gan/runs", {"name": run, "hyperparameters": hyperparameters})
        params = {"stream": stream, "offset": offset, "timestamp": timestamp}
        query = "&".join(
            f"{key}={quote(str(value).encode('utf-8', 'surrogatepass'))}"
            for key, value in params.items()
            if value is not None
        )
        answer = client.post(f"/v1/jobs/gan/runs/run-1/logs?{query}", content=data)
        assert answer.status_code < 500, (query, data, answer.text)
        path_name = quote(run.encode("utf-8", "surrogatepass"), safe="")
        # What a header can carry at all: visible Latin-1 (h11 refuses the rest).
        bearer = "".join(c for c in token if "!" <= c <= "~" or "\xa0" <= c <= "\xff")
        for path in [
            f"/v1/jobs/gan/runs/{path_name}",
            "/v1/jobs/gan/runs/run-1",
            "/v1/jobs/gan/runs?sort_by=objective",
            "/v1/jobs/gan/best",
            "/jobs/gan",
        ]:
            send(
                client,
                "GET",
                path,
                headers={"Authorization": f"Bearer {bearer or 'x'}".encode("latin-1")},
            )
        if reason is not None:
            send(
                client,
                "POST",
                "/v1/jobs/gan/runs/run-2/complete",
                {"status": "Failed", "failure_reason": reason},
            )
