"""The service in this process: `create_app(settings)` served by uvicorn in a thread.

The one way the tests (and `tests/web/readme_screenshot.py`) start a service beside
themselves. What must be killed, signalled or run with several workers runs as a child
process instead, with `app.clients.service_process.ServiceProcess`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from app.config import Settings
from app.main import create_app

__all__ = ["Service", "running_service"]

_START_TIMEOUT = 20.0


class Service:
    """One service at a time on one loopback port, so a restart answers at the same URL.

    The first `start` takes a free port from the kernel by binding it, and every later
    one binds that port again; `client` talks to it across restarts.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._client: httpx.Client | None = None

    @property
    def url(self) -> str:
        assert self.port, "the service has never started"
        return f"http://127.0.0.1:{self.port}"

    @property
    def client(self) -> httpx.Client:
        """A client with the service's URL as its base, from the first start to `close`."""
        assert self._client is not None, "the service has never started, or is closed"
        return self._client

    def start(self, **overrides: Any) -> None:
        """Serve on the port and database it had, with settings changed by `overrides`.

        Raises:
            ValueError: `create_app` refused the settings.
            OSError: the port is taken.
            RuntimeError: the service did not start within 20 s.
        """
        assert self._server is None, "the service is running"
        if overrides:
            self.settings = self.settings.model_copy(update=overrides)
        server = uvicorn.Server(uvicorn.Config(create_app(self.settings), log_level="warning"))
        sock = socket.socket()
        # A restart binds the port while the last run's connections are in TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                thread.join(timeout=30)
                sock.close()
                raise RuntimeError("the service did not start")
            time.sleep(0.01)
        self._server, self._thread = server, thread
        if self._client is None:
            self._client = httpx.Client(base_url=self.url, timeout=60)

    def stop(self) -> None:
        """Let requests in flight finish and stop serving; `start` serves again."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._server = self._thread = None

    def close(self) -> None:
        """Stop, and close the client."""
        self.stop()
        if self._client is not None:
            self._client.close()
            self._client = None


@contextmanager
def running_service(settings: Settings) -> Iterator[Service]:
    """Serve `create_app(settings)` on a free loopback port while the block runs."""
    service = Service(settings)
    service.start()
    try:
        yield service
    finally:
        service.close()
