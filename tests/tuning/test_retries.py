"""Retries as AMT defines them (RetryStrategy.MaximumRetryAttempts): a run that fails for
the infrastructure (its worker lost, its launch failed) is tried again with the same
hyperparameters, as a new attempt of the same run; a failure of its code is not."""

from __future__ import annotations

import contextlib
import os
import signal
import textwrap
import time
from datetime import UTC, datetime

import pytest

from app.errors import RunEnded
from app.protocol.search import SearchSpec
from app.tuning.retries import retries_allowed
from tests.tuning.conftest import search_job_body
from tests.tuning.test_workers import read_notes, runs_of, wait_for


def _job(api, retries, runs=2, **search):
    body = search_job_body(
        "tune",
        resource_limits={"max_number_of_training_jobs": runs, "max_parallel_training_jobs": 1},
        **search,
    )
    body["search"]["retry_strategy"] = {"MaximumRetryAttempts": retries}
    assert api.post("/v1/jobs", json=body).status_code == 201


def _lease(api, worker):
    answer = api.post("/v1/leases", json={"worker": worker, "jobs": ["tune"]})
    assert answer.status_code == 200, answer.text
    return answer.json()["lease"]


def _lapse(api, worker, seconds=1.2):
    """Let the worker's lease lapse: it sends no heartbeat for longer than a lease."""
    time.sleep(seconds)


def test_a_run_whose_worker_is_lost_is_tried_again_with_its_hyperparameters(start_service):
    service = start_service(lease_seconds=1.0)
    api = service.client
    _job(api, retries=1)
    first = _lease(api, "w1")
    assert api.post("/v1/jobs/tune/runs/run-0001/logs", content=b"acc=0.5;\n").status_code == 200

    _lapse(api, "w1")
    again = _lease(api, "w2")  # the lease reaps w1's run and hands it out again

    assert (again["run"], again["hyperparameters"]) == ("run-0001", first["hyperparameters"])
    run = api.get("/v1/jobs/tune/runs/run-0001").json()
    assert (run["status"], run["attempt"], run["worker"], run["final_metrics"]) == (
        "InProgress",
        2,
        "w2",
        [],
    )
    assert [(a["attempt"], a["worker"], a["reason"]) for a in run["attempts"]] == [
        (1, "w1", "worker lost: no heartbeat for 1 s")
    ]
    # The first attempt's log is kept, under a name of its own.
    assert [s["name"] for s in run["streams"]] == ["attempt-1/stdout"]
    kept = api.get("/v1/jobs/tune/runs/run-0001/logs", params={"stream": "attempt-1/stdout"})
    assert kept.content == b"acc=0.5;\n"

    api.post("/v1/jobs/tune/runs/run-0001/logs", content=b"acc=0.75;\n")
    ended = api.post("/v1/jobs/tune/runs/run-0001/complete", json={"status": "Completed"})
    assert (ended.json()["status"], ended.json()["objective"]["value"]) == ("Completed", 0.75)

    # The search goes on with its next run: a retry is not a run of its own.
    second = _lease(api, "w2")
    assert second["run"] == "run-0002"
    _lapse(api, "w2")
    assert _lease(api, "w3")["run"] == "run-0002"
    _lapse(api, "w3")
    assert _lease(api, "w4") is None  # its one retry spent: it fails, and the search ends
    failed = api.get("/v1/jobs/tune/runs/run-0002").json()
    assert (failed["status"], failed["failure_reason"], failed["attempt"]) == (
        "Failed",
        "worker lost: no heartbeat for 1 s",
        2,
    )
    job = api.get("/v1/jobs/tune").json()
    assert job["training_job_status_counters"] == {
        "completed": 1,
        "in_progress": 0,
        "retryable_error": 2,
        "non_retryable_error": 1,
        "stopped": 0,
    }
    assert [r["name"] for r in runs_of(api)] == ["run-0001", "run-0002"]


def test_a_launch_failure_is_tried_again_and_a_failure_of_the_code_is_not(start_service):
    service = start_service(lease_seconds=30.0)
    api = service.client
    _job(api, retries=2, runs=2)
    _lease(api, "w1")
    launch = {"status": "Failed", "failure_reason": "no docker", "infrastructure_failure": True}

    answer = api.post("/v1/jobs/tune/runs/run-0001/complete", json=launch).json()
    assert (answer["status"], answer["attempt"], answer["worker"]) == ("InProgress", 2, None)
    assert _lease(api, "w2")["run"] == "run-0001"
    code = {"status": "Failed", "failure_reason": "Traceback: ZeroDivisionError"}
    answer = api.post("/v1/jobs/tune/runs/run-0001/complete", json=code).json()
    assert (answer["status"], answer["attempt"], answer["failure_reason"]) == (
        "Failed",
        2,
        "Traceback: ZeroDivisionError",
    )
    assert [a["reason"] for a in answer["attempts"]] == ["no docker"]


def test_without_a_retry_strategy_a_lost_worker_fails_its_run(start_service):
    service = start_service(lease_seconds=1.0)
    api = service.client
    body = search_job_body("tune", resource_limits={"max_number_of_training_jobs": 1})
    api.post("/v1/jobs", json=body)
    _lease(api, "w1")
    _lapse(api, "w1")
    assert _lease(api, "w2") is None
    run = api.get("/v1/jobs/tune/runs/run-0001").json()
    assert (run["status"], run["attempt"], run["attempts"]) == ("Failed", 1, [])


# Sleeps a minute the first time (its worker is killed meanwhile), not the second.
TRAINER = textwrap.dedent(
    """
    import json, os, sys, time
    notes, marker = sys.argv[1], sys.argv[2]
    with open(notes, "a") as f:
        f.write(json.dumps({"run": os.environ["LOGMETRICS_RUN"], "pid": os.getpid(),
                            "hps": json.loads(os.environ["SM_HPS"])}) + "\\n")
    print(f"acc={1 - float(json.loads(os.environ['SM_HPS'])['lr'])};", flush=True)
    if not os.path.exists(marker):
        open(marker, "w").close()
        time.sleep(60)
    """
)


def test_a_killed_workers_run_is_finished_by_another_worker(start_service, start_worker, tmp_path):
    script = tmp_path / "retried.py"
    script.write_text(TRAINER)
    notes = tmp_path / "notes.jsonl"
    command = ["python3", str(script), str(notes), str(tmp_path / "marker")]
    service = start_service(lease_seconds=1.0)
    api = service.client
    _job(api, retries=1, runs=1, command=command)
    first = start_worker(service.url, "--job", "tune", "--name", "first")
    wait_for(lambda: read_notes(notes))

    first.send_signal(signal.SIGKILL)
    first.wait()
    try:
        start_worker(service.url, "--job", "tune", "--name", "second").wait(timeout=60)
    finally:
        for note in read_notes(notes):  # the first attempt's command outlived its worker
            with contextlib.suppress(ProcessLookupError):
                os.kill(note["pid"], signal.SIGKILL)

    run = api.get("/v1/jobs/tune/runs/run-0001").json()
    attempts = read_notes(notes)
    assert [note["hps"] for note in attempts] == [attempts[0]["hps"]] * 2
    assert (run["status"], run["attempt"], run["worker"]) == ("Completed", 2, "second")
    assert [(a["worker"], a["reason"]) for a in run["attempts"]] == [
        ("first", "worker lost: no heartbeat for 1 s")
    ]
    # Its points are the second attempt's alone: one line, once.
    points = api.get("/v1/jobs/tune/runs/run-0001/metrics/acc").json()["points"]
    assert len(points) == 1
    assert api.get("/v1/jobs/tune").json()["status"] == "Completed"


def test_how_many_retries_a_search_allows():
    base = {"command": ["true"], "strategy": "Grid"}
    definition = {"TrainingJobDefinition": {"RetryStrategy": {"MaximumRetryAttempts": 3}}}
    assert retries_allowed(SearchSpec.model_validate(base)) == 0
    assert retries_allowed(SearchSpec.model_validate({**base, "sagemaker": definition})) == 3
    given = {**base, "sagemaker": definition, "RetryStrategy": {"MaximumRetryAttempts": 1}}
    assert retries_allowed(SearchSpec.model_validate(given)) == 1


def test_a_lease_request_sent_again_gets_the_run_the_first_one_leased(start_service):
    service = start_service(lease_seconds=30.0, api_tokens="admin:" + "a" * 24)
    api = service.client
    admin = {"Authorization": "Bearer " + "a" * 24}
    limits = {"max_number_of_training_jobs": 3, "max_parallel_training_jobs": 3}
    body = search_job_body("tune", resource_limits=limits)
    assert api.post("/v1/jobs", json=body, headers=admin).status_code == 201

    def lease(worker, request):
        asked = {"worker": worker, "jobs": ["tune"], "request_id": request}
        return api.post("/v1/leases", json=asked, headers=admin).json()["lease"]

    first = lease("w1", "req-1")
    # Its answer was lost (the service died as it answered): the worker asks again.
    again = lease("w1", "req-1")
    assert (again["run"], again["hyperparameters"]) == (first["run"], first["hyperparameters"])
    # A new token: the first answer's never reached anyone, and no longer writes.
    assert again["ingest_token"] != first["ingest_token"]
    stale = {"Authorization": f"Bearer {first['ingest_token']}"}
    fresh = {"Authorization": f"Bearer {again['ingest_token']}"}
    path = f"/v1/jobs/tune/runs/{first['run']}/logs"
    assert api.post(path, content=b"acc=0.5;\n", headers=stale).status_code == 401
    assert api.post(path, content=b"acc=0.5;\n", headers=fresh).status_code == 200
    # Another request, or another worker with the same id, gets another run.
    assert lease("w1", "req-2")["run"] == "run-0002"
    assert lease("w2", "req-1")["run"] == "run-0003"


def _retried(api, worker="w1"):
    """Lease run-0001 and fail its first attempt for the infrastructure."""
    lease = _lease(api, worker)
    launch = {"status": "Failed", "failure_reason": "no docker", "infrastructure_failure": True}
    answer = api.post("/v1/jobs/tune/runs/run-0001/complete", json=launch).json()
    assert (answer["status"], answer["attempt"]) == ("InProgress", 2)
    return lease


def test_stopping_a_job_ends_a_run_that_waits_for_its_next_attempt(start_service):
    service = start_service(lease_seconds=30.0)
    api = service.client
    _job(api, retries=2)
    _retried(api)

    stopped = api.post("/v1/jobs/tune/stop").json()

    assert stopped["status"] == "Stopped"
    run = api.get("/v1/jobs/tune/runs/run-0001").json()
    assert (run["status"], run["failure_reason"]) == ("Stopped", "the job was stopped")


def test_a_met_criterion_ends_a_run_that_waits_for_its_next_attempt(start_service):
    service = start_service(lease_seconds=30.0)
    api = service.client
    body = search_job_body(
        "tune",
        resource_limits={"max_number_of_training_jobs": 3, "max_parallel_training_jobs": 2},
        completion_criteria={"target_objective_metric_value": 0.9},
    )
    body["search"]["retry_strategy"] = {"maximum_retry_attempts": 2}
    api.post("/v1/jobs", json=body)
    _retried(api)
    second = _lease(api, "w2")
    assert second["run"] == "run-0001"  # the run waiting for its attempt comes first
    third = _lease(api, "w3")
    api.post(f"/v1/jobs/tune/runs/{third['run']}/logs", content=b"acc=0.95;\n")
    api.post(f"/v1/jobs/tune/runs/{third['run']}/complete", json={"status": "Completed"})
    # run-0001's second attempt fails for the infrastructure too, after the criterion.
    launch = {"status": "Failed", "failure_reason": "disk full", "infrastructure_failure": True}
    api.post("/v1/jobs/tune/runs/run-0001/complete", json=launch)

    job = api.get("/v1/jobs/tune").json()
    run = api.get("/v1/jobs/tune/runs/run-0001").json()
    assert (job["status"], run["status"], run["failure_reason"]) == (
        "Completed",
        "Failed",
        "disk full",
    )


def test_an_ended_attempts_token_and_ends_no_longer_count(start_service):
    token = "a" * 24
    service = start_service(lease_seconds=30.0, api_tokens=f"admin:{token}")
    api = service.client
    admin = {"Authorization": f"Bearer {token}"}
    body = search_job_body("tune", resource_limits={"max_number_of_training_jobs": 1})
    body["search"]["retry_strategy"] = {"maximum_retry_attempts": 3}
    api.post("/v1/jobs", json=body, headers=admin)
    first = api.post("/v1/leases", json={"worker": "w1"}, headers=admin).json()["lease"]
    assert first["attempt"] == 1
    own = {"Authorization": f"Bearer {first['ingest_token']}"}
    launch = {"status": "Failed", "infrastructure_failure": True, "attempt": 1}
    assert (
        api.post("/v1/jobs/tune/runs/run-0001/complete", json=launch, headers=own).json()["attempt"]
        == 2
    )

    # Waiting for its next attempt, the run takes nothing from the ended one's token...
    path = "/v1/jobs/tune/runs/run-0001"
    assert api.post(f"{path}/logs", content=b"acc=0.99;\n", headers=own).status_code == 401
    # ... nor, from an admin, logs or an end that would spend its retries unrun.
    refused = api.post(f"{path}/complete", json=launch, headers=admin)
    assert (refused.status_code, refused.json()["error"]) == (409, "run_awaits_attempt")
    logs = api.post(f"{path}/logs", content=b"acc=0.99;\n", headers=admin)
    assert (logs.status_code, logs.json()["error"]) == (409, "run_awaits_attempt")

    second = api.post("/v1/leases", json={"worker": "w2"}, headers=admin).json()["lease"]
    assert (second["run"], second["attempt"]) == ("run-0001", 2)
    # The first attempt's worker, back from a partition, is told its attempt has ended.
    stale_beat = {"worker": "w2", "attempt": 1}
    beat = api.post(f"{path}/heartbeat", json=stale_beat, headers=admin)
    assert (beat.status_code, beat.json()["error"]) == (409, "run_awaits_attempt")
    stale_end = {"status": "Completed", "attempt": 1}
    end = api.post(f"{path}/complete", json=stale_end, headers=admin)
    assert (end.status_code, end.json()["error"]) == (409, "run_awaits_attempt")
    run = api.get(path, headers=admin).json()
    assert (run["status"], run["attempt"], run["worker"]) == ("InProgress", 2, "w2")


def test_the_names_of_earlier_attempts_streams_are_the_services_own(start_service):
    service = start_service(lease_seconds=30.0)
    api = service.client
    _job(api, retries=1)
    _lease(api, "w1")
    refused = api.post(
        "/v1/jobs/tune/runs/run-0001/logs",
        params={"stream": "attempt-1/stdout"},
        content=b"acc=0.5;\n",
    )
    assert (refused.status_code, refused.json()["error"]) == (422, "invalid_input")
    assert "attempt-<n>/... are the service's own" in refused.json()["message"]
    api.post("/v1/jobs/tune/runs/run-0001/logs", content=b"acc=0.5;\n")
    launch = {"status": "Failed", "infrastructure_failure": True}
    assert api.post("/v1/jobs/tune/runs/run-0001/complete", json=launch).status_code == 200
    assert [s["name"] for s in api.get("/v1/jobs/tune/runs/run-0001").json()["streams"]] == [
        "attempt-1/stdout"
    ]


def test_the_reaper_tries_no_run_again_whose_lease_was_renewed_meanwhile(service, storage):
    api = service.client
    _job(api, retries=1)
    _lease(api, "w1")
    job = storage.get_job("tune")
    seen = storage.get_run(job, "run-0001")  # read as lapsed; then a heartbeat came
    api.post("/v1/jobs/tune/runs/run-0001/heartbeat", json={"worker": "w1", "attempt": 1})

    now = datetime.now(UTC)
    with pytest.raises(RunEnded, match="or its lease was renewed"):
        storage.retry_run(job, seen, "worker lost", now, lapsed_by=now)
    assert api.get("/v1/jobs/tune/runs/run-0001").json()["attempt"] == 1


def test_a_run_two_reapers_read_as_lapsed_is_tried_again_once(service, storage):
    # The reaper thread and a lease request both reap: the second reads the run after
    # the first tried it again, waiting for its next attempt and held by no worker.
    api = service.client
    _job(api, retries=3)
    _lease(api, "w1")
    job = storage.get_job("tune")
    storage.retry_run(job, storage.get_run(job, "run-0001"), "worker lost", datetime.now(UTC))
    waiting = storage.get_run(job, "run-0001")

    now = datetime.now(UTC)
    with pytest.raises(RunEnded, match="or its lease was renewed"):
        storage.retry_run(job, waiting, "worker lost", now, lapsed_by=now)
    run = api.get("/v1/jobs/tune/runs/run-0001").json()
    assert (run["attempt"], [a["worker"] for a in run["attempts"]]) == (2, ["w1"])


def test_a_run_whose_worker_is_stopped_is_finished_by_another_worker(
    start_service, start_worker, tmp_path
):
    script = tmp_path / "retried.py"
    script.write_text(TRAINER)
    notes = tmp_path / "notes.jsonl"
    command = ["python3", str(script), str(notes), str(tmp_path / "marker")]
    service = start_service(lease_seconds=30.0)
    api = service.client
    _job(api, retries=1, runs=1, command=command)
    first = start_worker(service.url, "--job", "tune", "--name", "first", "--stop-grace", "1")
    wait_for(lambda: read_notes(notes))

    first.send_signal(signal.SIGTERM)  # its machine is going away: not the run's failure
    assert first.wait(timeout=30) == 143
    waiting = api.get("/v1/jobs/tune/runs/run-0001").json()
    assert (waiting["status"], waiting["attempt"], waiting["worker"]) == ("InProgress", 2, None)
    start_worker(service.url, "--job", "tune", "--name", "second").wait(timeout=60)

    run = api.get("/v1/jobs/tune/runs/run-0001").json()
    assert (run["status"], run["attempt"], run["worker"]) == ("Completed", 2, "second")
    assert [(a["worker"], a["reason"]) for a in run["attempts"]] == [
        ("first", "the worker was stopped")
    ]
