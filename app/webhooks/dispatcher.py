"""A thread in each service process that sends the deliveries that are due.

Every `interval` seconds it claims due deliveries (`Storage.claim_deliveries`, safe
across processes) and sends them from a few threads of its own, so that a receiver that
never answers holds one of them for the time-out, not the others nor the service.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx

from app.storage import Storage
from app.storage.webhook_records import DeliveryStatus, DueDelivery
from app.webhooks.delivery import DeliveryPolicy, attempt

__all__ = ["Dispatcher"]

log = logging.getLogger("logmetrics.webhooks")

_SENDERS = 4


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

    def start(self) -> None:
        # No redirects (a 3xx is an answer, not a place to go), no proxies from the
        # environment (the address checked must be the one connected to). Made here,
        # not in __init__: an app that is never started holds no connections.
        self._client = httpx.Client(
            timeout=self._policy.timeout, follow_redirects=False, trust_env=False
        )
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        self._thread.join()
        self._senders.shutdown(wait=True, cancel_futures=True)
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
        # Held for longer than an attempt can take, so no other process takes it meanwhile.
        until = now + timedelta(seconds=self._policy.timeout * 2 + 30)
        try:
            due = self._storage.claim_deliveries(now, until, limit=free)
        except Exception:  # an outage of the database: the next round tries again
            log.exception("could not claim webhook deliveries")
            due = []
        for _ in range(free - len(due)):
            self._free.release()
        for delivery in due:
            self._senders.submit(self._send, delivery)
        return len(due)

    def _send(self, delivery: DueDelivery) -> None:
        try:
            self._attempt(delivery)
        except Exception:  # a bug: its claim lapses and it is tried again
            log.exception("could not send webhook delivery %s", delivery.id)
        finally:
            self._free.release()

    def _attempt(self, delivery: DueDelivery) -> None:
        assert self._client is not None, "start makes the client"
        outcome = attempt(self._client, delivery, self._policy)
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
