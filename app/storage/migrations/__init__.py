"""Schema migrations with Alembic: each change of `app.storage.schema` is a revision here.

`upgrade(engine)` brings a database to the newest revision; the service runs it at start
(unless `LOGMETRICS_AUTO_UPGRADE=false`) and `logmetrics db upgrade` runs it by hand. A
database made before migrations existed (tables, no `alembic_version`) is recognised by
its columns and stamped with the revision it matches before upgrading. Several processes
starting at once take turns: a PostgreSQL advisory lock, or SQLite's write lock.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

__all__ = ["HEAD", "OutOfDate", "current_revision", "head_revision", "upgrade"]

_HERE = Path(__file__).resolve().parent
# Before Alembic: the first release's tables (0001), then streams.partial_timestamp (0002).
_BEFORE_ALEMBIC = (("0002", ("streams", "partial_timestamp")), ("0001", None))
_LOCK_KEY = 7_215_004_211  # the PostgreSQL advisory lock all logmetrics processes share


class OutOfDate(RuntimeError):
    """The database is not at this code's revision and may not be upgraded here."""


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None, "there is a revision"
    return head


HEAD = head_revision()


def current_revision(engine: Engine) -> str | None:
    """The database's revision; None for an empty database."""
    with engine.connect() as conn:
        return _current(conn)


def _current(conn: Connection) -> str | None:
    revision = MigrationContext.configure(conn).get_current_revision()
    if revision is not None:
        return revision
    tables = set(inspect(conn).get_table_names())
    if "jobs" not in tables:
        return None
    for candidate, column in _BEFORE_ALEMBIC:
        if column is None:
            return candidate
        table, name = column
        if name in {c["name"] for c in inspect(conn).get_columns(table)}:
            return candidate
    return None


def upgrade(engine: Engine, *, allowed: bool = True) -> tuple[str | None, str]:
    """Bring the database to the newest revision.

    Args:
        allowed: False only checks: an out-of-date database raises OutOfDate.

    Returns: the revisions before and after.

    Raises:
        OutOfDate: the database is newer than this code, or behind it and `allowed` is
            False.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _LOCK_KEY})
            conn.commit()
        elif conn.dialect.name == "sqlite":
            # The storage's engine begins such a transaction with BEGIN IMMEDIATE: the
            # write lock, held to the commit, so other processes wait (busy_timeout).
            conn = conn.execution_options(logmetrics_write=True)
        try:
            before = _current(conn)
            known = {
                s.revision for s in ScriptDirectory.from_config(_config(conn)).walk_revisions()
            }
            if before is not None and before not in known:
                raise OutOfDate(
                    f"the database is at schema revision {before}, which this version of "
                    "logmetrics does not know: it was made by a newer one"
                )
            if before != HEAD:
                if not allowed:
                    raise OutOfDate(
                        f"the database is at schema revision {before}, this version needs "
                        f"{HEAD}: run `logmetrics db upgrade`"
                    )
                config = _config(conn)
                if (
                    before is not None
                    and MigrationContext.configure(conn).get_current_revision() is None
                ):
                    command.stamp(config, before)
                command.upgrade(config, "head")
                conn.commit()
        finally:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
                conn.commit()
    return before, HEAD
