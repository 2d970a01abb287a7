"""A thread that ends the runs whose worker stopped sending heartbeats."""

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

    def _loop(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                self._tuner.reap()
            except Exception:  # an outage of the database: try again next time
                log.exception("could not end the runs of lost workers")
