"""The storage contract suite: every test here runs once per backend, on a fresh database.

SQLite (a new file in the test's folder) and PostgreSQL (a new database on the
session's throwaway server, tests/postgres.py) both run, in `make test` and in CI.
Another backend is one more entry in `BACKENDS` and a branch in `backend_url`.

The factories `make_job` and `make_run` here shadow the HTTP ones of tests/conftest.py:
in this folder they create records through the storage, never through the service.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from app.records import Job, MetricDefinition, Point, Run, RunStatus, StreamState
from app.storage import JobSpec, Storage, create_storage

from .factories import GAN_DEFINITIONS, chunk

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest, database_url: str) -> str:
    """The URL of an empty database of the backend under test."""
    if request.param == "sqlite":
        return database_url
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def open_backend(backend_url: str) -> Iterator[Callable[..., Storage]]:
    """Open the backend under test with options: `open_backend(rejections_kept=2)`."""
    opened: list[Storage] = []

    def open_(**options: Any) -> Storage:
        # NORMAL as the `storage` fixture: FULL's fsync per commit only slows tests down.
        backend = create_storage(backend_url, sqlite_synchronous="NORMAL", **options)
        opened.append(backend)
        return backend

    yield open_
    for backend in opened:
        backend.close()


@pytest.fixture
def backend(open_backend: Callable[..., Storage]) -> Storage:
    """The backend under test with default options (for SQLite, what `storage` gives)."""
    return open_backend()


@pytest.fixture
def make_job(backend: Storage) -> Callable[..., Job]:
    """Create a job in the backend; by default the GAN example minimizing `loss`."""

    def make(
        name: str = "gan",
        objective_metric: str = "loss",
        objective_type: str = "Minimize",
        strategy: str = "latest",
        definitions: tuple[MetricDefinition, ...] = GAN_DEFINITIONS,
        log_format: str = "text",
        environment: Mapping[str, str] | None = None,
    ) -> Job:
        return backend.create_job(
            JobSpec(
                name=name,
                objective_metric=objective_metric,
                objective_type=objective_type,
                objective_strategy=strategy,
                log_format=log_format,
                metric_definitions=definitions,
                environment=environment or {},
            )
        )

    return make


@pytest.fixture
def make_run(backend: Storage) -> Callable[..., Run]:
    """Create a run of `job`; with `values`, log them as its objective metric's points
    (one chunk, one line each); with `status`, end it so.
    """

    def make(
        job: Job,
        name: str | None = None,
        hyperparameters: Mapping[str, str] | None = None,
        *,
        values: Sequence[float] = (),
        status: RunStatus | None = None,
    ) -> Run:
        run = backend.create_run(job, name, hyperparameters or {})
        if values:
            lines = [f"{job.objective_metric} = {value!r};\n".encode() for value in values]
            offsets = [sum(len(line) for line in lines[:i]) for i in range(len(lines))]
            points = [
                Point(job.objective_metric, value, None, number, offset)
                for number, (value, offset) in enumerate(zip(values, offsets, strict=True), 1)
            ]
            data = b"".join(lines)
            backend.append_chunk(
                job, run, chunk(data, StreamState(next_offset=len(data), lines=len(lines)), points)
            )
        if status is not None:
            return backend.complete_run(job, run, status, None, datetime.now(UTC), ())
        return backend.get_run(job, run.name)

    return make
