"""docker-compose.yml, checked by reading it: no Docker engine runs here.

Every command, port, volume, environment variable and file it names must exist in the
project and agree with the rest of it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from app.cli import build_parser
from app.clients.sweep import load_spec
from app.config import Settings
from app.main import create_app

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def dockerfile(service: str) -> Path:
    build = SERVICES[service]["build"]
    return ROOT / build["context"] / build["dockerfile"]


def test_there_are_the_service_and_the_trainer():
    assert set(SERVICES) == {"logmetrics", "trainer"}


@pytest.mark.parametrize("service", ["logmetrics", "trainer"])
def test_each_image_builds_from_files_that_exist(service):
    path = dockerfile(service)
    assert path.is_file(), path
    text = path.read_text()
    assert re.search(r"^FROM python:3\.11", text, re.M)
    for source in re.findall(r"^COPY (.+) \S+$", text, re.M):
        for name in source.split():
            assert (ROOT / SERVICES[service]["build"]["context"] / name).exists(), name
    # The command the image runs on its own is the compose command's program.
    cmd = re.search(r"^CMD (\[.*\])$", text, re.M)
    assert cmd is not None and yaml.safe_load(cmd.group(1))[0] == "logmetrics"


@pytest.mark.parametrize("service", ["logmetrics", "trainer"])
def test_each_command_is_a_logmetrics_command_line_that_parses(service):
    command = SERVICES[service]["command"]
    assert command[0] in SCRIPTS
    build_parser().parse_args(command[1:])  # exits (fails) on an unknown option


def test_the_service_listens_where_the_port_and_the_healthcheck_point(database_url):
    service = SERVICES["logmetrics"]
    port = option(service["command"], "--port")
    assert option(service["command"], "--host") == "0.0.0.0"
    assert [p.split(":")[1] for p in service["ports"]] == [port]
    probe = " ".join(service["healthcheck"]["test"])
    url = urlparse(re.search(r"http://[^']+", probe).group())
    assert (url.port, url.path) == (int(port), "/healthz")
    app = create_app(Settings(database_url=database_url))
    assert "/healthz" in app.openapi()["paths"]
    app.state.storage.close()


def test_the_database_lives_on_the_named_volume():
    service = SERVICES["logmetrics"]
    volume, mount = service["volumes"][0].split(":")
    assert volume in COMPOSE["volumes"]
    database = service["environment"]["LOGMETRICS_DATABASE_URL"]
    assert database.startswith("sqlite:///")
    assert Path(database.removeprefix("sqlite:///")).parent == Path(mount)


def test_every_environment_variable_is_one_the_code_reads():
    settings = {f"LOGMETRICS_{name.upper()}" for name in Settings.model_fields}
    client = {"LOGMETRICS_URL"}  # read by `logmetrics run` and `logmetrics sweep`
    assert "LOGMETRICS_URL" in (ROOT / "app" / "cli" / "options.py").read_text()
    for service in SERVICES.values():
        for name in service.get("environment", {}):
            assert name in settings | client, name


def test_the_trainer_starts_once_the_service_is_healthy_and_points_at_it():
    trainer = SERVICES["trainer"]
    assert trainer["depends_on"] == {"logmetrics": {"condition": "service_healthy"}}
    url = urlparse(option(trainer["command"], "--url"))
    assert url.hostname in SERVICES
    assert str(url.port) == option(SERVICES["logmetrics"]["command"], "--port")
    assert trainer["environment"]["LOGMETRICS_URL"] == option(trainer["command"], "--url")


def test_the_trainers_sweep_spec_exists_and_runs_the_trainer():
    spec_path = option(SERVICES["trainer"]["command"], "sweep")
    spec = load_spec(ROOT / spec_path)
    assert spec.search.command[:3] == ["python", "-m", "trainer"]
    assert "trainer" in (dockerfile("trainer").read_text())


POSTGRES_FILE = yaml.safe_load((ROOT / "docker-compose.postgres.yml").read_text())
PASSWORD = "${LOGMETRICS_DB_PASSWORD:?set LOGMETRICS_DB_PASSWORD}"


def test_the_postgres_file_adds_a_healthy_database_the_service_waits_for():
    postgres = POSTGRES_FILE["services"]["postgres"]
    service = POSTGRES_FILE["services"]["logmetrics"]
    assert postgres["image"].startswith("postgres:")
    assert postgres["environment"]["POSTGRES_PASSWORD"] == PASSWORD  # never in the file
    volume, mount = postgres["volumes"][0].split(":")
    assert volume in POSTGRES_FILE["volumes"] and mount == "/var/lib/postgresql/data"
    probe = postgres["healthcheck"]["test"][1]
    assert probe == (
        f"pg_isready -U {postgres['environment']['POSTGRES_USER']} "
        f"-d {postgres['environment']['POSTGRES_DB']}"
    )
    assert service["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_the_service_runs_two_workers_on_that_database():
    postgres = POSTGRES_FILE["services"]["postgres"]["environment"]
    service = POSTGRES_FILE["services"]["logmetrics"]
    assert service["command"][0] in SCRIPTS
    args = build_parser().parse_args(service["command"][1:])
    assert (args.workers, args.host, args.port) == (2, "0.0.0.0", 8000)
    text = service["environment"]["LOGMETRICS_DATABASE_URL"]
    assert PASSWORD in text  # docker compose fills it in from the environment
    url = urlparse(text.replace(PASSWORD, "from-the-environment"))
    assert url.scheme == "postgresql+psycopg"  # the driver pyproject.toml installs
    assert (url.hostname, url.port) == ("postgres", 5432)
    assert (url.username, url.path.lstrip("/")) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_DB"],
    )
    assert url.password == "from-the-environment"
    assert "psycopg" in (ROOT / "pyproject.toml").read_text()
    for name in service["environment"]:
        assert f"{name.removeprefix('LOGMETRICS_').lower()}" in Settings.model_fields
