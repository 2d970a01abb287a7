"""`logmetrics demo`: the service and the reference sweep, start to finish."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.cli import timestamped
from app.client import ServiceClient
from app.sweep import format_report, load_spec, run_sweep

__all__ = ["run_demo"]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = ROOT / "trainer" / "sweep.yaml"


def run_demo(spec_path: Path = DEFAULT_SPEC, database_url: str | None = None) -> int:
    """Start the service on a free port, run the sweep against it, report, stop it.

    The job is named after the spec's job and the time, so the demo can run again on
    the same database; its runs stay there for `logmetrics serve` to show.
    """
    spec = load_spec(spec_path)
    database_url = database_url or f"sqlite:///{ROOT / 'data' / 'logmetrics.db'}"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = ROOT / "data" / "demo-service.log"
    log_path.parent.mkdir(exist_ok=True)
    print(f"demo: starting the service at {url} on {database_url}", flush=True)
    with open(log_path, "ab") as log:
        service = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app",
                "serve",
                "--port",
                str(port),
                "--database-url",
                database_url,
                "--log-level",
                "warning",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(url, service)
        job = timestamped(spec.job.name)
        print(f"demo: watch it live at {url}/jobs/{job}", flush=True)
        client = ServiceClient(url)
        try:
            result = run_sweep(client, spec, job_name=job)
        finally:
            client.close()
        print(format_report(result, spec.parameter_ranges.names()), flush=True)
    finally:
        service.terminate()
        service.wait(timeout=60)
    print(
        f"demo: service stopped; job {job} is kept in {database_url}. "
        f"See it again with `make serve` at http://127.0.0.1:8000/jobs/{job}",
        flush=True,
    )
    return 0 if result.best is not None else 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_up(url: str, service: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if service.poll() is not None:
            raise RuntimeError("the service exited at start; see data/demo-service.log")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the service did not answer within a minute")
