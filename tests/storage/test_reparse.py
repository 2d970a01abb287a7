"""Re-parse on every backend: a job's stored logs parsed again with fixed definitions give
exactly what the fixed definitions would have given from the start."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.errors import InvalidObjective
from app.ingest import Ingestor
from app.parsing import ParserLimits
from app.records import Job, MetricDefinition, RunStatus
from app.reparse import Reparser, RunReplay, reparse_run, start_reparse
from app.storage import JobSpec, Storage

from .factories import T0

# A typo: `Los = ` finds nothing in the GAN example's lines.
TYPO = (
    MetricDefinition("GAN_loss", "GAN_loss=(.*?);"),
    MetricDefinition("loss", "Los = (.*?);"),
)
FIXED = (
    MetricDefinition("GAN_loss", "GAN_loss=(.*?);"),
    MetricDefinition("loss", "Loss = (.*?);"),
    MetricDefinition("real", r"real ([0-9.]+)%"),
)
# Each run's chunks, in the order they come: (stream, bytes), a second apart.
CHUNKS = [
    ("stdout", b"GAN_loss=0.5; real 93.3% Loss = 16.0;\nGAN_lo"),
    ("stderr", b"warning: Loss = 99.0;\n"),
    ("stdout", b"ss=0.25; real 50.0% Loss = 8.0;\r\nLoss = x;\n"),
    ("stdout", b"GAN_loss=0.125; Loss = 4.0;"),  # no line end: parsed when the run ends
]


def spec(name: str, definitions: tuple[MetricDefinition, ...]) -> JobSpec:
    return JobSpec(name, "loss", "Minimize", "latest", "text", definitions, {})


def ship(ingestor: Ingestor, job: Job, run: str, chunks=CHUNKS, start: int = 0) -> None:
    for index, (stream, data) in enumerate(chunks, start):
        ingestor.append(job, run, stream, data, None, T0 + timedelta(seconds=index))


def everything(backend: Storage, job: Job, run: str) -> dict[str, object]:
    """All a run's readers see: status, objective value, summaries, every point."""
    found = backend.get_run(job, run)
    return {
        "status": found.status,
        "objective": found.objective_value,
        "summaries": sorted(
            (m.name, m.count, m.last, m.last_step, m.last_timestamp, m.min, m.max, m.rejected)
            for m in found.metrics
        ),
        "examples": sorted((m.name, tuple(m.examples)) for m in found.metrics),
        "points": {
            metric: backend.metric_series(job, run, metric, 0, 1000)[0]
            for metric in ("GAN_loss", "loss", "real")
        },
    }


@pytest.fixture
def ingestor(backend: Storage) -> Ingestor:
    return Ingestor(backend, ParserLimits())


def test_a_reparsed_job_has_what_the_fixed_definitions_give_from_the_start(backend, ingestor):
    typo = backend.create_job(spec("typo", TYPO))
    fixed = backend.create_job(spec("fixed", FIXED))
    for job in (typo, fixed):
        backend.create_run(job, "ended", {})
        ship(ingestor, job, "ended")
        ingestor.complete(job, "ended", RunStatus.COMPLETED, None)
        backend.create_run(job, "running", {})
        ship(ingestor, job, "running", CHUNKS[:3])
    assert backend.get_run(typo, "ended").objective_value is None

    typo = start_reparse(backend, typo, FIXED)
    assert typo.definitions_version == 2
    assert backend.reparse_progress(typo).reparsed == 0
    assert [reparse_run(backend, ingestor, typo, run) for run in ("ended", "running")] == [
        True,
        True,
    ]
    # Done once: the runs' points now come from version 2.
    assert reparse_run(backend, ingestor, typo, "ended") is False
    progress = backend.reparse_progress(typo)
    assert (progress.version, progress.runs, progress.reparsed, progress.done) == (2, 2, 2, True)

    for run in ("ended", "running"):
        assert everything(backend, typo, run) == everything(backend, fixed, run), run
    assert backend.get_run(typo, "ended").objective_value == 4.0
    assert [p.value for p in backend.metric_series(typo, "ended", "loss", 0, 10)[0]] == [
        16.0,
        99.0,
        8.0,
        4.0,
    ]
    # The running run goes on with the new definitions, as the other job's does.
    for job in (typo, fixed):
        ship(ingestor, job, "running", CHUNKS[3:], start=3)
        ingestor.complete(job, "running", RunStatus.COMPLETED, None)
    assert everything(backend, typo, "running") == everything(backend, fixed, "running")


def test_the_old_definitions_are_kept_in_the_jobs_history(backend):
    job = backend.create_job(spec("typo", TYPO))
    job = start_reparse(backend, job, FIXED, objective_metric="GAN_loss", strategy="min")

    history = backend.definitions_history(job)
    assert [(v.version, v.objective_metric, v.objective_strategy) for v in history] == [
        (1, "loss", "latest"),
        (2, "GAN_loss", "min"),
    ]
    assert history[0].metric_definitions == TYPO
    assert history[1].metric_definitions == FIXED
    assert history[0].replaced_at is not None and history[1].replaced_at is None
    assert backend.get_job("typo") == job


def test_a_new_objective_must_be_among_the_new_definitions(backend):
    job = backend.create_job(spec("typo", TYPO))
    with pytest.raises(InvalidObjective):
        start_reparse(backend, job, (MetricDefinition("acc", "acc=(.*)"),))
    assert backend.get_job("typo").definitions_version == 1


def test_a_new_objective_reranks_the_runs(backend, ingestor):
    job = backend.create_job(spec("gan", FIXED))
    for run, line in (("a", b"GAN_loss=0.1; Loss = 9.0;\n"), ("b", b"GAN_loss=0.9; Loss = 1.0;\n")):
        backend.create_run(job, run, {})
        ingestor.append(job, run, "stdout", line, None, T0)
        ingestor.complete(job, run, RunStatus.COMPLETED, None)
    assert backend.best_run(job, [RunStatus.COMPLETED]).name == "b"

    job = start_reparse(backend, job, FIXED, objective_metric="GAN_loss")
    Reparser(backend, ingestor).work()

    assert backend.best_run(job, [RunStatus.COMPLETED]).name == "a"
    assert backend.get_run(job, "a").objective_value == 0.1


def test_a_chunk_that_lands_during_the_reparse_is_parsed_once_with_the_new(backend, ingestor):
    job = backend.create_job(spec("typo", TYPO))
    backend.create_run(job, "run", {})
    ship(ingestor, job, "run", CHUNKS[:1])
    job = start_reparse(backend, job, FIXED)

    # The re-parse reads and parses the run; a chunk lands before it stores the result.
    run_log = backend.read_run_log(job, "run")
    replay = RunReplay(ingestor.parser(job))
    replay.feed(run_log)
    ship(ingestor, job, "run", CHUNKS[1:3], start=1)
    assert backend.replace_run_points(job, run_log.run, replay.seen, replay.complete)

    values = [p.value for p in backend.metric_series(job, "run", "loss", 0, 10)[0]]
    assert values == [16.0, 99.0, 8.0]


def test_a_chunk_parsed_with_the_old_definitions_is_parsed_again_after_the_reparse(
    backend, ingestor
):
    old = backend.create_job(spec("typo", TYPO))
    backend.create_run(old, "run", {})
    ship(ingestor, old, "run", CHUNKS[:1])
    new = start_reparse(backend, old, FIXED)
    Reparser(backend, ingestor).work()

    # A request that read the job before the re-parse sends the next chunk.
    ingestor.append(old, "run", "stdout", b"ss=0.25; Loss = 8.0;\n", None, T0)

    values = [p.value for p in backend.metric_series(new, "run", "loss", 0, 10)[0]]
    assert values == [16.0, 8.0]


def test_the_reparser_does_every_run_and_reports_progress(backend, ingestor):
    job = backend.create_job(spec("typo", TYPO))
    for run in ("a", "b", "c"):
        backend.create_run(job, run, {})
        ship(ingestor, job, run, CHUNKS[:1])
    job = start_reparse(backend, job, FIXED)
    assert backend.runs_to_reparse(10) == [("typo", "a"), ("typo", "b"), ("typo", "c")]

    assert Reparser(backend, ingestor).work() == 3

    assert backend.runs_to_reparse(10) == []
    assert backend.reparse_progress(job).done
    assert [backend.get_run(job, run).objective_value for run in ("a", "b", "c")] == [16.0] * 3


def test_a_process_that_kept_a_deleted_job_reparses_nothing_into_its_successor(
    backend, ingestor, open_backend
):
    old = backend.create_job(spec("typo", TYPO))
    backend.create_run(old, "a", {})
    start_reparse(backend, old, FIXED)
    other = open_backend()  # another service process, which keeps the re-parsed job
    other.get_job("typo")
    backend.delete_job(backend.get_job("typo"))
    new = backend.create_job(spec("typo", TYPO))
    backend.create_run(new, "a", {})
    ship(ingestor, new, "a", CHUNKS[:1])
    new = start_reparse(backend, new, FIXED[:2])  # no `real`, unlike the deleted job's

    reparser = Reparser(other, Ingestor(other, ParserLimits()))
    done = [reparser.work(), reparser.work()]

    assert done == [0, 1]  # the kept job is refused and forgotten; then the new one
    assert sorted(m.name for m in backend.get_run(new, "a").metrics) == ["GAN_loss", "loss"]
