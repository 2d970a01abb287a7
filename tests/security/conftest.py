"""The service as a real process, which a test can kill and start again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


class ServiceProcess:
    def __init__(self, database_url: str, log: Path) -> None:
        self.database_url = database_url
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, **environment: str) -> None:
        command = [
            sys.executable,
            "-m",
            "app",
            "serve",
            "--port",
            str(self.port),
            "--database-url",
            self.database_url,
            "--log-level",
            "warning",
        ]
        with open(self._log, "ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **environment}
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self._log.read_text()
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise AssertionError("the service did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def terminate(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


@pytest.fixture
def service_process(database_url: str, tmp_path: Path) -> Iterator[ServiceProcess]:
    service = ServiceProcess(database_url, tmp_path / "service.log")
    service.start()
    yield service
    service.stop()
