"""Group commit: many requests' write transactions committed as one.

Chunks arrive from many runs at once, and each must be committed before its answer.
One thread takes every write waiting, runs them one after another in one transaction,
commits once, and only then hands each caller its result. So a 200 still means
committed (with SQLite's `synchronous=FULL`, on disk), and a hundred writes pay for one
BEGIN, one lock and one fsync.

Each write stays all or nothing. Writes rarely fail, so a batch first runs without a
SAVEPOINT per write (two statements a chunk, a fifth of the writer's time). A write
that refuses (a domain error) having changed no row, as the driver counts them, is
simply left out. When another fails, the transaction is rolled back, that write's
caller gets its error, and the others run again, each in a SAVEPOINT, so a failing one
is rolled back alone. The
failing write had seen exactly what it would have seen in its savepoint (the writes
before it, in the same order), so its error is its answer; the writes run again see
the same database as the first time, and do the same. A write may therefore run more
than once: it must change nothing but the database.

Writes are taken in the order of the runs they lock, so two processes batching the
same runs lock them in the same order and never deadlock.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection

from app.errors import LogmetricsError
from app.storage.sql.engine import Database

__all__ = ["GroupCommit"]

T = TypeVar("T")
_MAX_BATCH = 256


@dataclass(order=True)
class _Write:
    run_id: int
    number: int  # arrival: writes to one run keep their order
    work: Callable[[Connection], Any] = field(compare=False)
    future: Future[Any] = field(compare=False, default_factory=Future)


class GroupCommit:
    """Runs writes on one thread, committing all that wait as one transaction."""

    def __init__(self, db: Database, max_batch: int = _MAX_BATCH) -> None:
        self._db = db
        self._max_batch = max_batch
        self._waiting: deque[_Write] = deque()
        self._ready = threading.Condition()
        self._numbers = 0
        self._thread: threading.Thread | None = None
        self._closed = False

    def run(self, run_id: int, work: Callable[[Connection], T]) -> T:
        """Run `work` in a write transaction and return its result once committed.

        `work` may run more than once, its transaction rolled back in between (see the
        module's doc): it must change nothing but the database.

        Args:
            run_id: the run `work` locks first (the batch's lock order).

        Raises: what `work` raised (nothing of it is stored), or the commit's error.
        """
        with self._ready:
            if self._closed:
                raise RuntimeError("the storage is closed")
            self._numbers += 1
            write = _Write(run_id, self._numbers, work)
            self._waiting.append(write)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="logmetrics-group-commit", daemon=True
                )
                self._thread.start()
            self._ready.notify()
        result: T = write.future.result()
        return result

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def _loop(self) -> None:
        while True:
            with self._ready:
                while not self._waiting and not self._closed:
                    self._ready.wait()
                if not self._waiting:
                    return
                batch = [
                    self._waiting.popleft() for _ in range(min(self._max_batch, len(self._waiting)))
                ]
            self._commit(sorted(batch))

    def _commit(self, batch: list[_Write]) -> None:
        done: list[tuple[_Write, Any]] = []
        refused: list[tuple[_Write, Exception]] = []  # failed, having written nothing
        try:
            with self._db.write() as conn:
                for write in batch:
                    changes = _changes(conn)
                    try:
                        done.append((write, write.work(conn)))
                    except LogmetricsError as exc:
                        if changes is None or _changes(conn) != changes:
                            raise _WriteFailed(write, exc) from exc
                        # A refusal before any write (a chunk parsed from a stream
                        # another process has moved on, say: common with several
                        # processes) leaves the others to commit as they are.
                        refused.append((write, exc))
                    except Exception as exc:
                        raise _WriteFailed(write, exc) from exc
        except _WriteFailed as failed:  # rolled back: its error is its answer
            failed.write.future.set_exception(failed.error)
            for write, error in refused:
                write.future.set_exception(error)
            answered = {id(failed.write)} | {id(write) for write, _ in refused}
            self._commit_each([write for write in batch if id(write) not in answered])
            return
        except Exception as exc:  # the commit failed: nothing of the batch is stored
            for write, _ in done:
                write.future.set_exception(exc)
            for write, error in refused:
                write.future.set_exception(error)
            return
        for write, result in done:
            write.future.set_result(result)
        for write, error in refused:
            write.future.set_exception(error)

    def _commit_each(self, batch: list[_Write]) -> None:
        """Commit `batch` with each write in a savepoint of its own."""
        done: list[tuple[_Write, Any]] = []
        failed: list[tuple[_Write, BaseException]] = []
        try:
            with self._db.write() as conn:
                for write in batch:
                    savepoint = conn.begin_nested()
                    try:
                        result = write.work(conn)
                    except Exception as exc:
                        savepoint.rollback()
                        failed.append((write, exc))
                    else:
                        savepoint.commit()
                        done.append((write, result))
        except Exception as exc:  # the commit failed: nothing of the batch is stored
            for write in batch:
                if not write.future.done():
                    write.future.set_exception(exc)
            return
        for write, result in done:
            write.future.set_result(result)
        for write, error in failed:
            write.future.set_exception(error)


def _changes(conn: Connection) -> int | None:
    """Rows the connection's statements have inserted, updated or deleted so far, where
    the driver tells (SQLite's `total_changes`; a failed statement's are undone and not
    counted); None where it does not."""
    changes = getattr(conn.connection.dbapi_connection, "total_changes", None)
    return changes if isinstance(changes, int) else None


class _WriteFailed(Exception):
    """A write of a batch run without savepoints raised `error`."""

    def __init__(self, write: _Write, error: Exception) -> None:
        super().__init__(str(error))
        self.write = write
        self.error = error
