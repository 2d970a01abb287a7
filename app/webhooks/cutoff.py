"""One attempt's wall-clock deadline: its connection is shut down when the deadline
passes or when the service stops, whatever the receiver is doing meanwhile.

httpx's time-outs bound each read, not the whole answer: a receiver sending a byte
every so often would hold a sender, and its delivery's claim, for ever. Shutting the
socket down wakes a read blocked in another thread (closing it would not).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any

__all__ = ["Cutoff"]

# httpcore's trace event for a connection just made; its `return_value` is the stream.
_CONNECTED = "connection.connect_tcp.complete"


class Cutoff:
    """Shuts down the connection an attempt makes, `seconds` after the block opens
    (`with cutoff:`) or at `cut`; pass `trace` as the request's `trace` extension.

    The connection must be the request's own (the client keeps none alive): one taken
    from a pool makes no trace, and would not be cut.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._reason: str | None = None
        self._timer = threading.Timer(seconds, self.cut, args=(f"no answer within {seconds:g} s",))
        self._timer.daemon = True

    @property
    def reason(self) -> str | None:
        """Why the connection was cut, in words; None while it was not."""
        with self._lock:
            return self._reason

    def cut(self, reason: str) -> None:
        """Shut the connection down now (or as soon as it is made), for `reason`;
        a second cut keeps the first reason."""
        with self._lock:
            if self._reason is None:
                self._reason = reason
            sock = self._socket
        if sock is not None:
            _shut(sock)

    def trace(self, event: str, info: Mapping[str, Any]) -> None:
        """httpcore's `trace` extension: notes the connection once it is made."""
        if event != _CONNECTED:
            return
        sock = info["return_value"].get_extra_info("socket")
        with self._lock:
            self._socket = sock
            cut = self._reason is not None
        if cut and sock is not None:
            _shut(sock)  # cut while it was being made

    def __enter__(self) -> Cutoff:
        self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # closed already, or never connected
        sock.shutdown(socket.SHUT_RDWR)
