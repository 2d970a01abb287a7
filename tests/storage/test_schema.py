"""A database made by an earlier version opens: what the schema gained is added."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from app.records import StreamState
from app.storage import JobSpec, SqlStorage

from .factories import GAN_DEFINITIONS, T0, chunk

SPEC = JobSpec("gan", "loss", "Minimize", "latest", "text", GAN_DEFINITIONS, {})


def _older_database(path, column: str) -> None:
    SqlStorage(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"ALTER TABLE streams DROP COLUMN {column}")


def test_a_column_added_since_is_added_to_an_older_database(tmp_path):
    path = tmp_path / "older.db"
    _older_database(path, "partial_timestamp")

    storage = SqlStorage(f"sqlite:///{path}")
    job = storage.create_job(SPEC)
    run = storage.create_run(job, "run-1", {})
    storage.append_chunk(
        job,
        run,
        chunk(
            b"Loss = 0.5",
            StreamState(offset=10, partial=b"Loss = 0.5", partial_length=10),
            timestamp=T0,
        ),
    )
    snapshot = storage.read_run_streams(job, "run-1")
    storage.close()

    assert snapshot.partial_times == {"stdout": datetime(2024, 5, 1, 12, 0, tzinfo=UTC)}


def test_a_missing_column_that_cannot_be_null_is_a_clear_error(tmp_path):
    path = tmp_path / "older.db"
    _older_database(path, "skip_lf")

    with pytest.raises(RuntimeError, match="table streams lacks column skip_lf"):
        SqlStorage(f"sqlite:///{path}")


def test_a_new_sqlite_database_is_private_to_its_owner(tmp_path):
    path = tmp_path / "data" / "logmetrics.db"

    storage = SqlStorage(f"sqlite:///{path}")
    storage.close()

    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o600
