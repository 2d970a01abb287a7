"""The ingest layer over a real storage: races between chunks and the end of a run."""

from __future__ import annotations

from datetime import UTC, datetime

from app.ingest import Ingestor
from app.parsing import ParserLimits
from app.records import MetricDefinition, RunStatus
from app.storage import JobSpec, SqlStorage

SPEC = JobSpec(
    "gan", "loss", "Minimize", "latest", "text", (MetricDefinition("loss", "Loss = (.*?);"),), {}
)


class _ChunkLandsBeforeTheEnd(SqlStorage):
    """Storage in which, once, a chunk is stored between the moment `complete` read the
    run's streams and the moment it ends the run: the race of a shipper's last post."""

    def __init__(self, url: str) -> None:
        super().__init__(url, sqlite_synchronous="NORMAL")
        self.late_chunk: tuple[str, bytes] | None = None
        self.ingestor = Ingestor(self, ParserLimits())

    def complete_run(self, job, run, *args, **kwargs):
        if self.late_chunk is not None:
            stream, data = self.late_chunk
            self.late_chunk = None
            self.ingestor.append(job, run.name, stream, data, None, datetime.now(UTC))
        return super().complete_run(job, run, *args, **kwargs)


def test_a_chunk_that_lands_while_the_run_ends_is_parsed_whole(tmp_path):
    storage = _ChunkLandsBeforeTheEnd(f"sqlite:///{tmp_path / 'race.db'}")
    job = storage.create_job(SPEC)
    storage.create_run(job, "run-1", {})
    storage.ingestor.append(job, "run-1", "stdout", b"Loss = 2.7;\n", None, None)
    # The last chunk ends in a line without a line end, on a stream `complete` never saw.
    storage.late_chunk = ("stderr", b"Loss = 0.5;")

    ended = storage.ingestor.complete(job, "run-1", RunStatus.COMPLETED, None)
    storage.close()

    assert ended.status is RunStatus.COMPLETED
    assert ended.objective_value == 0.5
    assert {s.name: s.partial_length for s in ended.streams} == {"stdout": 0, "stderr": 0}


def test_a_chunk_to_a_seen_stream_while_the_run_ends_is_parsed_whole(tmp_path):
    storage = _ChunkLandsBeforeTheEnd(f"sqlite:///{tmp_path / 'race.db'}")
    job = storage.create_job(SPEC)
    storage.create_run(job, "run-1", {})
    storage.ingestor.append(job, "run-1", "stdout", b"Loss = 2.7;\n", None, None)
    storage.late_chunk = ("stdout", b"Loss = 0.5;")

    ended = storage.ingestor.complete(job, "run-1", RunStatus.COMPLETED, None)
    storage.close()

    assert ended.objective_value == 0.5
    assert [(s.name, s.next_offset, s.lines, s.partial_length) for s in ended.streams] == [
        ("stdout", 23, 2, 0)
    ]
