"""The service as a child process (`python -m app serve`) on a free local port.

For what runs the service beside itself: `make demo`, the benchmark, and the tests that
kill and restart it.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

__all__ = ["ServiceProcess"]

_START_TIMEOUT = 60.0


class ServiceProcess:
    """One service process at a time on a fixed port, so a restart answers at the same URL."""

    def __init__(
        self, database_url: str, log_path: Path, cwd: Path | None = None, workers: int = 1
    ) -> None:
        """
        Args:
            database_url: the service's `--database-url`.
            log_path: the service's output is appended here.
            cwd: where to start it (default: this process's folder).
            workers: the service's `--workers`.
        """
        self.database_url = database_url
        self.workers = workers
        self.log_path = log_path
        self.cwd = cwd
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, "the service is not running"
        return self.process.pid

    def start(self, environment: Mapping[str, str] | None = None) -> None:
        """Start the service and wait until `/healthz` answers.

        Args:
            environment: the whole environment of the service (default: this process's).

        Raises:
            RuntimeError: the service exited, or did not answer within a minute.
        """
        command = [
            *(sys.executable, "-m", "app", "serve"),
            *("--port", str(self.port), "--database-url", self.database_url),
            *("--log-level", "warning", "--workers", str(self.workers)),
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=self.cwd, env=environment, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service exited at start; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the service did not answer /healthz in {_START_TIMEOUT:.0f} s")

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM (requests in flight finish), then wait; the exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """End it if it runs: gracefully, and by force after 30 s."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.terminate(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
