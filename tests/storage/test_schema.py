"""Schema migrations: a new database, and one made by the released version, reach the
schema of `app.storage.schema` through Alembic, losing nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from app.records import MetricDefinition, RunStatus
from app.storage import SqlStorage
from app.storage.migrations import HEAD, OutOfDate, current_revision, upgrade
from app.storage.schema import metadata

from .factories import whole_log

RELEASE = Path(__file__).resolve().parents[1] / "data" / "databases" / "release-0.1.0.sql"


def _database_from(tmp_path: Path, *, drop_partial_timestamp: bool = False) -> Path:
    path = tmp_path / "release.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(RELEASE.read_text())
        if drop_partial_timestamp:  # as the first release (stop 7) made its tables
            conn.execute("ALTER TABLE streams DROP COLUMN partial_timestamp")
    return path


def test_a_new_database_is_made_by_the_migrations_and_matches_the_schema(backend_url):
    engine = create_engine(backend_url)
    try:
        assert upgrade(engine) == (None, HEAD)
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), metadata)
        assert differences == []
        assert current_revision(engine) == HEAD
        assert upgrade(engine) == (HEAD, HEAD)  # again: nothing to do
    finally:
        engine.dispose()


@pytest.mark.parametrize("first_release", [False, True], ids=["0.1.0", "first-release"])
def test_a_database_of_the_released_version_upgrades_without_loss(tmp_path, first_release):
    path = _database_from(tmp_path, drop_partial_timestamp=first_release)

    storage = SqlStorage(f"sqlite:///{path}")
    job = storage.get_job("gan")
    done, held = storage.get_run(job, "run-0001"), storage.get_run(job, "run-0002")
    log_done = whole_log(storage, job, done)
    series = storage.metric_series(job, "run-0001", "loss", 0, 100)[0]
    storage.close()

    assert current_revision(create_engine(f"sqlite:///{path}")) == HEAD
    assert job.metric_definitions == (
        MetricDefinition("loss", "Loss = (.*?);"),
        MetricDefinition("ganloss", "GAN_loss=(.*?);"),
    )
    assert dict(job.environment) == {"SM_LOG_LEVEL": "20"}
    assert (done.status, done.objective_value, dict(done.hyperparameters)) == (
        RunStatus.COMPLETED,
        1.5,
        {"lr": "0.01"},
    )
    assert log_done == b"GAN_loss=0.5; Loss = 2.5;\nLoss = 1.5;\nLoss = oops;\n"
    assert [(p.step, p.value, p.line) for p in series] == [(1, 2.5, 1), (2, 1.5, 2)]
    loss = next(m for m in done.metrics if m.name == "loss")
    assert (loss.count, loss.rejected, loss.examples[0].capture) == (2, 1, "oops")
    assert [(s.name, s.next_offset, s.partial_length) for s in held.streams] == [("stdout", 22, 9)]


def test_the_held_line_of_a_released_database_is_parsed_when_its_run_ends(tmp_path):
    from app.ingest import Ingestor
    from app.parsing import ParserLimits

    storage = SqlStorage(f"sqlite:///{_database_from(tmp_path)}")
    job = storage.get_job("gan")
    ingest = Ingestor(storage, ParserLimits())

    ingest.append(job, "run-0002", "stdout", b"5;\n", None, None)
    ended = ingest.complete(job, "run-0002", RunStatus.COMPLETED, None)
    storage.close()

    assert ended.objective_value == 0.5


def test_a_database_newer_than_this_code_is_refused(tmp_path):
    path = tmp_path / "newer.db"
    SqlStorage(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")

    with pytest.raises(OutOfDate, match="schema revision 9999, which this version"):
        SqlStorage(f"sqlite:///{path}")


def test_without_auto_upgrade_an_older_database_is_refused_with_what_to_run(tmp_path):
    path = _database_from(tmp_path, drop_partial_timestamp=True)

    with pytest.raises(OutOfDate, match="run `logmetrics db upgrade`"):
        SqlStorage(f"sqlite:///{path}", auto_upgrade=False)
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        tables = conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
        assert "alembic_version" not in set(tables.scalars())  # untouched
    engine.dispose()


def test_a_new_sqlite_database_is_private_to_its_owner(tmp_path):
    path = tmp_path / "data" / "logmetrics.db"

    storage = SqlStorage(f"sqlite:///{path}")
    storage.close()

    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o600


def test_logmetrics_db_upgrade_migrates_a_released_database_and_says_so(tmp_path):
    import subprocess
    import sys

    path = _database_from(tmp_path, drop_partial_timestamp=True)
    url = f"sqlite:///{path}"

    def db(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "app", "db", *args, "--database-url", url],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    assert db("current") == f"database: 0001; this version: {HEAD}\n"
    assert db("upgrade") == f"schema: 0001 -> {HEAD}\n"
    assert db("current") == f"database: {HEAD}; this version: {HEAD}\n"
