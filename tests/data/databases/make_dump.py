"""Makes release-0.1.0.sql: a database as the released storage (commit 7444865) writes it.

Run from a checkout of that commit, with this repository's venv:

    git worktree add /tmp/rel 7444865
    cd /tmp/rel && PYTHONPATH=. /path/to/.venv/bin/python \\
        /path/to/tests/data/databases/make_dump.py /path/to/tests/data/databases/

It creates a job, two runs with points, a held partial line, a rejection and an
ended run through that version's own `SqlStorage`, then writes the SQLite file as SQL
text (`iterdump`), so the fixture is readable and diffable.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from app.ingest import Ingestor
from app.parsing import ParserLimits
from app.records import RunStatus
from app.storage import JobSpec, SqlStorage

GAN = (("loss", "Loss = (.*?);"), ("ganloss", "GAN_loss=(.*?);"))


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "release.db"
        storage = SqlStorage(f"sqlite:///{path}")
        ingest = Ingestor(storage, ParserLimits())
        job = storage.create_job(
            JobSpec("gan", "loss", "Minimize", "latest", "text", GAN, {"SM_LOG_LEVEL": "20"})
        )
        when = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
        storage.create_run(job, "run-0001", {"lr": "0.01"})
        ingest.append(job, "run-0001", "stdout", b"GAN_loss=0.5; Loss = 2.5;\n", 0, when)
        ingest.append(job, "run-0001", "stdout", b"Loss = 1.5;\nLoss = oops;\n", None, when)
        ingest.complete(job, "run-0001", RunStatus.COMPLETED, None)
        storage.create_run(job, "run-0002", {"lr": "0.1"})
        ingest.append(job, "run-0002", "stdout", b"Loss = 0.75;\nLoss = 0.", 0, when)
        storage.close()
        with sqlite3.connect(path) as conn:
            (out / "release-0.1.0.sql").write_text("\n".join(conn.iterdump()) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
