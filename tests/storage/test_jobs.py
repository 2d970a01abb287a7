"""Jobs: create, read, list, and the overview of their runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from app.errors import JobExists, JobNotFound
from app.records import JobStatus, MetricDefinition, Point, RunStatus, StreamState
from app.storage import JobSpec

from .factories import chunk

NO_RUNS = {"InProgress": 0, "Completed": 0, "Failed": 0, "Stopped": 0}


def test_a_created_job_reads_back_as_given(backend):
    spec = JobSpec(
        name="xgb-churn",
        objective_metric="validation:auc",
        objective_type="Maximize",
        objective_strategy="max",
        log_format="cloudwatch",
        metric_definitions=(
            MetricDefinition("train:auc", r".*\[[0-9]+\].*#011train-auc:(\S+).*"),
            MetricDefinition("validation:auc", r".*\[[0-9]+\].*#011validation-auc:(\S+).*"),
        ),
        environment={"OMP_NUM_THREADS": "2", "PYTHONHASHSEED": "0"},
    )

    created = backend.create_job(spec)
    read = backend.get_job("xgb-churn")

    assert read == created
    assert (
        read.name,
        read.objective_metric,
        read.objective_type,
        read.objective_strategy,
        read.log_format,
        read.metric_definitions,
        dict(read.environment),
    ) == (
        "xgb-churn",
        "validation:auc",
        "Maximize",
        "max",
        "cloudwatch",
        (
            MetricDefinition("train:auc", r".*\[[0-9]+\].*#011train-auc:(\S+).*"),
            MetricDefinition("validation:auc", r".*\[[0-9]+\].*#011validation-auc:(\S+).*"),
        ),
        {"OMP_NUM_THREADS": "2", "PYTHONHASHSEED": "0"},
    )
    assert isinstance(read.created_at, datetime)
    assert read.created_at.utcoffset() is not None


def test_a_job_may_have_no_definitions_and_no_environment(backend, make_job):
    make_job(name="empty", definitions=())

    job = backend.get_job("empty")

    assert (job.metric_definitions, dict(job.environment)) == ((), {})


def test_a_second_job_with_the_same_name_is_refused(backend, make_job):
    make_job(name="gan", objective_type="Minimize")

    with pytest.raises(JobExists) as refused:
        make_job(name="gan", objective_type="Maximize")

    assert refused.value.message == "job 'gan' already exists"
    assert backend.get_job("gan").objective_type == "Minimize"


def test_names_are_case_sensitive(backend, make_job):
    make_job(name="gan")
    make_job(name="GAN")

    assert [overview.job.name for overview in backend.list_jobs()] == ["GAN", "gan"]


def test_an_unknown_job_is_not_found(backend, make_job):
    make_job(name="gan")

    with pytest.raises(JobNotFound) as missing:
        backend.get_job("gan-2")

    assert missing.value.message == "job 'gan-2' does not exist"


def test_no_jobs_list_empty(backend):
    assert backend.list_jobs() == []


def test_jobs_list_newest_first(backend, make_job):
    for name in ("first", "second", "third"):
        make_job(name=name)

    assert [overview.job.name for overview in backend.list_jobs()] == ["third", "second", "first"]


def test_the_job_list_gives_each_job_its_counts_and_best_run(backend, make_job, make_run):
    gan = make_job(name="gan")
    make_job(name="idle")
    best = make_run(gan, "lr-0-001")
    backend.append_chunk(
        gan,
        best,
        chunk(
            b"Loss = 0.5;\n", StreamState(next_offset=12, lines=1), [Point("loss", 0.5, None, 1, 0)]
        ),
    )
    backend.complete_run(gan, best, RunStatus.COMPLETED, None, best.created_at, ())
    make_run(gan, "lr-0-1")

    overviews = {overview.job.name: overview for overview in backend.list_jobs()}

    assert dict(overviews["gan"].run_counts) == {**NO_RUNS, "InProgress": 1, "Completed": 1}
    assert overviews["gan"].best_run is not None
    assert (overviews["gan"].best_run.name, overviews["gan"].best_run.objective_value) == (
        "lr-0-001",
        0.5,
    )
    assert dict(overviews["idle"].run_counts) == NO_RUNS
    assert overviews["idle"].best_run is None


def test_a_waiting_note_replaces_only_a_note_of_its_kind_while_the_job_is_in_progress(
    backend, make_job
):
    job = make_job()
    waiting = "waiting for a worker with "

    assert backend.note_waiting(job, waiting + "4 GPUs", waiting)
    assert backend.job_state(job).reason == "waiting for a worker with 4 GPUs"
    assert not backend.note_waiting(job, waiting + "4 GPUs", waiting)  # nothing new
    assert backend.note_waiting(job, None, waiting)
    assert backend.job_state(job).reason is None
    # Another reason, or a met criterion, or an ended job: never written over.
    state = backend.job_state(job)
    backend.set_job_state(job, [JobStatus.IN_PROGRESS], replace(state, reason="by hand"))
    assert not backend.note_waiting(job, waiting + "2 GPUs", waiting)
    met = replace(state, completion=("TargetObjectiveMetricValue", "reached 0.1"))
    backend.set_job_state(job, [JobStatus.IN_PROGRESS], met)
    assert not backend.note_waiting(job, waiting + "2 GPUs", waiting)
    assert backend.job_state(job).reason is None
    stopped = replace(state, status=JobStatus.STOPPED)
    backend.set_job_state(job, [JobStatus.IN_PROGRESS], stopped)
    assert not backend.note_waiting(job, waiting + "2 GPUs", waiting)
