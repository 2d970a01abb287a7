"""A thread in each service process that sends the deliveries that are due.

Every `interval` seconds it claims due deliveries (`Storage.claim_deliveries`, safe
across processes) and sends them from a few threads of its own, so that a receiver that
never answers holds one of them for the time-out, not the others nor the service.
Each attempt is cut at the time-out however the receiver trickles its answer, and
stopping cuts the attempts in flight, so that a service stops within seconds.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta

import httpx

from app.storage import Storage
from app.storage.webhook_records import DeliveryStatus, DueDelivery
from app.webhooks.cutoff import Cutoff
from app.webhooks.delivery import DeliveryPolicy, attempt, claim_seconds

__all__ = ["Dispatcher"]

log = logging.getLogger("logmetrics.webhooks")

_SENDERS = 4
# How long stopping waits for the loop and the senders, once their attempts are cut.
_STOP_WAIT = 5.0
_STOPPED = "the service stopped before the receiver answered"


class Dispatcher:
    """Sends due webhook deliveries until stopped."""

    def __init__(self, storage: Storage, policy: DeliveryPolicy, interval: float = 1.0) -> None:
        self._storage = storage
        self._policy = policy
        self._interval = interval
        self._stopped = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="logmetrics-webhooks", daemon=True)
        self._senders = ThreadPoolExecutor(_SENDERS, thread_name_prefix="logmetrics-webhook")
        self._free = threading.Semaphore(_SENDERS)  # senders not busy with a delivery
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self._in_flight: set[Cutoff] = set()
        self._sending: set[Future[None]] = set()

    def start(self) -> None:
        # No redirects (a 3xx is an answer, not a place to go), no proxies from the
        # environment (the address checked must be the one connected to). Made here,
        # not in __init__: an app that is never started holds no connections.
        # No connection kept alive: each attempt connects to the address it checked,
        # and `Cutoff` cuts only the connection an attempt made itself.
        self._client = httpx.Client(
            timeout=self._policy.timeout,
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        self._thread.start()

    def stop(self) -> None:
        """Cut the attempts in flight (each is noted as failed, to be tried again) and
        stop, waiting a few seconds at most for the senders to note them."""
        self._stopped.set()
        self._wake.set()
        with self._lock:
            in_flight = list(self._in_flight)
        for cutoff in in_flight:
            cutoff.cut(_STOPPED)
        if self._thread.is_alive():
            self._thread.join(_STOP_WAIT)
        self._senders.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            sending = list(self._sending)
        wait(sending, timeout=_STOP_WAIT)
        if self._client is not None:
            self._client.close()

    def dispatch(self) -> int:
        """Claim as many deliveries due now as senders are free, and hand them to the
        senders; how many were claimed."""
        free = 0
        while free < _SENDERS and self._free.acquire(blocking=False):
            free += 1
        if not free:
            return 0
        now = datetime.now(UTC)
        until = now + timedelta(seconds=claim_seconds(self._policy))
        try:
            due = self._storage.claim_deliveries(now, until, limit=free)
        except Exception:  # an outage of the database: the next round tries again
            log.exception("could not claim webhook deliveries")
            due = []
        for _ in range(free - len(due)):
            self._free.release()
        for delivery in due:
            future = self._senders.submit(self._send, delivery)
            with self._lock:
                self._sending.add(future)
            future.add_done_callback(self._sent)
        return len(due)

    def _sent(self, future: Future[None]) -> None:
        with self._lock:
            self._sending.discard(future)

    def _send(self, delivery: DueDelivery) -> None:
        try:
            self._attempt(delivery)
        except Exception:  # a bug: its claim lapses and it is tried again
            log.exception("could not send webhook delivery %s", delivery.id)
        finally:
            self._free.release()

    def _attempt(self, delivery: DueDelivery) -> None:
        assert self._client is not None, "start makes the client"
        cutoff = Cutoff(self._policy.timeout)
        with self._lock:
            self._in_flight.add(cutoff)
        if self._stopped.is_set():
            cutoff.cut(_STOPPED)  # stopping began before this attempt was noted in flight
        try:
            outcome = attempt(self._client, delivery, self._policy, cutoff)
        finally:
            with self._lock:
                self._in_flight.discard(cutoff)
        try:
            self._storage.finish_delivery(delivery.id, delivery.claim, outcome)
        except Exception:  # its claim lapses and it is tried again
            log.exception("could not note webhook delivery %s", delivery.id)
            return
        if outcome.status is DeliveryStatus.FAILED:
            # The webhook's id, never its URL: the URL is a secret.
            log.warning(
                "webhook %s: delivery %s of %s failed after %d attempts: %s",
                delivery.webhook_id,
                delivery.id,
                delivery.event.value,
                delivery.attempts + 1,
                outcome.error,
            )

    def _loop(self) -> None:
        while not self._stopped.is_set():
            sent = self.dispatch()
            if sent:
                continue  # more may be due
            self._wake.wait(self._interval)
            self._wake.clear()
