"""The ingest path's statements, compiled once per database and run through the driver.

A dense log brings a chunk every few milliseconds per run, and SQLAlchemy's building,
cache-key and parameter processing of a Core statement cost ten times what the
database needs to run it. These are still built from the schema's tables (nothing here
tracks the schema by hand); only the compiling is done once, at start. Values go to
the driver as they are, so JSON is written as text here (PostgreSQL casts it, SQLite
keeps text) and read back by `rows.json_value`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, CursorResult, bindparam, insert, select, update
from sqlalchemy.engine import Dialect as SqlDialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from app.storage.schema import chunks, jobs, points, run_metrics, runs, streams
from app.storage.sql.rows import SUMMARY_COLUMNS

__all__ = ["IngestStatements", "Prepared"]

POINT_COLUMNS = tuple(column.name for column in points.columns)
# What a chunk changes of its stream's row: all but the row's identity.
STREAM_STATE_COLUMNS = tuple(
    column.name for column in streams.columns if column.name not in ("id", "run_id", "name")
)


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
