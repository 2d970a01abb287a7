"""`logmetrics demo`: the service and the reference sweep, start to finish."""

from __future__ import annotations

from pathlib import Path

from app.clients.client import ServiceClient
from app.clients.service_process import ServiceProcess
from app.clients.sweep import Sweep, format_report, load_spec, timestamped

__all__ = ["run_demo"]

ROOT = Path(__file__).resolve().parents[2]  # the checkout: app/clients/demo.py
DEFAULT_SPEC = ROOT / "trainer" / "sweep.yaml"


def run_demo(spec_path: Path = DEFAULT_SPEC, database_url: str | None = None) -> int:
    """Start the service on a free port, run the sweep against it, report, stop it.

    The job is named after the spec's job and the time, so the demo can run again on
    the same database; its runs stay there for `logmetrics serve` to show.
    """
    spec = load_spec(spec_path)
    database_url = database_url or f"sqlite:///{ROOT / 'data' / 'logmetrics.db'}"
    log_path = ROOT / "data" / "demo-service.log"
    log_path.parent.mkdir(exist_ok=True)
    service = ServiceProcess(database_url, log_path)
    url = service.url
    print(f"demo: starting the service at {url} on {database_url}", flush=True)
    try:
        service.start()
        job = timestamped(spec.name)
        print(f"demo: watch it live at {url}/jobs/{job}", flush=True)
        client = ServiceClient(url)
        try:
            result = Sweep(client, spec, job_name=job).run()
        finally:
            client.close()
        print(format_report(result, spec.search.parameter_ranges.names()), flush=True)
    finally:
        service.stop()
    print(
        f"demo: service stopped; job {job} is kept in {database_url}. "
        f"See it again with `make serve` at http://127.0.0.1:8000/jobs/{job}",
        flush=True,
    )
    return 0 if result.best is not None else 1
