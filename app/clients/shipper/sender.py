"""Ships spooled stream bytes to the service, retrying until it has them."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from app.clients.client import ServiceClient, ServiceError, ServiceUnavailable
from app.clients.shipper.spool import Spool
from app.clients.shipper.stop import StopSignal

__all__ = ["Sender", "SenderSettings"]

log = logging.getLogger("logmetrics.shipper")


@dataclass(frozen=True)
class SenderSettings:
    """`flush_interval`: the longest bytes wait while output flows. `chunk_bytes`: the
    largest chunk sent. Backoff doubles from `backoff_min` to `backoff_max` seconds."""

    flush_interval: float = 1.0
    chunk_bytes: int = 1024 * 1024
    backoff_min: float = 0.2
    backoff_max: float = 30.0


class Sender(threading.Thread):
    """A thread that posts each stream's spooled bytes with their offsets.

    A chunk the service acknowledged is dropped from the spool; one it did not is sent
    again from the same offset, which the service counts once. So a service that goes
    away and comes back loses nothing and doubles nothing.
    """

    def __init__(
        self,
        client: ServiceClient,
        job: str,
        run: str,
        spools: Mapping[str, Spool],
        settings: SenderSettings | None = None,
        stop: StopSignal | None = None,
    ) -> None:
        super().__init__(name=f"logmetrics-sender-{run}", daemon=True)
        self._client, self._job, self._run = client, job, run
        self._spools = spools
        self._settings = settings or SenderSettings()
        self._stop_signal = stop
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._stop_at: float | None = None
        self.failure: str | None = None  # why shipping stopped for good, if it did
        self.outages = 0

    def nudge(self) -> None:
        """Tell the sender that new bytes arrived."""
        self._wake.set()

    def finish(self, give_up_after: float) -> None:
        """Send everything left, trying for at most `give_up_after` seconds more; then stop."""
        self._stop_at = time.monotonic() + give_up_after
        self._closing.set()
        self._wake.set()
        self.join()

    def unsent(self) -> int:
        return sum(spool.pending() for spool in self._spools.values())

    def run(self) -> None:
        backoff = self._settings.backoff_min
        while self.failure is None:
            closing = self._closing.is_set()
            if closing and not self.unsent():
                return
            if closing and self._stop_at is not None and time.monotonic() > self._stop_at:
                self.failure = f"gave up: the service at {self._client.url} did not take the logs"
                return
            if not closing:
                self._wait_for_bytes()
            try:
                self._send_all()
                backoff = self._settings.backoff_min
            except ServiceUnavailable as exc:
                self.outages += 1
                log.warning("logmetrics: %s; retrying in %.1f s", exc, backoff)
                if closing:
                    time.sleep(backoff)
                else:
                    self._closing.wait(backoff)  # cut short when the command ends
                backoff = min(backoff * 2, self._settings.backoff_max)

    def _wait_for_bytes(self) -> None:
        # Send when a full chunk is waiting, else at least every flush interval.
        deadline = time.monotonic() + self._settings.flush_interval
        while not self._closing.is_set():
            if any(s.pending() >= self._settings.chunk_bytes for s in self._spools.values()):
                return
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._wake.wait(left)
            self._wake.clear()

    def _send_all(self) -> None:
        for stream, spool in self._spools.items():
            while spool.pending():
                offset, data = spool.peek(self._settings.chunk_bytes)
                try:
                    reply = self._client.post_chunk(self._job, self._run, stream, data, offset)
                except ServiceError as exc:
                    self._refused(stream, spool, exc)
                    return
                spool.acknowledge(reply["next_offset"])
                if self._stop_signal is not None and reply.get("stop_requested"):
                    self._stop_signal.set(reply["stop_requested"])
                if reply["next_offset"] < offset + len(data):
                    break  # it has less than was sent: odd, but send the rest next time

    def _refused(self, stream: str, spool: Spool, exc: ServiceError) -> None:
        if exc.body.get("error") == "offset_gap":
            # Only ever sent from an offset it acknowledged: it must have lost data.
            self.failure = (
                f"the service no longer has bytes {exc.body.get('expected_offset')}.."
                f"{spool.base} of {stream!r}, which it had acknowledged"
            )
        else:
            self.failure = f"the service refused the logs of {stream!r}: {exc}"
