"""A request to stop a run's command, from the service or from the worker itself."""

from __future__ import annotations

import threading

__all__ = ["StopSignal"]


class StopSignal:
    """Set once, with the reason the run is stopped; later reasons are ignored.

    The service asks (in the answer to a log chunk or a heartbeat), or the worker decides
    (the run's maximum runtime passed, or the worker itself is being stopped).
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self.reason: str | None = None
        # The stop is the machine's, not the run's (its worker is being stopped): a run
        # stopped so is a failure of the infrastructure, which its job may try again.
        self.infrastructure = False

    def set(self, reason: str, infrastructure: bool = False) -> None:
        with self._lock:
            if self.reason is None:
                self.reason = reason
                self.infrastructure = infrastructure
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)
