"""A thread that ends the runs whose worker stopped sending heartbeats.

A lapsed lease is evidence that a worker died only if the worker could have renewed it:
while no service ran, or while the database did not answer, every worker's heartbeats
failed alike, and a living worker's lease lapses with a dead one's. So the reaper ends
runs only once the service has been up, and its database answering, for one whole lease
(`LeaseReaper.grace`): in that time a living worker beats again (every quarter of the
lease) and keeps its run, and a dead worker's run lapses afresh and is ended.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from app.tuning.tuner import Tuner

__all__ = ["LeaseReaper"]

log = logging.getLogger("logmetrics.tuning")


class LeaseReaper:
    """Calls `Tuner.reap` every `interval` seconds until stopped, from one lease after it
    starts, and one lease after each time the database did not answer (see the module's
    doc). Several service processes may each run one: ending a run twice is refused by
    the storage."""

    def __init__(
        self, tuner: Tuner, interval: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """
        Args:
            tuner: whose `reap` ends the runs of lost workers.
            interval: seconds between reaps.
            clock: monotonic seconds (tests pass their own).
        """
        self._tuner = tuner
        self._interval = interval
        self._clock = clock
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="logmetrics-reaper", daemon=True)
        # Since when heartbeats could have been stored without a break: the start, or
        # the database's return.
        self._up_since = clock()

    @property
    def grace(self) -> float:
        """Seconds the service must be up, its database answering, before runs are reaped."""
        return self._tuner.lease_seconds

    def start(self) -> None:
        self._up_since = self._clock()
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def reap(self) -> list[tuple[str, str]]:
        """Reap once, if the grace has passed: the (job, run) of each run ended."""
        if self._clock() - self._up_since < self.grace:
            return []
        try:
            return self._tuner.reap()
        except Exception:  # an outage of the database: try again, a lease after it ends
            log.exception("could not end the runs of lost workers")
            self._up_since = self._clock()
            return []

    def _loop(self) -> None:
        while not self._stopped.wait(self._interval):
            self.reap()
