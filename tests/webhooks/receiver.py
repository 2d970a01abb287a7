"""A webhook receiver for the tests: a real HTTP server on loopback, in a thread, that
answers each POST with the next of its scripted statuses (then 200), or never answers
within `hang` seconds, or answers with a body of `body_bytes` zeros made as it is sent, or
trickles its answer a byte each `trickle` seconds (status line, headers and all), and keeps
what it was sent."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Received", "Receiver", "running_receiver"]


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(
        self,
        statuses: list[int] | None = None,
        hang: float = 0.0,
        body_bytes: int = 2,
        trickle: float = 0.0,
    ) -> None:
        self.statuses = list(statuses or [])
        self.hang = hang
        self.body_bytes = body_bytes
        self.bodies_sent_whole = 0  # answers whose body went out to its last byte
        self.trickle = trickle
        self.cut_off = 0  # answers the service stopped reading before their end
        self._closed = threading.Event()
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The requests received, once there are at least `count` (fails after `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"{len(self.received)} requests came, not {count}")

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length", "0"))
        body = handler.rfile.read(length)
        with self._lock:
            self.received.append(
                Received(handler.path, {k.lower(): v for k, v in handler.headers.items()}, body)
            )
            status = self.statuses.pop(0) if self.statuses else 200
        if self.hang:
            time.sleep(self.hang)
        if self.trickle:
            self._trickle(handler, status)
            return
        try:
            handler.send_response(status)
            handler.send_header("Content-Length", str(self.body_bytes))
            handler.end_headers()
            if self.body_bytes == 2:
                handler.wfile.write(b"ok")
            else:
                chunk = bytes(1 << 16)
                for start in range(0, self.body_bytes, len(chunk)):
                    handler.wfile.write(chunk[: self.body_bytes - start])
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return  # the service gave up waiting or reading: what this receiver is for
        with self._lock:
            self.bodies_sent_whole += 1

    def _trickle(self, handler: BaseHTTPRequestHandler, status: int) -> None:
        answer = b"HTTP/1.1 %d OK\r\nContent-Length: 100\r\n\r\n%s" % (status, b"y" * 100)
        try:
            for byte in answer:
                handler.wfile.write(bytes([byte]))
                if self._closed.wait(self.trickle):
                    return
        except (BrokenPipeError, ConnectionResetError):
            with self._lock:
                self.cut_off += 1

    @contextmanager
    def serving(self) -> Iterator[Receiver]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._answer(self)

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._closed.set()
            self._server.shutdown()
            self._server.server_close()
            thread.join()


@contextmanager
def running_receiver(
    statuses: list[int] | None = None,
    hang: float = 0.0,
    body_bytes: int = 2,
    trickle: float = 0.0,
) -> Iterator[Receiver]:
    with Receiver(statuses, hang, body_bytes, trickle).serving() as receiver:
        yield receiver
