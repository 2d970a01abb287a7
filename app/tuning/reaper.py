"""A thread that ends the runs whose worker stopped sending heartbeats.

When a lapsed lease is evidence that a worker died is `Tuner.reap`'s to say (one grace
for every caller: a lease after the process started, or after its database last did
not answer); this thread only calls it every `interval` seconds.
"""

from __future__ import annotations

import logging
import threading

from app.tuning.tuner import Tuner

__all__ = ["LeaseReaper"]

log = logging.getLogger("logmetrics.tuning")


class LeaseReaper:
    """Calls `Tuner.reap` every `interval` seconds until stopped. Several service
    processes may each run one: ending a run twice is refused by the storage."""

    def __init__(self, tuner: Tuner, interval: float) -> None:
        self._tuner = tuner
        self._interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="logmetrics-reaper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def reap(self) -> list[tuple[str, str]]:
        """Reap once: the (job, run) of each run ended or tried again."""
        try:
            return self._tuner.reap()
        except Exception:  # an outage of the database: Tuner.reap waits a lease after it
            log.exception("could not end the runs of lost workers")
            return []

    def _loop(self) -> None:
        while not self._stopped.wait(self._interval):
            self.reap()
