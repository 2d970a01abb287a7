"""LeaseReaper's grace, on a clock of the test's own: runs are reaped only once the
service has been up, and its database answering, for one whole lease."""

from __future__ import annotations

import logging
import time

from app.tuning.reaper import LeaseReaper


class _Tuner:
    """Stands in for Tuner: its lease, and a `reap` that counts calls or fails."""

    lease_seconds = 3.0

    def __init__(self) -> None:
        self.calls = 0
        self.failing = False

    def reap(self) -> list[tuple[str, str]]:
        self.calls += 1
        if self.failing:
            raise ConnectionError("the database did not answer")
        return [("tune", "run-0001")]


def test_nothing_is_reaped_until_a_lease_after_the_start():
    now = [100.0]
    tuner = _Tuner()
    reaper = LeaseReaper(tuner, interval=0.75, clock=lambda: now[0])  # type: ignore[arg-type]

    now[0] = 102.9
    early = reaper.reap()
    now[0] = 103.0
    on_time = reaper.reap()

    assert (reaper.grace, early, on_time, tuner.calls) == (3.0, [], [("tune", "run-0001")], 1)


def test_a_database_that_did_not_answer_starts_the_grace_again(caplog):
    now = [0.0]
    tuner = _Tuner()
    reaper = LeaseReaper(tuner, interval=0.75, clock=lambda: now[0])  # type: ignore[arg-type]
    tuner.failing = True
    now[0] = 10.0
    with caplog.at_level(logging.ERROR, logger="logmetrics.tuning"):
        failed = reaper.reap()
    tuner.failing = False

    now[0] = 12.9
    in_grace = reaper.reap()
    now[0] = 13.0
    after = reaper.reap()

    assert (failed, in_grace, after, tuner.calls) == ([], [], [("tune", "run-0001")], 2)
    assert [r.getMessage() for r in caplog.records] == ["could not end the runs of lost workers"]


def test_the_thread_counts_the_grace_from_its_start():
    now = [0.0]
    tuner = _Tuner()
    reaper = LeaseReaper(tuner, interval=0.01, clock=lambda: now[0])  # type: ignore[arg-type]
    now[0] = 50.0
    reaper.start()
    try:
        now[0] = 52.9  # a lease after construction, not yet one after the start
        time.sleep(0.2)
        in_grace = tuner.calls
        now[0] = 53.0
        deadline = time.monotonic() + 10
        while tuner.calls == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        reaper.stop()

    assert (in_grace, tuner.calls > 0) == (0, True)
