"""`Storage.objective_curves`: every run's curve, or one run's and those the median rule
compares it with (the runs its search started before it that did not fail)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.records import Job, Point, RunStatus, StreamState
from app.storage import JobSpec, PlannedRun, Storage

from .factories import GAN_DEFINITIONS, chunk

SEARCH = {
    "strategy": "Random",
    "command": ["true"],
    "resource_limits": {"max_number_of_training_jobs": 10, "max_parallel_training_jobs": 10},
    "parameter_ranges": {
        "ContinuousParameterRanges": [{"Name": "lr", "MinValue": 0, "MaxValue": 1}]
    },
}


def _search_job(backend: Storage) -> Job:
    """Job `s`, minimizing `loss`: search runs run-0001 to run-0004 (run-0002 failed,
    run-0004 in progress), then a run `manual` no search started; run-0001 and run-0004 also
    log a `d_loss` point that is no objective."""
    job = backend.create_job(
        JobSpec("s", "loss", "Minimize", "latest", "text", GAN_DEFINITIONS, {}, search=SEARCH)
    )
    for number in range(1, 5):
        leased = backend.lease_run(None, "w", 60, lambda *_: PlannedRun({"lr": "0.5"}))
        assert leased is not None
        run = leased[1]
        values = [number / 10, number + 0.5]
        data = b"".join(f"loss = {v!r};\n".encode() for v in values)
        found = [Point("loss", v, step, 0, 0) for step, v in enumerate(values, 1)]
        if number in (1, 4):
            found.append(Point("d_loss", 9.0, 1, 0, 0))
        backend.append_chunk(job, run, chunk(data, StreamState(len(data), 2), found))
        if number != 4:
            status = RunStatus.FAILED if number == 2 else RunStatus.COMPLETED
            backend.complete_run(job, run, status, None, datetime.now(UTC), ())
    backend.create_run(job, "manual", {})
    return job


def test_every_runs_curve_oldest_first(backend: Storage) -> None:
    job = _search_job(backend)

    curves = backend.objective_curves(job)

    assert [(c.run, c.search_index, c.status, c.points) for c in curves] == [
        ("run-0001", 0, RunStatus.COMPLETED, ((1, 0.1), (2, 1.5))),
        ("run-0002", 1, RunStatus.FAILED, ((1, 0.2), (2, 2.5))),
        ("run-0003", 2, RunStatus.COMPLETED, ((1, 0.3), (2, 3.5))),
        ("run-0004", 3, RunStatus.IN_PROGRESS, ((1, 0.4), (2, 4.5))),
        ("manual", None, RunStatus.IN_PROGRESS, ()),
    ]


def test_one_runs_curve_with_the_earlier_runs_that_did_not_fail(backend: Storage) -> None:
    job = _search_job(backend)

    def read(run: str) -> list[tuple[str, tuple[tuple[int, float], ...]]]:
        return [(c.run, c.points) for c in backend.objective_curves(job, run)]

    assert read("run-0004") == [
        ("run-0001", ((1, 0.1), (2, 1.5))),
        ("run-0003", ((1, 0.3), (2, 3.5))),
        ("run-0004", ((1, 0.4), (2, 4.5))),
    ]
    assert read("run-0002") == [
        ("run-0001", ((1, 0.1), (2, 1.5))),
        ("run-0002", ((1, 0.2), (2, 2.5))),
    ]
    assert read("run-0001") == [("run-0001", ((1, 0.1), (2, 1.5)))]
    assert read("manual") == [("manual", ())]
    assert read("nope") == read("a\x00b") == []


def test_the_metrics_with_points_are_those_some_run_logged(backend: Storage) -> None:
    job = _search_job(backend)
    empty = backend.create_job(
        JobSpec("e", "loss", "Minimize", "latest", "text", GAN_DEFINITIONS, {})
    )

    assert backend.metrics_with_points(job) == ["d_loss", "loss"]
    assert backend.metrics_with_points(empty) == []
