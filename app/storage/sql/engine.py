"""Engines and dialects: what differs between SQLite and PostgreSQL, behind one seam.

`Database` owns every transaction: it begins, commits and rolls back, and turns the
driver's errors into the domain's own in one place. `Dialect` holds what each backend
does its own way: opening the engine, the write lock, whether writes are grouped.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError

from app.errors import LogmetricsError

__all__ = ["Database", "Dialect", "PostgresDialect", "SqliteDialect"]


class Dialect:
    """What a backend does its own way. The base serves any SQLAlchemy database."""

    name = "generic"
    # Whether writes wait to be committed together (`GroupCommit`): for a database with
    # one writer at a time. PostgreSQL writes at once and groups its own WAL flushes.
    group_commit = False

    def create_engine(self, url: URL) -> Engine:
        return create_engine(url, pool_pre_ping=True)

    def write_lock(self) -> AbstractContextManager[Any]:
        """Held around every write transaction of this process."""
        return nullcontext()

    def close(self) -> None:
        """Release what the dialect holds besides the engine."""


class PostgresDialect(Dialect):
    """PostgreSQL: writers run at once; each one locks the run it writes (`FOR UPDATE`)."""

    name = "postgresql"

    def create_engine(self, url: URL) -> Engine:
        # A pool as large as the threads that may write at once, so none waits for a
        # connection while holding none of the locks it will need.
        return create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=20)


class SqliteDialect(Dialect):
    """SQLite in WAL mode: one writer at a time, taken up front (`BEGIN IMMEDIATE`)."""

    name = "sqlite"
    group_commit = True

    def __init__(self, synchronous: str = "FULL", busy_timeout: float = 60.0) -> None:
        self._synchronous = synchronous
        self._busy_timeout = busy_timeout
        self._lock: _WriterLock | None = None

    def create_engine(self, url: URL) -> Engine:
        if url.database in (None, "", ":memory:"):
            raise ValueError("SQLite storage needs a database file, not an in-memory one")
        _create_private_file(Path(url.database))
        self._lock = _WriterLock(Path(f"{url.database}-writer.lock"))
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, pool_size=64, max_overflow=64
        )
        _configure_sqlite(engine, self._synchronous, self._busy_timeout)
        return engine

    def write_lock(self) -> AbstractContextManager[Any]:
        assert self._lock is not None, "create_engine makes the lock"
        return self._lock

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()


class _WriterLock:
    """SQLite's one writer, queued for: threads of this process on a lock, processes
    on a file lock beside the database (`flock`, which the kernel hands to the next
    waiter at once). Without it, processes wait by SQLite's busy handler, which sleeps
    in growing steps: with two service processes, p99 of a chunk was 5.9 s."""

    def __init__(self, path: Path) -> None:
        self._thread_lock = threading.Lock()
        self._fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)  # blocks outside the GIL
        except BaseException:
            self._thread_lock.release()
            raise

    def __exit__(self, *_exc: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()

    def close(self) -> None:
        with self._thread_lock:
            os.close(self._fd)


def dialect_for(url: URL, sqlite_synchronous: str) -> Dialect:
    backend = url.get_backend_name()
    if backend == "sqlite":
        return SqliteDialect(sqlite_synchronous)
    if backend == "postgresql":
        return PostgresDialect()
    return Dialect()


class Database:
    """An engine, its dialect, and the one place transactions begin and end."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL") -> None:
        parsed = make_url(url)
        self.dialect = dialect_for(parsed, sqlite_synchronous)
        self.engine = self.dialect.create_engine(parsed)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(
        self, on_conflict: Callable[[IntegrityError], LogmetricsError] | None = None
    ) -> Iterator[Connection]:
        """A write transaction, committed when the block ends without an error.

        Args:
            on_conflict: the domain error a uniqueness violation means here; without
                it, one propagates as the bug it would be.
        """
        try:
            with self.dialect.write_lock(), self.engine.connect() as conn:
                conn = conn.execution_options(logmetrics_write=True)
                with conn.begin():
                    yield conn
        except IntegrityError as exc:
            if on_conflict is None:
                raise
            raise on_conflict(exc) from exc

    def close(self) -> None:
        self.engine.dispose()
        self.dialect.close()


def _create_private_file(path: Path) -> None:
    """Create the database's folder (0700) and file (0600): raw logs are not for every
    local user. An existing file keeps the mode its owner gave it."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    # SQLite makes its -wal and -shm files with the database file's mode.


def _configure_sqlite(engine: Engine, synchronous: str, busy_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let the BEGIN below, not the sqlite3 module, open transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A write transaction takes the write lock up front: a deferred one that reads
        # first could not upgrade if another writer committed meanwhile.
        write = conn.get_execution_options().get("logmetrics_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
