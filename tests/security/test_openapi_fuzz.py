"""Schemathesis against the service's own OpenAPI document, over real HTTP.

Every operation gets requests generated from its schema, valid and not: none may answer
5xx, and every answer must match the documented status codes, content types and body
schemas.
"""

from __future__ import annotations

import tempfile
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.config import Settings
from app.main import create_app
from tests.samples import GAN_LINE
from tests.service import Service

pytestmark = pytest.mark.slow


def _document() -> dict[str, Any]:
    # Read once at collection, from the same factory the live service is built by
    # (schemathesis's lazy fixture loader does not work with pytest 9).
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(Settings(database_url=f"sqlite:///{folder}/openapi.db"))
        try:
            return app.openapi()
        finally:
            app.state.storage.close()


@schemathesis.serializer("application/x-protobuf")
def _protobuf(_context: Any, value: Any) -> bytes:
    # POST /v1/logs takes protobuf (ExportLogsServiceRequest) as bytes: the generated
    # value goes as it is, bytes or their text.
    return value if isinstance(value, bytes) else str(value).encode()


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT)


@pytest.fixture
def served(service: Service) -> Service:
    """The service, holding a job with a run and a log so generated names can hit them."""
    client = service.client
    assert client.get("/openapi.json").json() == DOCUMENT
    job = {
        "name": "gan",
        "objective": {"metric_name": "Loss", "type": "Minimize"},
        "metric_definitions": "gan-example",
    }
    assert client.post("/v1/jobs", json=job).status_code == 201
    run = {"name": "run-1", "hyperparameters": {"lr": 0.1}}
    assert client.post("/v1/jobs/gan/runs", json=run).status_code == 201
    logs = client.post("/v1/jobs/gan/runs/run-1/logs", content=f"{GAN_LINE}\n")
    assert logs.status_code == 200
    return service


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_every_operation_answers_as_documented(case: schemathesis.Case, served: Service) -> None:
    # Not `positive_data_acceptance`: the contract asks more than a JSON Schema can say
    # (an objective names one of the definitions, a preset exists, a regex compiles and
    # has a group), so schema-valid requests may rightly get a 422. Every other check runs.
    case.call_and_validate(base_url=served.url, excluded_checks=[positive_data_acceptance])
