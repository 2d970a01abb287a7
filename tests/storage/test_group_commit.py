"""Group commit: writes that wait are committed together, each all or nothing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select

from app.errors import RunEnded
from app.storage.sql.batching import GroupCommit
from app.storage.sql.engine import Database

_metadata = MetaData()
_rows = Table("rows", _metadata, Column("value", Integer, primary_key=True))


@pytest.fixture
def database(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'group.db'}", sqlite_synchronous="NORMAL")
    _metadata.create_all(db.engine)
    yield db
    db.close()


def _stored(database):
    with database.read() as conn:
        return sorted(conn.execute(select(_rows.c.value)).scalars())


def test_writes_that_wait_are_committed_together_and_a_failing_one_alone_is_undone(database):
    commit = GroupCommit(database)
    first_started, release = threading.Event(), threading.Event()

    def blocking(conn):
        first_started.set()
        release.wait(10)
        conn.execute(insert(_rows).values(value=1))
        return "first"

    def inserting(value):
        def work(conn):
            conn.execute(insert(_rows).values(value=value))
            if value == 3:
                conn.execute(insert(_rows).values(value=30))
                raise RunEnded("run 'r' has ended (Completed)")
            return value

        return work

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(commit.run, 1, blocking)
        assert first_started.wait(10)
        # These three wait while the first write holds the writer: one batch.
        waiting = [pool.submit(commit.run, run_id, inserting(run_id)) for run_id in (2, 3, 4)]
        while len(commit._waiting) < 3:
            threading.Event().wait(0.01)
        release.set()
        results = [first.result(), waiting[0].result(), waiting[2].result()]
        with pytest.raises(RunEnded):
            waiting[1].result()
    commit.close()

    assert results == ["first", 2, 4]
    assert _stored(database) == [1, 2, 4]


def test_a_driver_error_in_one_write_is_that_writes_alone(database):
    commit = GroupCommit(database)
    with database.write() as conn:
        conn.execute(insert(_rows).values(value=7))

    def duplicate(conn):
        # The savepoint takes it; the primary key refuses it: an IntegrityError.
        conn.execute(insert(_rows).values(value=7))

    with pytest.raises(Exception, match="UNIQUE constraint failed"):
        commit.run(1, duplicate)
    assert commit.run(2, lambda conn: conn.execute(insert(_rows).values(value=8)).rowcount) == 1
    commit.close()

    assert _stored(database) == [7, 8]


def test_a_closed_group_commit_takes_no_more_writes(database):
    commit = GroupCommit(database)
    commit.close()

    with pytest.raises(RuntimeError, match="the storage is closed"):
        commit.run(1, lambda conn: None)


def test_a_write_refused_before_it_wrote_leaves_the_others_to_commit_once(database):
    """A domain error from a write that changed no row (a chunk parsed from a stream
    another process moved on) is that write's answer; the batch's other writes are
    neither rolled back nor run again."""
    commit = GroupCommit(database)
    first_started, release = threading.Event(), threading.Event()
    runs: list[int] = []

    def blocking(conn):
        first_started.set()
        release.wait(10)
        return "first"

    def work(value):
        def run(conn):
            runs.append(value)
            if value == 3:
                conn.execute(select(_rows.c.value)).all()  # reads, writes nothing
                raise RunEnded("run 'r' has ended (Completed)")
            conn.execute(insert(_rows).values(value=value))
            return value

        return run

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(commit.run, 1, blocking)
        assert first_started.wait(10)
        waiting = [pool.submit(commit.run, run_id, work(run_id)) for run_id in (2, 3, 4)]
        while len(commit._waiting) < 3:
            threading.Event().wait(0.01)
        release.set()
        results = [first.result(), waiting[0].result(), waiting[2].result()]
        with pytest.raises(RunEnded):
            waiting[1].result()
    commit.close()

    assert results == ["first", 2, 4]
    assert sorted(runs) == [2, 3, 4]  # each once: nothing was rolled back and run again
    assert _stored(database) == [2, 4]
