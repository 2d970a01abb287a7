"""deploy/k8s's service pod and Collector, run here as Kubernetes would start them.

The init container's command migrates an empty database; the server starts on it with
the container's own settings (access control from the Secret's two tokens, no migration
of its own); and a labelled pod's lines, as the Collector's pipeline hands them to its
`otlphttp` exporter, land in the run and streams the labels name.
"""

from __future__ import annotations

import gzip
import re
from typing import Any
from urllib.parse import urlparse

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

from app.cli import main
from app.config import Settings
from app.main import create_app
from app.storage.migrations import OutOfDate
from tests.deploy.test_k8s import COLLECTOR, env, pod
from tests.otlp.messages import record, request

SECRETS = {
    "database-url": "replaced by the test's database",
    "admin-token": "admin-0123456789abcdef",
    "read-token": "read-0123456789abcdef",
}
T0 = 1_765_000_000_000_000_000  # 2025-12-06T05:46:40Z


def resolved(container: dict[str, Any]) -> dict[str, str]:
    """The container's environment as the kubelet makes it: secretKeyRef read from
    SECRETS (an optional key that is not there is no variable), then $(NAME) expanded
    from the variables above."""
    values: dict[str, str] = {}
    for name, item in env(container).items():
        if "value" in item:
            values[name] = re.sub(r"\$\((\w+)\)", lambda m: values[m.group(1)], item["value"])
        elif "secretKeyRef" in item.get("valueFrom", {}):
            ref = item["valueFrom"]["secretKeyRef"]
            if ref["key"] in SECRETS:
                values[name] = SECRETS[ref["key"]]
            else:
                assert ref.get("optional") is True, name
    return values


def settings_of(container: dict[str, Any], database_url: str) -> dict[str, Any]:
    prefix = "LOGMETRICS_"
    fields = {
        name.removeprefix(prefix).lower(): value
        for name, value in resolved(container).items()
        if name.startswith(prefix)
    }
    return {**fields, "database_url": database_url}


@pytest.fixture
def migrated(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test's database, migrated by the init container's own command."""
    (migrate,) = pod("Deployment", "logmetrics")["initContainers"]
    monkeypatch.setenv("LOGMETRICS_DATABASE_URL", database_url)
    assert main(migrate["command"][1:]) == 0
    monkeypatch.delenv("LOGMETRICS_DATABASE_URL")
    return database_url


def test_the_server_refuses_a_database_the_init_container_has_not_migrated(database_url):
    (server,) = pod("Deployment", "logmetrics")["containers"]
    settings = Settings(**settings_of(server, database_url))
    assert settings.auto_upgrade is False
    with pytest.raises(OutOfDate, match="run `logmetrics db upgrade`"):
        create_app(settings)


def test_a_labelled_pods_lines_reach_its_run_through_the_collectors_request(
    migrated, start_service
):
    (server,) = pod("Deployment", "logmetrics")["containers"]
    service = start_service(**settings_of(server, migrated))
    admin = {"Authorization": f"Bearer {SECRETS['admin-token']}"}
    api = service.client
    assert api.get("/v1/jobs").status_code == 401  # access control is on
    job = {
        "name": "resnet-sweep",
        "objective": {"MetricName": "loss", "Type": "Minimize"},
        "metric_definitions": [{"Name": "loss", "Regex": "loss=([0-9.]+)"}],
    }
    assert api.post("/v1/jobs", json=job, headers=admin).status_code == 201

    # What filelog's container parser, k8sattributes and transform/run make of a pod
    # labelled logmetrics.io/job=resnet-sweep and no run label: the run is the pod's name.
    pod_name = "resnet-sweep-lr-0-01-x7k2p"
    sent = request(
        record("epoch=1 loss=0.9", T0, log_iostream="stdout"),
        record("warning: slow", T0, log_iostream="stderr"),
        record("epoch=2 loss=0.5", T0 + 10**9, log_iostream="stdout"),
        k8s_namespace_name="training",
        k8s_pod_name=pod_name,
        k8s_pod_uid="0b5c2a9e-3b2f-4c47-9d7e-2f8a1c6d4e11",
        k8s_container_name="trainer",
        k8s_container_restart_count="0",
        logmetrics_job="resnet-sweep",
        logmetrics_run=pod_name,
    )
    exporter = COLLECTOR["exporters"]["otlphttp/logmetrics"]
    (collector,) = pod("DaemonSet", "otel-collector")["containers"]
    collector_env = resolved(collector)
    headers = {
        name: re.sub(r"\$\{env:(\w+)\}", lambda m: collector_env[m.group(1)], value)
        for name, value in exporter["headers"].items()
    }
    assert exporter["encoding"] == "proto" and exporter["compression"] == "gzip"
    answer = api.post(
        urlparse(exporter["logs_endpoint"]).path,
        content=gzip.compress(sent.SerializeToString()),
        headers={
            **headers,
            "Content-Type": "application/x-protobuf",
            "Content-Encoding": "gzip",
        },
    )

    assert answer.status_code == 200, answer.text
    assert not ExportLogsServiceResponse.FromString(answer.content).HasField("partial_success")
    run = f"/v1/jobs/resnet-sweep/runs/{pod_name}"

    def log(stream: str) -> bytes:
        response = api.get(f"{run}/logs", params={"stream": stream}, headers=admin)
        assert response.status_code == 200, response.text
        return response.content

    assert log("stdout") == b"epoch=1 loss=0.9\nepoch=2 loss=0.5\n"
    assert log("stderr") == b"warning: slow\n"
    points = api.get(f"{run}/metrics/loss", headers=admin).json()["points"]
    assert [p["value"] for p in points] == [0.9, 0.5]
