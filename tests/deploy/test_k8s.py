"""deploy/k8s, checked by reading it: no cluster runs here.

Every manifest validates strictly (no unknown field) against Kubernetes' own OpenAPI
schemas, offline (kubernetes-validate), for 1.31 and for the newest release the package
carries; each kustomization lists exactly the files beside it; and what the manifests say
agrees with the code they run: the commands parse, the ports, probes, settings, secrets
and the Collector's route are the service's own.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

from app.cli import build_parser
from app.config import Settings
from app.main import create_app

ROOT = Path(__file__).resolve().parent.parent.parent
K8S = ROOT / "deploy" / "k8s"
# An older release clusters still run, and the newest the package carries: a field
# removed or renamed between them fails one of the two.
VERSIONS = ("1.31", latest_version())
KUSTOMIZATIONS = sorted(K8S.rglob("kustomization.yaml"))
SECRET = "logmetrics"  # the secretGenerator's name in base/kustomization.yaml
# Names of environment variables whose value is a secret wherever they are set.
SECRET_NAME = re.compile(r"TOKEN|PASSWORD|SECRET|CREDENTIALS|DATABASE_URL")


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def listed(kustomization: Path) -> tuple[set[str], set[str]]:
    """(the manifests a kustomization lists, the files its generators read)."""
    spec = load(kustomization)
    folder = kustomization.parent
    resources = {r for r in spec.get("resources", []) if (folder / r).is_file()}
    generated = set()
    for generator in spec.get("configMapGenerator", []) + spec.get("secretGenerator", []):
        generated |= {entry.rpartition("=")[2] for entry in generator.get("files", [])}
        generated |= set(generator.get("envs", []))
    return resources, generated


def manifest_files() -> list[Path]:
    return sorted(
        k.parent / name for k in KUSTOMIZATIONS for name in listed(k)[0] if name.endswith(".yaml")
    )


def documents() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in manifest_files():
        for document in yaml.safe_load_all(path.read_text()):
            yield (
                f"{path.relative_to(K8S)}:{document['kind']}/{document['metadata']['name']}",
                document,
            )


DOCUMENTS = dict(documents())


def workload(kind: str, name: str) -> dict[str, Any]:
    return next(d for d in DOCUMENTS.values() if (d["kind"], d["metadata"]["name"]) == (kind, name))


def pod(kind: str, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = workload(kind, name)["spec"]["template"]["spec"]
    return spec


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return list(spec.get("initContainers", [])) + list(spec["containers"])


def env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container.get("env", [])}


def pods() -> Iterator[tuple[str, dict[str, Any]]]:
    for where, document in DOCUMENTS.items():
        if "template" in document.get("spec", {}):
            yield where, document["spec"]["template"]["spec"]


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


# --- Kubernetes' schemas -----------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("where", sorted(DOCUMENTS))
def test_every_manifest_validates_against_kubernetes_schemas(where, version):
    assert schema_error(DOCUMENTS[where], version) is None


def schema_error(document: dict[str, Any], version: str) -> str | None:
    """Where and why `document` is not valid on Kubernetes `version`; None if it is."""
    try:
        kubernetes_validate.validate(document, version, strict=True)
    except kubernetes_validate.ValidationError as exc:  # its own text holds the schema
        at = ".".join(str(part) for part in exc.absolute_path)
        return f"{document['kind']}, Kubernetes {exc.version}, at {at}: {exc.message}"
    return None


def _misspelt(d: dict[str, Any]) -> None:
    probe = d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    probe["httpGet"]["paht"] = probe["httpGet"].pop("path")


def _quoted(d: dict[str, Any]) -> None:
    d["spec"]["replicas"] = "2"


def _nameless(d: dict[str, Any]) -> None:
    del d["spec"]["template"]["spec"]["containers"][0]["name"]


@pytest.mark.parametrize(
    ("breaking", "expected"),
    [
        (
            _misspelt,
            "Deployment, Kubernetes 1.31, at spec.template.spec.containers.0.readinessProbe"
            ".httpGet: Additional properties are not allowed ('paht' was unexpected)",
        ),
        (
            _quoted,
            "Deployment, Kubernetes 1.31, at spec.replicas: '2' is not of type 'integer', 'null'",
        ),
        (
            _nameless,
            "Deployment, Kubernetes 1.31, at spec.template.spec.containers.0: "
            "'name' is a required property",
        ),
    ],
)
def test_a_broken_manifest_is_refused(breaking, expected):
    broken = copy.deepcopy(workload("Deployment", "logmetrics"))
    breaking(broken)
    assert schema_error(broken, VERSIONS[0]) == expected


# --- kustomize ---------------------------------------------------------------------


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS, ids=lambda k: str(k.relative_to(K8S)))
def test_each_kustomization_lists_every_file_beside_it_and_no_other(kustomization):
    folder = kustomization.parent
    spec = load(kustomization)
    resources, generated = listed(kustomization)
    for entry in spec.get("resources", []) + spec.get("components", []):
        assert (folder / entry).exists(), entry
    for env_file in {g for g in generated if g.endswith(".env")}:
        # The operator's secrets: never in the repository, their keys in an example.
        assert env_file in (folder / ".gitignore").read_text().split()
        assert (folder / f"{env_file}.example").is_file()
        generated.discard(env_file)
    for entry in generated:
        assert (folder / entry).is_file(), entry
    beside = {
        p.name for p in folder.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml", ".json")
    }
    assert beside - {"kustomization.yaml"} == resources | generated


def test_the_whole_is_the_service_and_its_two_components():
    spec = load(K8S / "kustomization.yaml")
    assert spec["resources"] == ["base"]
    assert spec["components"] == ["gpu-workers", "pod-logs"]
    for component in spec["components"]:
        assert load(K8S / component / "kustomization.yaml")["kind"] == "Component"
    # Every image of ours can be pointed at a registry there.
    ours = {c["image"] for _, spec in pods() for c in containers(spec) if ":" not in c["image"]}
    assert ours == {"logmetrics", "logmetrics-trainer"}
    assert {image["name"] for image in spec["images"]} == ours


def test_the_secret_keys_read_are_those_the_example_lists():
    example = (K8S / "base" / "secrets.env.example").read_text().splitlines()
    keys = {line.split("=")[0] for line in example if line and not line.startswith("#")}
    read = {
        item["valueFrom"]["secretKeyRef"]["key"]
        for _, spec in pods()
        for c in containers(spec)
        for item in c.get("env", [])
        if "secretKeyRef" in item.get("valueFrom", {})
    }
    assert read == keys
    assert load(K8S / "base" / "kustomization.yaml")["secretGenerator"][0]["name"] == SECRET


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (kustomize) not installed")
def test_kustomize_builds_the_whole_in_its_namespace_with_one_secret(tmp_path):
    copy_of = tmp_path / "k8s"
    shutil.copytree(K8S, copy_of)
    (copy_of / "base" / "secrets.env").write_text(
        "postgres-password=pw\ndatabase-url=postgresql+psycopg://logmetrics:pw@postgres/logmetrics\n"
        "admin-token=admin-0123456789abcdef\nread-token=read-0123456789abcdef\n"
    )
    built = subprocess.run(
        ["kubectl", "kustomize", str(copy_of)], capture_output=True, text=True, check=True
    ).stdout
    resources = list(yaml.safe_load_all(built))
    secrets = [r["metadata"]["name"] for r in resources if r["kind"] == "Secret"]
    assert secrets == [SECRET]  # no hash: users' own Jobs name it too
    assert len(resources) == len(DOCUMENTS) + 2  # and the Collector's ConfigMap
    for resource in resources:
        assert schema_error(resource, VERSIONS[-1]) is None
        if resource["kind"] not in ("ClusterRole", "ClusterRoleBinding", "Namespace"):
            assert resource["metadata"]["namespace"] == "logmetrics"
    refs = re.findall(r"secretKeyRef:\n\s+key: \S+\n\s+name: (\S+)", built)
    assert refs and set(refs) == set(secrets)
    # The Collector's ConfigMap is named by its content's hash, and its DaemonSet says so.
    (config,) = [r for r in resources if r["kind"] == "ConfigMap"]
    assert re.fullmatch(r"otel-collector-[a-z0-9]{10}", config["metadata"]["name"])
    assert yaml.safe_load(config["data"]["config.yaml"]) == COLLECTOR
    (daemonset,) = [r for r in resources if r["kind"] == "DaemonSet"]
    volumes = daemonset["spec"]["template"]["spec"]["volumes"]
    assert {"name": "config", "configMap": {"name": config["metadata"]["name"]}} in volumes


# --- secrets -----------------------------------------------------------------------


def test_no_workload_holds_a_secret():
    assert not [w for w, d in DOCUMENTS.items() if d["kind"] == "Secret"]
    for where, spec in pods():
        for container in containers(spec):
            assert "envFrom" not in container
            variables = env(container)
            from_secret = {
                n for n, v in variables.items() if "secretKeyRef" in v.get("valueFrom", {})
            }
            for name, item in variables.items():
                if not SECRET_NAME.search(name) or name in from_secret:
                    continue
                # Only made of secret references: admin:$(ADMIN_TOKEN),read:$(READ_TOKEN)
                value = item["value"]
                assert set(re.findall(r"\$\((\w+)\)", value)) <= from_secret, (where, name)
                assert re.fullmatch(r"[a-z:,]*", re.sub(r"\$\(\w+\)", "", value)), (where, name)


def test_the_service_takes_both_tokens_from_the_secret():
    variables = env(pod("Deployment", "logmetrics")["containers"][0])
    assert variables["LOGMETRICS_API_TOKENS"]["value"] == "admin:$(ADMIN_TOKEN),read:$(READ_TOKEN)"
    for name, key in (("ADMIN_TOKEN", "admin-token"), ("READ_TOKEN", "read-token")):
        assert variables[name]["valueFrom"]["secretKeyRef"] == {"name": SECRET, "key": key}
    # Declared before use: Kubernetes expands $(NAME) only of variables above it.
    names = list(variables)
    assert names.index("ADMIN_TOKEN") < names.index("LOGMETRICS_API_TOKENS")
    assert names.index("READ_TOKEN") < names.index("LOGMETRICS_API_TOKENS")
    aws = variables["LOGMETRICS_AWS_CREDENTIALS"]["valueFrom"]["secretKeyRef"]
    assert aws == {"name": SECRET, "key": "aws-credentials", "optional": True}


# --- the service -------------------------------------------------------------------


def test_the_service_runs_two_replicas_of_the_image_and_command_the_dockerfile_builds():
    deployment = workload("Deployment", "logmetrics")
    assert deployment["spec"]["replicas"] == 2
    container = pod("Deployment", "logmetrics")["containers"][0]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "builds it as `logmetrics`" in dockerfile and container["image"] == "logmetrics"
    cmd = yaml.safe_load(re.search(r"^CMD (\[.*\])$", dockerfile, re.M).group(1))
    assert container["command"] == cmd  # the image's own command, said out loud
    args = build_parser().parse_args(container["command"][1:])
    assert (args.host, args.port, args.workers) == ("0.0.0.0", 8000, 1)
    assert re.search(rf"^EXPOSE {args.port}$", dockerfile, re.M)
    assert container["ports"] == [{"name": "http", "containerPort": args.port}]


def test_the_service_is_probed_on_healthz_and_reached_on_its_port(database_url):
    container = pod("Deployment", "logmetrics")["containers"][0]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    service = workload("Service", "logmetrics")
    assert service["spec"]["ports"] == [{"name": "http", "port": 8000, "targetPort": "http"}]
    assert (
        service["spec"]["selector"]
        == workload("Deployment", "logmetrics")["spec"]["selector"]["matchLabels"]
    )
    app = create_app(Settings(database_url=database_url))
    paths = app.openapi()["paths"]
    app.state.storage.close()
    assert "get" in paths["/healthz"]
    assert "post" in paths["/v1/logs"]  # the Collector's route (below)


def test_the_schema_is_migrated_before_the_server_starts_and_by_it_never():
    spec = pod("Deployment", "logmetrics")
    (migrate,) = spec["initContainers"]
    (server,) = spec["containers"]
    assert migrate["image"] == server["image"]
    args = build_parser().parse_args(migrate["command"][1:])
    assert (args.command, args.db_command) == ("db", "upgrade")
    url = env(server)["LOGMETRICS_DATABASE_URL"]
    assert env(migrate)["LOGMETRICS_DATABASE_URL"] == url
    assert url["valueFrom"]["secretKeyRef"] == {"name": SECRET, "key": "database-url"}
    auto = env(server)["LOGMETRICS_AUTO_UPGRADE"]["value"]
    assert Settings(database_url="sqlite://", auto_upgrade=auto).auto_upgrade is False


def test_every_logmetrics_variable_is_one_the_code_reads():
    settings = {f"LOGMETRICS_{name.upper()}" for name in Settings.model_fields}
    client = {"LOGMETRICS_TOKEN"}  # read by the CLI's commands (app/cli/options.py)
    assert "LOGMETRICS_TOKEN" in (ROOT / "app" / "cli" / "options.py").read_text()
    for name, spec in (("Deployment", "logmetrics"), ("StatefulSet", "postgres")):
        for container in containers(pod(name, spec)):
            assert {n for n in env(container) if n.startswith("LOGMETRICS_")} <= settings
    for kind, name in (("Deployment", "logmetrics-worker"), ("DaemonSet", "otel-collector")):
        (container,) = pod(kind, name)["containers"]
        assert {n for n in env(container) if n.startswith("LOGMETRICS_")} == client


def test_postgres_keeps_its_data_on_a_claim_and_is_where_the_url_points():
    statefulset = workload("StatefulSet", "postgres")
    (claim,) = statefulset["spec"]["volumeClaimTemplates"]
    (container,) = pod("StatefulSet", "postgres")["containers"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    variables = env(container)
    assert Path(variables["PGDATA"]["value"]).parent == Path(mounts[claim["metadata"]["name"]])
    assert variables["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": SECRET,
        "key": "postgres-password",
    }
    example = (K8S / "base" / "secrets.env.example").read_text()
    url = urlparse(re.search(r"database-url=(\S+)", example).group(1))
    service = workload("Service", "postgres")
    assert url.scheme == "postgresql+psycopg"
    assert (url.hostname, url.port) == (
        service["metadata"]["name"],
        service["spec"]["ports"][0]["port"],
    )
    assert (url.username, url.path) == (variables["POSTGRES_USER"]["value"], "/logmetrics")
    assert variables["POSTGRES_DB"]["value"] == "logmetrics"
    assert statefulset["spec"]["serviceName"] == "postgres"


# --- the workers -------------------------------------------------------------------


def test_the_worker_requests_a_gpu_and_passes_it_on_with_gpus_all():
    (container,) = pod("Deployment", "logmetrics-worker")["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] >= 1
    command = container["command"]
    assert command[:2] == ["logmetrics", "worker"]
    assert option(command, "--gpus") == "all"
    build_parser().parse_args(command[1:])  # exits (fails) on an unknown option
    url = urlparse(option(command, "--url"))
    service = workload("Service", "logmetrics")
    assert (url.hostname, url.port) == (
        service["metadata"]["name"],
        service["spec"]["ports"][0]["port"],
    )
    assert env(container)["LOGMETRICS_TOKEN"]["valueFrom"]["secretKeyRef"] == {
        "name": SECRET,
        "key": "admin-token",
    }
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert option(command, "--cache-dir") in mounts and "/tmp" in mounts
    # The trainer's image has the logmetrics command.
    assert re.search(r"^COPY app ", (ROOT / "trainer" / "Dockerfile").read_text(), re.M)


# --- every pod ---------------------------------------------------------------------


@pytest.mark.parametrize("where", sorted(w for w, _ in pods()))
def test_every_container_is_unprivileged_and_bounded(where):
    spec = dict(pods())[where]
    if "otel-collector" in where:
        # The one exception: the node's pod logs are root's to read.
        assert spec["securityContext"]["runAsUser"] == 0
    else:
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] > 0
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in containers(spec):
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][bound])


# --- the Collector -----------------------------------------------------------------

COLLECTOR = load(K8S / "pod-logs" / "otel-collector.yaml")


def test_the_collectors_pipeline_names_only_pieces_it_defines_and_uses_them_all():
    service = COLLECTOR["service"]
    (pipeline,) = service["pipelines"].values()
    assert list(service["pipelines"]) == ["logs"]
    for section in ("receivers", "processors", "exporters"):
        assert pipeline[section] and set(pipeline[section]) == set(COLLECTOR[section]), section
        for name in pipeline[section]:  # type/name: the type comes from the distribution
            assert name.split("/")[0] in {
                "filelog",
                "memory_limiter",
                "k8sattributes",
                "filter",
                "transform",
                "batch",
                "otlphttp",
            }
    assert set(service["extensions"]) == set(COLLECTOR["extensions"])
    # Storage named by the receiver and the exporter's queue is an extension it runs.
    assert COLLECTOR["receivers"]["filelog"]["storage"] in service["extensions"]
    exporter = COLLECTOR["exporters"]["otlphttp/logmetrics"]
    assert exporter["sending_queue"]["storage"] in service["extensions"]
    # The memory limiter goes first, the batch last, as the Collector's docs ask.
    assert pipeline["processors"][0] == "memory_limiter"
    assert pipeline["processors"][-1] == "batch"


def test_the_collector_sends_labelled_pods_logs_to_the_services_otlp_route():
    exporter = COLLECTOR["exporters"]["otlphttp/logmetrics"]
    url = urlparse(exporter["logs_endpoint"])
    service = workload("Service", "logmetrics")
    assert (url.hostname, url.port) == (
        service["metadata"]["name"],
        service["spec"]["ports"][0]["port"],
    )
    assert url.path == "/v1/logs"  # the route test_the_service_is_probed_... finds in the app
    assert exporter["headers"] == {"Authorization": "Bearer ${env:LOGMETRICS_TOKEN}"}
    labels = COLLECTOR["processors"]["k8sattributes"]["extract"]["labels"]
    assert {(label["key"], label["tag_name"]) for label in labels} == {
        ("logmetrics.io/job", "logmetrics.job"),
        ("logmetrics.io/run", "logmetrics.run"),
    }
    (dropped,) = COLLECTOR["processors"]["filter/unlabelled"]["logs"]["log_record"]
    assert dropped == 'resource.attributes["logmetrics.job"] == nil'


def test_the_daemonset_gives_the_collector_its_config_logs_storage_and_token():
    spec = pod("DaemonSet", "otel-collector")
    (container,) = spec["containers"]
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert set(mounts) == set(volumes)
    generator = load(K8S / "pod-logs" / "kustomization.yaml")["configMapGenerator"][0]
    assert volumes["config"]["configMap"]["name"] == generator["name"]
    key = generator["files"][0].partition("=")[0]
    assert container["args"] == [f"--config={mounts['config']['mountPath']}/{key}"]
    assert volumes["pod-logs"]["hostPath"]["path"] == "/var/log/pods"
    assert mounts["pod-logs"]["readOnly"] is True
    assert COLLECTOR["receivers"]["filelog"]["include"] == ["/var/log/pods/*/*/*.log"]
    offsets = COLLECTOR["extensions"]["file_storage"]["directory"]
    assert mounts["offsets"]["mountPath"] == offsets == volumes["offsets"]["hostPath"]["path"]
    variables = env(container)
    assert variables["LOGMETRICS_TOKEN"]["valueFrom"]["secretKeyRef"] == {
        "name": SECRET,
        "key": "admin-token",
    }
    node = COLLECTOR["processors"]["k8sattributes"]["filter"]["node_from_env_var"]
    assert variables[node]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    assert (
        spec["serviceAccountName"]
        == workload("ServiceAccount", "otel-collector")["metadata"]["name"]
    )
