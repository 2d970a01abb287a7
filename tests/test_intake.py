"""The one way a chunk is taken in, whichever protocol brought it (app/intake.py): the runs a
shipper may write to, and a chunk's points and stop decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.errors import InvalidInput, JobEnded, RunNotFound
from app.ingest import Ingestor
from app.intake import Intake, TimedChunk
from app.parsing import ParserLimits
from app.storage import SqlStorage
from app.telemetry import Telemetry
from app.tuning.tuner import Tuner
from tests.tuning.conftest import search_job_body

LOSS = {
    "name": "plain",
    "objective": {"MetricName": "loss", "Type": "Minimize"},
    "metric_definitions": [{"Name": "loss", "Regex": r"loss=(\S+);"}],
}


@pytest.fixture
def intake(storage: SqlStorage) -> Intake:
    """An intake of its own over the service's database (jobs are made through `api`)."""
    ingestor = Ingestor(storage, ParserLimits())
    return Intake(storage, ingestor, Tuner(storage, ingestor, 30.0), Telemetry(storage, {}))


def test_a_shippers_first_write_creates_the_run_of_a_job_without_a_search(
    api: httpx.Client, intake: Intake, storage: SqlStorage
) -> None:
    assert api.post("/v1/jobs", json=LOSS).status_code == 201
    job = storage.get_job("plain")
    intake.open_run(job, "pod-7")
    intake.open_run(job, "pod-7")  # a second write finds it
    taken = intake.take(job, "pod-7", "stdout", b"loss=0.5;\nloss=0.25;\n")
    assert (taken.appended.lines, taken.appended.points, taken.stop_reason) == (2, 2, None)
    runs = api.get("/v1/jobs/plain/runs").json()["runs"]
    # As POST /v1/jobs/plain/runs makes a run without hyperparameters.
    assert [(run["name"], run["status"], run["hyperparameters"]) for run in runs] == [
        ("pod-7", "InProgress", {"_tuning_objective_metric": "loss"})
    ]
    assert [(m["metric_name"], m["value"]) for m in runs[0]["final_metrics"]] == [("loss", 0.25)]


def test_a_run_name_that_post_v1_runs_refuses_is_refused(
    api: httpx.Client, intake: Intake, storage: SqlStorage
) -> None:
    api.post("/v1/jobs", json=LOSS)
    with pytest.raises(InvalidInput, match="run name 'pod_7' is not 1 to 63 letters"):
        intake.open_run(storage.get_job("plain"), "pod_7")
    assert api.get("/v1/jobs/plain/runs").json()["runs"] == []


def test_an_ended_job_takes_no_new_run(
    api: httpx.Client, intake: Intake, storage: SqlStorage
) -> None:
    api.post("/v1/jobs", json=LOSS)
    assert api.post("/v1/jobs/plain/stop").status_code == 200
    with pytest.raises(JobEnded, match="job 'plain' has ended"):
        intake.open_run(storage.get_job("plain"), "pod-7")


def test_a_searchs_runs_are_started_by_the_search_only(
    api: httpx.Client, intake: Intake, storage: SqlStorage
) -> None:
    assert api.post("/v1/jobs", json=search_job_body("tune")).status_code == 201
    with pytest.raises(RunNotFound, match="run 'pod-7' does not exist in job 'tune'"):
        intake.open_run(storage.get_job("tune"), "pod-7")


def test_a_batch_sent_again_is_stored_once_and_a_partly_stored_one_completed(api, intake, storage):
    api.post("/v1/jobs", json=LOSS)
    job = storage.get_job("plain")
    intake.open_run(job, "pod-7")
    first = datetime(2026, 12, 6, 8, 0, 0, 250_000, tzinfo=UTC)
    batch = [
        TimedChunk(b"loss=0.5;\n", first),
        TimedChunk(b"loss=0.25;\n", first + timedelta(seconds=1)),
        TimedChunk(b"loss=0.125;\n", first + timedelta(seconds=2)),
    ]
    # A first try stored its first two chunks, then its shipper timed out.
    assert list(intake.take_batch(job, "pod-7", "stdout", batch[:2])) == [10, 21]

    # The stream's length after each chunk, stored now or found stored.
    assert list(intake.take_batch(job, "pod-7", "stdout", batch)) == [21, 21, 33]
    assert list(intake.take_batch(job, "pod-7", "stdout", batch)) == [33, 33, 33]

    assert api.get("/v1/jobs/plain/runs/pod-7/logs").content == (
        b"loss=0.5;\nloss=0.25;\nloss=0.125;\n"
    )
    series = api.get("/v1/jobs/plain/runs/pod-7/metrics/loss").json()["points"]
    assert [point["value"] for point in series] == [0.5, 0.25, 0.125]
    # The same lines at another time are new lines, and so is a chunk without a time.
    later = [TimedChunk(b"loss=0.125;\n", first + timedelta(seconds=3))]
    assert list(intake.take_batch(job, "pod-7", "stdout", later)) == [45]
    untimed = [TimedChunk(b"loss=0.125;\n", None)]
    assert list(intake.take_batch(job, "pod-7", "stdout", untimed)) == [57]
    assert list(intake.take_batch(job, "pod-7", "stdout", untimed)) == [69]
