"""Tuner.reap's grace, on a clock of the test's own: lapsed leases are reaped only once
the service has been up, and its database answering, for one whole lease (a lease that
lapsed while no service ran, or while no heartbeat could be stored, is no evidence that
its worker died); the reaper thread and lease requests share it."""

from __future__ import annotations

import logging

import pytest

from app.tuning.reaper import LeaseReaper
from app.tuning.tuner import Tuner


class _Storage:
    """Stands in for the storage: its lapsed leases (none), read or failing."""

    def __init__(self) -> None:
        self.reads = 0
        self.failing = False

    def expired_leases(self) -> list[tuple[str, str]]:
        self.reads += 1
        if self.failing:
            raise ConnectionError("the database did not answer")
        return []


def _tuner(now: list[float]) -> tuple[Tuner, _Storage]:
    storage = _Storage()
    tuner = Tuner(storage, None, 3.0, clock=lambda: now[0])  # type: ignore[arg-type]
    return tuner, storage


def test_nothing_is_reaped_until_a_lease_after_the_start():
    now = [100.0]
    tuner, storage = _tuner(now)

    now[0] = 102.9
    tuner.reap()
    early = storage.reads
    now[0] = 103.0
    tuner.reap()

    assert (early, storage.reads) == (0, 1)


def test_a_database_that_did_not_answer_starts_the_grace_again():
    now = [0.0]
    tuner, storage = _tuner(now)
    storage.failing = True
    now[0] = 10.0
    with pytest.raises(ConnectionError):
        tuner.reap()
    storage.failing = False

    now[0] = 12.9
    tuner.reap()
    in_grace = storage.reads
    now[0] = 13.0
    tuner.reap()

    assert (in_grace, storage.reads) == (1, 2)


def test_the_reaper_thread_logs_a_round_the_database_did_not_answer(caplog):
    now = [10.0]
    tuner, storage = _tuner(now)
    storage.failing = True
    reaper = LeaseReaper(tuner, interval=0.75)
    now[0] = 20.0  # past the grace: the round reads, and the database does not answer

    with caplog.at_level(logging.ERROR, logger="logmetrics.tuning"):
        assert reaper.reap() == []

    assert [r.getMessage() for r in caplog.records] == ["could not end the runs of lost workers"]
