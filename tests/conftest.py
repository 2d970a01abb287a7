"""Shared fixtures: a fresh database file per test, a real HTTP service, factories.

The service runs in this process (tests/service.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.storage import SqlStorage
from tests.postgres import PostgresUnavailable, fresh_database, postgres_server
from tests.s3 import S3Server, running_s3
from tests.samples import GAN_DEFINITIONS
from tests.service import Service, running_service


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server, one for the whole session (tests/s3.py)."""
    with running_s3() as server:
        yield server


@pytest.fixture
def s3(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """The S3 server, named in this process's environment as a worker's S3 would be."""
    for key, value in s3_server.environment().items():
        monkeypatch.setenv(key, value)
    return s3_server


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'logmetrics.db'}"


@pytest.fixture
def storage(database_url: str) -> Iterator[SqlStorage]:
    backend = SqlStorage(database_url, sqlite_synchronous="NORMAL")
    yield backend
    backend.close()


@pytest.fixture
def start_service(database_url: str) -> Iterator[Callable[..., Service]]:
    """Start a service with settings overrides: `start_service(max_chunk_bytes=10)`."""
    with ExitStack() as stack:

        def start(**overrides: Any) -> Service:
            settings = Settings(
                **{"database_url": database_url, "sqlite_synchronous": "NORMAL", **overrides}
            )
            return stack.enter_context(running_service(settings))

        yield start


@pytest.fixture
def service(start_service: Callable[..., Service]) -> Service:
    return start_service()


@pytest.fixture
def api(service: Service) -> httpx.Client:
    return service.client


@pytest.fixture
def make_job(api: httpx.Client) -> Callable[..., dict[str, Any]]:
    """Create a job over HTTP; by default the GAN example minimizing `loss`."""

    def make(
        name: str = "gan",
        metric: str = "loss",
        type: str = "Minimize",
        definitions: list[dict[str, str]] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        body = {
            "name": name,
            "objective": {"MetricName": metric, "Type": type, **fields.pop("objective", {})},
            "metric_definitions": GAN_DEFINITIONS if definitions is None else definitions,
            **fields,
        }
        response = api.post("/v1/jobs", json=body)
        assert response.status_code == 201, response.text
        job: dict[str, Any] = response.json()
        return job

    return make


@pytest.fixture
def make_run(api: httpx.Client) -> Callable[..., dict[str, Any]]:
    """Create a run over HTTP, optionally post `log` to stdout and end it with `status`."""

    def make(
        job: str = "gan",
        name: str | None = None,
        hyperparameters: dict[str, Any] | None = None,
        log: str | bytes | None = None,
        status: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"hyperparameters": hyperparameters or {}}
        if name is not None:
            body["name"] = name
        response = api.post(f"/v1/jobs/{job}/runs", json=body)
        assert response.status_code == 201, response.text
        run: dict[str, Any] = response.json()
        if log is not None:
            content = log.encode() if isinstance(log, str) else log
            posted = api.post(f"/v1/jobs/{job}/runs/{run['name']}/logs", content=content)
            assert posted.status_code == 200, posted.text
        if status is not None:
            ended = api.post(f"/v1/jobs/{job}/runs/{run['name']}/complete", json={"status": status})
            assert ended.status_code == 200, ended.text
            run = ended.json()
        return run

    return make


@pytest.fixture
def post_log(api: httpx.Client) -> Callable[..., httpx.Response]:
    """Post raw bytes to a run's stream: `post_log("run-0001", b"...", stream="stderr")`.

    `data` may be an iterable of bytes, which httpx sends with chunked transfer encoding;
    keyword arguments other than `job` are the query (`stream`, `offset`, `timestamp`).
    """

    def post(
        run: str, data: str | bytes | Iterable[bytes], *, job: str = "gan", **params: Any
    ) -> httpx.Response:
        content = data.encode() if isinstance(data, str) else data
        return api.post(f"/v1/jobs/{job}/runs/{run}/logs", params=params, content=content)

    return post


@pytest.fixture
def complete_run(api: httpx.Client) -> Callable[..., httpx.Response]:
    """End a run: `complete_run("run-0001", "Failed", failure_reason="OOM")`."""

    def complete(
        run: str, status: str = "Completed", *, job: str = "gan", **fields: Any
    ) -> httpx.Response:
        return api.post(f"/v1/jobs/{job}/runs/{run}/complete", json={"status": status, **fields})

    return complete


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A throwaway PostgreSQL server for the whole session (see tests/postgres.py).

    Outside CI a machine without PostgreSQL skips its tests; in CI that is an error.
    """
    try:
        with postgres_server() as url:
            yield url
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))


@pytest.fixture
def postgres_url(postgres_server_url: str) -> str:
    """A new, empty PostgreSQL database for this test."""
    return fresh_database(postgres_server_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def service_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database for a service process: a SQLite file, or a PostgreSQL one."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url
