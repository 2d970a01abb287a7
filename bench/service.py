"""The service under test: `python -m app serve` as a subprocess, and its memory.

Started with the environment's `LOGMETRICS_*` variables removed, so every setting but
the database is the service's default (SQLite with `synchronous=FULL`, scanner `auto`),
and with `--log-level warning`, so that the access log's writes are not what is measured.
Memory is read from /proc: `VmHWM` is the peak resident size since the last reset, and
writing "5" to /proc/PID/clear_refs resets it (Linux 4.0 and later).
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

import httpx

from app.clients.service_process import ServiceProcess

__all__ = ["Service"]

_REPO = Path(__file__).resolve().parent.parent


class Service:
    """A running service on a free local port, stopped on exit from the `with` block."""

    def __init__(self, database: Path, log_path: Path) -> None:
        self.database = database
        self.log_path = log_path
        self._process = ServiceProcess(f"sqlite:///{database}", log_path, cwd=_REPO)
        self.port = self._process.port
        self.url = self._process.url

    def __enter__(self) -> Service:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("LOGMETRICS_")}
        self._process.start(environment)
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._process.stop()

    @property
    def pid(self) -> int:
        return self._process.pid

    def client(self, timeout: float = 600.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)

    # Memory.

    def reset_peak(self) -> None:
        """Start a new peak: VmHWM falls back to the current resident size."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def peak_rss(self) -> int:
        """Bytes: the largest resident size since the last `reset_peak`."""
        return self._status_kib("VmHWM") * 1024

    def cpu_seconds(self) -> float:
        """CPU seconds the service has used so far, user and system (/proc/PID/stat)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        # After the command: state is field 3, utime and stime fields 14 and 15.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss(self) -> int:
        """Bytes resident now."""
        return self._status_kib("VmRSS") * 1024

    def _status_kib(self, field: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise RuntimeError(f"/proc/{self.pid}/status has no {field}")
