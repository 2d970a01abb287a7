"""Tags: a job's and a run's, added, replaced, listed in the order first added, deleted,
bounded, and gone with what holds them."""

from __future__ import annotations

import pytest

from app.errors import InvalidInput, JobNotFound, RunNotFound
from app.records import Tag


def test_tags_are_added_replaced_listed_in_order_and_deleted(backend, make_job):
    job = make_job()

    after = backend.add_tags(job, None, [Tag("team", "vision"), Tag("cost", "a1")], most=50)
    assert after == [Tag("team", "vision"), Tag("cost", "a1")]

    # A key held takes the new value in its place; of a key given twice, the last value.
    after = backend.add_tags(
        job, None, [Tag("env", "x"), Tag("team", "nlp"), Tag("env", "prod")], most=50
    )
    assert after == [Tag("team", "nlp"), Tag("cost", "a1"), Tag("env", "prod")]
    assert backend.tags(job) == after

    backend.delete_tags(job, None, ["cost", "never-held"])
    assert backend.tags(job) == [Tag("team", "nlp"), Tag("env", "prod")]
    # A key added again after its deletion goes last.
    assert backend.add_tags(job, None, [Tag("cost", "b2")], most=50)[-1] == Tag("cost", "b2")


def test_a_runs_tags_are_its_own(backend, make_job, make_run):
    job = make_job()
    make_run(job, "run-a")
    make_run(job, "run-b")
    backend.add_tags(job, None, [Tag("of", "job")], most=50)

    backend.add_tags(job, "run-a", [Tag("of", "run-a"), Tag("empty", "")], most=50)

    assert backend.tags(job, "run-a") == [Tag("of", "run-a"), Tag("empty", "")]
    assert backend.tags(job, "run-b") == []
    assert backend.tags(job) == [Tag("of", "job")]
    backend.delete_tags(job, "run-a", ["of"])
    assert backend.tags(job, "run-a") == [Tag("empty", "")]
    assert backend.tags(job) == [Tag("of", "job")]


def test_more_tags_than_allowed_are_refused_and_none_is_added(backend, make_job):
    job = make_job()
    backend.add_tags(job, None, [Tag(f"k{i}", "v") for i in range(3)], most=4)

    with pytest.raises(InvalidInput, match="would have 5 tags; a resource may have at most 4"):
        backend.add_tags(job, None, [Tag("k0", "new"), Tag("x", "1"), Tag("y", "2")], most=4)

    assert backend.tags(job) == [Tag("k0", "v"), Tag("k1", "v"), Tag("k2", "v")]
    # Replacing values of held keys adds none: allowed at the limit.
    assert len(backend.add_tags(job, None, [Tag("k0", "w"), Tag("x", "1")], most=4)) == 4


def test_a_missing_run_or_a_deleted_job_is_named(backend, make_job, make_run):
    job = make_job()
    with pytest.raises(RunNotFound):
        backend.tags(job, "nope")
    with pytest.raises(RunNotFound):
        backend.add_tags(job, "nope", [Tag("a", "b")], most=50)
    with pytest.raises(RunNotFound):
        backend.delete_tags(job, "nope", ["a"])

    backend.delete_job(job)
    with pytest.raises(JobNotFound):
        backend.tags(job)
    with pytest.raises(JobNotFound):
        backend.add_tags(job, None, [Tag("a", "b")], most=50)


def test_tags_go_with_their_job_and_run(backend, make_job, make_run):
    job = make_job()
    make_run(job, "run-a")
    backend.add_tags(job, None, [Tag("a", "job")], most=50)
    backend.add_tags(job, "run-a", [Tag("a", "run")], most=50)

    backend.delete_run(job, "run-a")
    make_run(job, "run-a")  # a new run of the same name starts without tags
    assert backend.tags(job, "run-a") == []

    backend.delete_job(job)
    again = make_job()  # SQLite may give it the deleted job's id
    make_run(again, "run-a")
    assert backend.tags(again) == []
    assert backend.tags(again, "run-a") == []
