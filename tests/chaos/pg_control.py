"""Stopping and starting a test's own PostgreSQL server, as an outage of it would.

tests/postgres.py starts its server with `pg_ctl`, which keeps the options it was started
with (`postmaster.opts`), so `pg_ctl start` and `restart` bring it back as it was, on the
same port. As root the server runs as the `postgres` user (initdb refuses root).
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.postgres import PostgresUnavailable, fresh_database, postgres_server

__all__ = ["PostgresControl", "private_postgres"]


class PostgresControl:
    """`stop`, `start` and `restart` the PostgreSQL server of `server_url`."""

    _options: list[str]

    def __init__(self, server_url: str) -> None:
        engine = create_engine(server_url)
        with engine.connect() as conn:
            self._data = Path(conn.execute(text("SHOW data_directory")).scalar_one())
        engine.dispose()
        self._pg_ctl = str(sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))[-1])

    def stop(self) -> None:
        # postmaster.opts: the server's command line, quoted: postgres "-D" "DIR" options.
        words = shlex.split((self._data / "postmaster.opts").read_text())
        self._options = words[3:] if words[1:2] == ["-D"] else words[1:]
        self._pg_ctl_run("stop", "-m", "fast")

    def start(self) -> None:
        """Start it with the options it last ran with: `pg_ctl start` alone would take
        postgresql.conf's (another port), where `restart` reads `postmaster.opts`."""
        self._pg_ctl_run("start", "-o", shlex.join(self._options))

    def restart(self) -> None:
        self._pg_ctl_run("restart", "-m", "fast")

    def _pg_ctl_run(self, action: str, *options: str) -> None:
        command = [self._pg_ctl, "-D", str(self._data), "-w", "-t", "60", *options, action]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        # The server pg_ctl starts keeps its stdout: a file, so that no pipe is held open.
        with (self._data.parent / "pg_ctl.log").open("ab") as log:
            subprocess.run(command, check=True, stdout=log, stderr=subprocess.STDOUT)


@contextmanager
def private_postgres() -> Iterator[tuple[str, PostgresControl]]:
    """A server of the test's own (the session's is the other tests', and is never
    stopped): an empty database's URL on it, and its control. Skipped where PostgreSQL
    is not installed (an error in CI), or where LOGMETRICS_TEST_POSTGRES_URL names a
    server of someone else's, which a test must not stop."""
    if os.environ.get("LOGMETRICS_TEST_POSTGRES_URL"):
        pytest.skip("stopping PostgreSQL needs a server of the test's own")
    try:
        with postgres_server() as server_url:
            yield fresh_database(server_url), PostgresControl(server_url)
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
