"""The one way a chunk is taken in, whichever protocol brought it (app/intake.py): the runs a
shipper may write to, and a chunk's points and stop decision."""

from __future__ import annotations

import httpx
import pytest

from app.errors import InvalidInput, JobEnded, RunNotFound
from app.ingest import Ingestor
from app.intake import Intake
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
