"""Runs: created InProgress, named by the user or generated, read back whole."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.errors import RunExists, RunNotFound
from app.records import RunStatus


def test_a_new_run_is_in_progress_with_its_hyperparameters(backend, make_job):
    job = make_job()

    created = backend.create_run(
        job, "lr-3e-4", {"learning_rate": "0.0003", "batch_size": "64", "use_bn": "true"}
    )

    read = backend.get_run(job, "lr-3e-4")
    assert read == created
    assert (
        read.job,
        read.name,
        read.status,
        read.failure_reason,
        read.ended_at,
        dict(read.hyperparameters),
        read.objective_metric,
        read.objective_value,
        read.metrics,
        read.streams,
    ) == (
        "gan",
        "lr-3e-4",
        RunStatus.IN_PROGRESS,
        None,
        None,
        {"learning_rate": "0.0003", "batch_size": "64", "use_bn": "true"},
        "loss",
        None,
        (),
        (),
    )


def test_run_names_are_generated_in_sequence(backend, make_job, make_run):
    job = make_job()

    names = [make_run(job).name for _ in range(3)]

    assert names == ["run-0001", "run-0002", "run-0003"]


def test_a_generated_name_skips_one_a_user_took(backend, make_job, make_run):
    job = make_job()
    make_run(job)
    make_run(job, "run-0002")

    assert [make_run(job).name, make_run(job).name] == ["run-0003", "run-0004"]


def test_generated_names_count_per_job(backend, make_job, make_run):
    gan = make_job(name="gan")
    xgb = make_job(name="xgb")
    make_run(gan)
    make_run(gan)

    assert make_run(xgb).name == "run-0001"


def test_a_taken_run_name_is_refused(backend, make_job, make_run):
    job = make_job()
    make_run(job, "baseline", {"learning_rate": "0.1"})

    with pytest.raises(RunExists) as refused:
        make_run(job, "baseline", {"learning_rate": "0.2"})

    assert refused.value.message == "run 'baseline' already exists in job 'gan'"
    assert dict(backend.get_run(job, "baseline").hyperparameters) == {"learning_rate": "0.1"}


def test_two_jobs_may_have_runs_of_the_same_name(backend, make_job, make_run):
    gan = make_job(name="gan")
    xgb = make_job(name="xgb", objective_metric="GAN_loss")
    make_run(gan, "baseline", {"lr": "0.1"})
    make_run(xgb, "baseline", {"lr": "0.2"})

    assert dict(backend.get_run(gan, "baseline").hyperparameters) == {"lr": "0.1"}
    assert dict(backend.get_run(xgb, "baseline").hyperparameters) == {"lr": "0.2"}
    assert backend.get_run(xgb, "baseline").objective_metric == "GAN_loss"


def test_an_unknown_run_is_not_found(backend, make_job, make_run):
    gan = make_job(name="gan")
    xgb = make_job(name="xgb")
    make_run(xgb, "baseline")

    with pytest.raises(RunNotFound) as missing:
        backend.get_run(gan, "baseline")

    assert missing.value.message == "run 'baseline' does not exist in job 'gan'"


@pytest.mark.parametrize(
    "read",
    [
        lambda backend, job: backend.read_stream(job, "nope", "stdout"),
        lambda backend, job: backend.read_run_streams(job, "nope"),
        lambda backend, job: backend.metric_series(job, "nope", "loss", 0, 10),
        lambda backend, job: backend.read_log(job, "nope", "stdout"),
    ],
    ids=["read_stream", "read_run_streams", "metric_series", "read_log"],
)
def test_reads_of_an_unknown_run_raise_run_not_found(backend, make_job, read):
    job = make_job()

    with pytest.raises(RunNotFound):
        read(backend, job)


def test_runs_created_at_once_get_distinct_generated_names(backend, make_job):
    job = make_job()
    start = threading.Barrier(8, timeout=60)

    def create(_):
        start.wait()
        return backend.create_run(job, None, {}).name

    with ThreadPoolExecutor(8) as pool:
        names = list(pool.map(create, range(8)))

    assert sorted(names) == [f"run-{i:04d}" for i in range(1, 9)]


# Ingest tokens: the storage keeps the hash it is given for a new run, by the run's id.


def test_a_run_keeps_the_hash_of_its_ingest_token(backend, make_job):
    job = make_job()
    given_ids = []

    def token_hash(run_id):
        given_ids.append(run_id)
        return f"sha256:{run_id:08d}"

    run = backend.create_run(job, "lr-0-01", {}, token_hash)

    assert given_ids == [run.id]
    assert backend.run_id(job, "lr-0-01") == run.id
    assert backend.run_token_hash(run.id) == f"sha256:{run.id:08d}"


@pytest.mark.parametrize("token_hash", [None, lambda run_id: None], ids=["no-callback", "no-hash"])
def test_a_run_without_a_token_has_no_hash(backend, make_job, token_hash):
    job = make_job()

    run = backend.create_run(job, "lr-0-01", {}, token_hash)

    assert backend.run_token_hash(run.id) is None


def test_an_unknown_run_has_no_id_and_no_token_hash(backend, make_job, make_run):
    job = make_job()
    run = make_run(job, "lr-0-01")

    with pytest.raises(RunNotFound):
        backend.run_id(job, "lr-0-02")
    assert backend.run_token_hash(run.id + 1000) is None
