"""Jobs and runs deleted while another caller holds them: the holder's writes are
refused with the domain's errors, never stored, and never a driver error.

Each test deletes and then creates a job or run of the same name, the harder case: on
SQLite the newcomer takes the deleted row's id, so a record kept by id alone would be
taken for it. Two backends on one database stand for two service processes.
"""

from __future__ import annotations

import pytest

from app.errors import DefinitionsChanged, JobNotFound, StreamMoved
from app.records import MetricDefinition, Point, StreamState
from app.storage import ChunkWrite, JobSpec
from app.storage.records import DefinitionsSpec, RunLog

from .factories import chunk

ACC = (MetricDefinition("acc", r"acc=(\S+)"),)
LOSS = (MetricDefinition("loss", r"loss=(\S+)"),)
ACC_LINE = chunk(b"acc=0.9\n", StreamState(next_offset=8, lines=1), [Point("acc", 0.9, None, 1, 0)])


def _spec(metric: str, definitions: tuple[MetricDefinition, ...]) -> JobSpec:
    return JobSpec("j", metric, "Maximize", "latest", "text", definitions, {})


@pytest.fixture
def other(open_backend):
    """A second backend on the same database: another service process."""
    return open_backend()


def test_a_chunk_parsed_with_a_deleted_job_is_refused_though_its_successor_took_its_name(
    backend, other
):
    backend.create_job(_spec("acc", ACC))
    kept = other.get_job("j")  # the other process keeps the job it read
    backend.delete_job(backend.get_job("j"))
    successor = backend.create_job(_spec("loss", LOSS))
    run = backend.create_run(successor, "r", {})

    with pytest.raises(DefinitionsChanged):
        other.read_stream(kept, "r", "stdout")
    with pytest.raises(DefinitionsChanged):
        other.append_chunk(kept, run, ACC_LINE)

    assert other.get_job("j") == successor  # forgotten: read again
    stored = backend.get_run(successor, "r")
    assert (stored.metrics, stored.streams) == ((), ())


def test_a_chunk_for_a_run_deleted_and_created_again_is_refused(backend, make_job):
    job = make_job()
    held = backend.create_run(job, "r", {})
    backend.delete_run(job, "r")
    successor = backend.create_run(job, "r", {})

    with pytest.raises(StreamMoved):
        backend.append_chunk(job, held, ACC_LINE)

    assert backend.get_run(job, "r").streams == ()
    backend.append_chunk(job, successor, ACC_LINE)  # its own run's writes go on


def test_writes_for_a_job_deleted_and_created_again_raise_job_not_found(backend, other):
    backend.create_job(_spec("acc", ACC))
    kept = other.get_job("j")
    kept_run = other.create_run(kept, "r", {})
    backend.delete_job(backend.get_job("j"))
    successor = backend.create_job(_spec("loss", LOSS))
    backend.create_run(successor, "r", {})
    loss = DefinitionsSpec("loss", "Minimize", "latest", LOSS)

    with pytest.raises(JobNotFound):
        other.create_run(kept, "r2", {})
    with pytest.raises(JobNotFound):
        other.replace_definitions(kept, loss)
    with pytest.raises(JobNotFound):
        other.replace_run_points(kept, kept_run, {}, lambda _log: [])
    with pytest.raises(JobNotFound):
        other.delete_job(kept)

    assert other.get_job("j") == successor
    assert [run.name for run in backend.job_runs(successor)] == ["r"]
    assert backend.definitions_history(successor)[-1].version == 1


def test_reads_and_writes_of_a_deleted_job_raise_job_not_found(backend, make_job):
    job = make_job()
    backend.delete_job(job)

    for call in (
        lambda: backend.create_run(job, "r", {}),  # not RunExists (a foreign key)
        lambda: backend.job_state(job),
        lambda: backend.job_overview(job),
        lambda: backend.replace_definitions(
            job, DefinitionsSpec("loss", "Minimize", "latest", LOSS)
        ),
        lambda: backend.delete_job(job),
    ):
        with pytest.raises(JobNotFound):
            call()
    assert backend.list_jobs() == []


def test_a_replay_never_lands_in_a_deleted_runs_successor(backend, make_job):
    job = make_job()
    held = backend.create_run(job, "r", {})
    backend.delete_run(job, "r")
    backend.create_run(job, "r", {})
    reparsed = backend.replace_definitions(job, DefinitionsSpec("loss", "Minimize", "latest", LOSS))
    replays: list[RunLog] = []

    def replay(log: RunLog) -> list[ChunkWrite]:
        replays.append(log)
        return []

    assert backend.replace_run_points(reparsed, held, {}, replay) is False
    assert replays == []
    assert backend.reparse_progress(reparsed).done == 0
