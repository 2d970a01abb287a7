"""The ingest path's statements, compiled once per database and run through the driver.

A dense log brings a chunk every few milliseconds per run, and SQLAlchemy's building,
cache-key and parameter processing of a Core statement cost ten times what the
database needs to run it. These are still built from the schema's tables (nothing here
tracks the schema by hand); only the compiling is done once, at start. Values go to
the driver as they are, so JSON is written as text here (PostgreSQL casts it, SQLite
keeps text) and read back by `rows.json_value`.

A chunk's write runs about ten of them, so the write path (`Prepared.cursor` and
`Prepared.cursor_many`) runs them on the driver's cursor itself: SQLAlchemy's execution
around a statement (its result object, its context, its error wrapping) costs 22 µs
here against the driver's 7 for a lookup by key, and the group-commit thread runs every
chunk's statements one after another. The engine's cursor events still fire, so the
statement telemetry counts them; a driver error reaches the caller as the driver's own
(nothing on the write path catches one: each is a bug or an outage).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, CursorResult, bindparam, insert, select, update
from sqlalchemy.engine import Dialect as SqlDialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from app.storage.schema import chunks, jobs, points, run_metrics, runs, streams
from app.storage.sql.rows import SUMMARY_COLUMNS

__all__ = ["IngestStatements", "Prepared", "pipelined"]

POINT_COLUMNS = tuple(column.name for column in points.columns)
# What a chunk changes of its stream's row: all but the row's identity.
STREAM_STATE_COLUMNS = tuple(
    column.name for column in streams.columns if column.name not in ("id", "run_id", "name")
)


@contextmanager
def pipelined(conn: Connection) -> Iterator[None]:
    """Statements run on the driver's cursor in this block are sent without waiting for
    each one's answer where the driver can (psycopg's pipeline mode): one round trip
    for all of them, at the block's end or when a result is fetched. A statement's error
    is raised there, in the same transaction. Elsewhere (SQLite, in process) they run as
    they come."""
    pipeline = getattr(conn.connection.dbapi_connection, "pipeline", None)
    if pipeline is None:
        yield
        return
    with pipeline():
        yield


class Prepared:
    """One statement compiled for one database; parameters by bind name."""

    def __init__(self, statement: ClauseElement, dialect: SqlDialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler), "a Core statement compiles with SQLCompiler"
        self.sql = compiled.string
        self._order = tuple(compiled.positiontup or ()) if compiled.positional else None
        self._returns_id = bool(compiled.effective_returning)  # PostgreSQL's INSERTs

    def _driver(self, params: Mapping[str, Any]) -> Any:
        return params if self._order is None else tuple(params[name] for name in self._order)

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> CursorResult[Any]:
        return conn.exec_driver_sql(self.sql, self._driver(params))

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        conn.exec_driver_sql(self.sql, [self._driver(row) for row in rows])

    def executemany_values(
        self, conn: Connection, names: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None:
        """`executemany` with each row's values in the order of `names`. A positional
        driver (SQLite) takes the rows as they are when that is its order: no mapping is
        built and read again for each row, which counts when a chunk brings 30,000 points."""
        if self._order == tuple(names):
            conn.exec_driver_sql(self.sql, rows)
        else:
            self.executemany(conn, [dict(zip(names, row, strict=True)) for row in rows])

    def insert(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Run an INSERT of one row; the new row's id."""
        result = self.execute(conn, params)
        if self._returns_id:
            return int(result.scalar_one())
        assert result.lastrowid is not None, "SQLite gives the rowid of an INSERT"
        return int(result.lastrowid)

    def cursor(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """Run the statement on the driver's cursor in `conn`'s transaction; the cursor
        (DB-API: `fetchone`, `fetchall`, `rowcount`), its rows plain tuples."""
        return self._run(conn, self._driver(params), many=False)

    def cursor_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run the statement once for each row, on the driver's cursor."""
        self._run(conn, [self._driver(row) for row in rows], many=True)

    def cursor_many_values(
        self, conn: Connection, names: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """`cursor_many` with each row's values in the order of `names` (as
        `executemany_values`, taken as they are where that is the driver's order)."""
        if self._order == tuple(names):
            args: Any = rows
        else:
            args = [self._driver(dict(zip(names, row, strict=True))) for row in rows]
        self._run(conn, args, many=True)

    def insert_row(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """`insert` on the driver's cursor: the new row's id."""
        cursor = self.cursor(conn, params)
        if self._returns_id:
            return int(cursor.fetchone()[0])
        return int(cursor.lastrowid)

    def _run(self, conn: Connection, args: Any, *, many: bool) -> Any:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        events = conn.dispatch
        events.before_cursor_execute(conn, cursor, self.sql, args, None, many)
        if many:
            cursor.executemany(self.sql, args)
        else:
            cursor.execute(self.sql, args)
        events.after_cursor_execute(conn, cursor, self.sql, args, None, many)
        return cursor


class IngestStatements:
    """Every statement a chunk's write runs, for one database."""

    def __init__(self, dialect: SqlDialect) -> None:
        def prepare(statement: ClauseElement) -> Prepared:
            return Prepared(statement, dialect)

        # The run's row, locked, with what tells it and its job from any that later
        # take their ids (SQLite gives a deleted row's id to the next one): their
        # creation times. The job's row is read, not locked: chunks of its other runs
        # go on meanwhile.
        self.lock_run = prepare(
            select(
                runs.c.status,
                runs.c.stop_reason,
                runs.c.definitions_version,
                runs.c.created_at,
                runs.c.job_id,
                jobs.c.created_at,
            )
            .join(jobs, jobs.c.id == runs.c.job_id)
            .where(runs.c.id == bindparam("run_id"))
            .with_for_update(of=runs)
        )
        self.stream_id = prepare(
            select(streams.c.id).where(
                streams.c.run_id == bindparam("run_id"), streams.c.name == bindparam("name")
            )
        )
        state: dict[str, Any] = {column: bindparam(column) for column in STREAM_STATE_COLUMNS}
        self.insert_stream = prepare(
            insert(streams).values(run_id=bindparam("run_id"), name=bindparam("name"), **state)
        )
        self.advance_stream = prepare(
            update(streams)
            .where(streams.c.id == bindparam("stream_id"), streams.c.next_offset == bindparam("at"))
            .values(**state)
        )
        # The common case of a chunk's stream in one statement: found by its run and
        # name and moved on from the offset the chunk was parsed at; its id comes back.
        self.advance_named_stream = prepare(
            update(streams)
            .where(
                streams.c.run_id == bindparam("run_id"),
                streams.c.name == bindparam("name"),
                streams.c.next_offset == bindparam("at"),
            )
            .values(**state)
            .returning(streams.c.id)
        )
        self.insert_chunk = prepare(
            insert(chunks).values(
                stream_id=bindparam("stream_id"),
                offset=bindparam("offset"),
                length=bindparam("length"),
                data=bindparam("data"),
                timestamp=bindparam("timestamp"),
                digest=bindparam("digest"),
            )
        )
        self.chunk_with_digest = prepare(
            select(chunks.c.offset).where(
                chunks.c.stream_id == bindparam("stream_id"),
                chunks.c.digest == bindparam("digest"),
            )
        )
        self.insert_points = prepare(
            insert(points).values({column: bindparam(column) for column in POINT_COLUMNS})
        )
        self.summaries = prepare(
            select(
                run_metrics.c.id, run_metrics.c.name, *(run_metrics.c[c] for c in SUMMARY_COLUMNS)
            ).where(run_metrics.c.run_id == bindparam("run_id"))
        )
        self.insert_summary = prepare(
            insert(run_metrics).values(
                run_id=bindparam("run_id"),
                name=bindparam("name"),
                **{column: bindparam(column) for column in ("count", "rejected", "timeouts")},
                examples=bindparam("examples"),
            )
        )
        self.update_summary = prepare(
            update(run_metrics)
            .where(run_metrics.c.id == bindparam("summary_id"))
            .values({column: bindparam(column) for column in SUMMARY_COLUMNS})
        )
        self.objective = prepare(
            update(runs)
            .where(runs.c.id == bindparam("run_id"))
            .values(objective_value=bindparam("objective_value"))
        )
