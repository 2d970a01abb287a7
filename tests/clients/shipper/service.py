"""A service that can be stopped and started again on the same port and database."""

from __future__ import annotations

import socket
import sys
import threading
import time

import uvicorn

from app.config import Settings
from app.main import create_app


class RestartableService:
    def __init__(self, database_url: str) -> None:
        self.settings = Settings(database_url=database_url, sqlite_synchronous="NORMAL")
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, **overrides: object) -> None:
        """Serve on the same port and database, with settings changed by `overrides`."""
        if overrides:
            self.settings = self.settings.model_copy(update=overrides)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        server = uvicorn.Server(uvicorn.Config(create_app(self.settings), log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the service did not start"
            time.sleep(0.01)
        self._server, self._thread = server, thread

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=30)
            self._server = self._thread = None


def logmetrics(*args: str) -> list[str]:
    """The command line of `logmetrics ARGS`, with this interpreter."""
    return [sys.executable, "-m", "app", *args]
