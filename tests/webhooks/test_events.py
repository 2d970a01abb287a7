"""Each event delivered to a real receiver with its documented body, JSON and Slack,
signed; and one delivery per event and webhook however often it is recorded."""

from __future__ import annotations

import hashlib
import hmac
import re

from app.records import Point, RunStatus, StreamState
from app.storage import create_storage
from app.storage.webhook_records import WebhookEvent, WebhookEventKind
from app.webhooks.events import best_before, new_best, record_run_end
from tests.storage.factories import T0, T1, chunk
from tests.tuning.conftest import search_job_body

SECRET = "s3cret-s3cret-s3cret"
# Three runs' acc at steps 1 to 5 (running averages at step 4: 0.65, 0.75, 0.85), then a
# fourth below their median at step 4: stopped early (tests/tuning/test_service.py).
CURVES = [
    "acc=0.5;\nacc=0.6;\nacc=0.7;\nacc=0.8;\nacc=0.9;\n",
    "acc=0.6;\nacc=0.7;\nacc=0.8;\nacc=0.9;\nacc=0.95;\n",
    "acc=0.7;\nacc=0.8;\nacc=0.9;\nacc=1.0;\n",
]
REASON = "stopped early at step 4: 0.71 < median 0.75 of 3 earlier runs' running averages"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def _search(api, post_log, complete_run):
    """A search of 5 runs: 3 new bests, one stopped early, one failed; then it ends."""
    runs = []
    for _ in range(5):
        answer = api.post("/v1/leases", json={"worker": "w", "jobs": ["tune"]}).json()
        runs.append(answer["lease"]["run"])
    for run, log in zip(runs, CURVES, strict=False):
        post_log(run, log, job="tune")
        assert complete_run(run, job="tune").status_code == 200
    post_log(runs[3], "acc=0.5;\nacc=0.6;\nacc=0.65;\nacc=0.71;\n", job="tune")
    assert complete_run(runs[3], "Failed", job="tune").json()["status"] == "Stopped"
    post_log(runs[4], "acc=0.2;\n", job="tune")
    failed = complete_run(runs[4], "Failed", job="tune", failure_reason="CUDA out of memory")
    assert failed.json()["status"] == "Failed"
    return runs


def test_each_event_is_delivered_with_its_body_signed_and_in_slacks_form(
    api, receiver_of, post_log, complete_run
):
    plain, slack = receiver_of(), receiver_of()
    assert api.post("/v1/jobs", json=search_job_body(early_stopping="Auto")).status_code == 201
    put = api.put(
        "/v1/jobs/tune/webhooks",
        json={
            "webhooks": [
                {"url": plain.url, "secret": SECRET},
                {"url": slack.url, "format": "slack", "events": ["job_ended", "run_failed"]},
            ]
        },
    )
    assert put.status_code == 200, put.text

    _search(api, post_log, complete_run)

    got = plain.wait_for(6)
    events = sorted((r.json["event"], r.json.get("run")) for r in got)
    assert events == [
        ("job_ended", None),
        ("new_best_run", "run-0001"),
        ("new_best_run", "run-0002"),
        ("new_best_run", "run-0003"),
        ("run_failed", "run-0005"),
        ("run_stopped_early", "run-0004"),
    ]
    for request in got:
        body = request.json
        assert request.headers["x-logmetrics-event"] == body["event"]
        assert request.headers["x-logmetrics-delivery"] == body["delivery"]
        assert request.headers["user-agent"].startswith("logmetrics-webhooks/")
        expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["x-logmetrics-signature-256"] == f"sha256={expected}"
        assert ISO.match(body["created_at"]) and ISO.match(body["occurred_at"])
    by_event = {(r.json["event"], r.json.get("run")): r.json for r in got}

    best = by_event["new_best_run", "run-0002"]
    varying = ("delivery", "created_at", "occurred_at")
    assert {k: v for k, v in best.items() if k not in varying} == {
        "event": "new_best_run",
        "job": "tune",
        "run": "run-0002",
        "run_status": "Completed",
        "objective_metric": "acc",
        "objective_type": "Maximize",
        "objective_value": 0.95,
        "hyperparameters": best["hyperparameters"],
        "best_run": "run-0002",
        "best_objective_value": 0.95,
        "reason": None,
        "url": "https://metrics.example.com/jobs/tune/runs/run-0002",
    }
    assert set(best["hyperparameters"]) == {"lr", "_tuning_objective_metric"}
    stopped = by_event["run_stopped_early", "run-0004"]
    assert (stopped["run_status"], stopped["reason"], stopped["objective_value"]) == (
        "Stopped",
        REASON,
        0.71,
    )
    failed = by_event["run_failed", "run-0005"]
    assert (failed["run_status"], failed["reason"], failed["best_run"]) == (
        "Failed",
        "CUDA out of memory",
        "run-0003",
    )
    ended = by_event["job_ended", None]
    assert (ended["job_status"], ended["best_run"], ended["best_objective_value"]) == (
        "Completed",
        "run-0003",
        1.0,
    )
    assert ended["completion_criterion"] == "MaxNumberOfTrainingJobs"
    assert ended["reason"] == "all 5 runs the search may start have ended"
    assert ended["url"] == "https://metrics.example.com/jobs/tune"

    # The Slack webhook asked for two events only, and gets Slack's body, unsigned.
    texts = sorted(r.json["text"] for r in slack.wait_for(2))
    assert texts == [
        "Job tune ended Completed; best run run-0003 (acc 1): all 5 runs the search may "
        "start have ended <https://metrics.example.com/jobs/tune|open>",
        "Run run-0005 of job tune failed: CUDA out of memory "
        "<https://metrics.example.com/jobs/tune/runs/run-0005|open>",
    ]
    assert all("x-logmetrics-signature-256" not in r.headers for r in slack.received)
    assert slack.received[0].json["blocks"][0]["text"]["type"] == "mrkdwn"

    # The API shows each delivery, newest first, delivered at the first attempt.
    hooks = api.get("/v1/jobs/tune/webhooks").json()["webhooks"]
    assert [h["url"] for h in hooks] == [plain.url, slack.url]
    assert [h["signed"] for h in hooks] == [True, False]
    deliveries = hooks[0]["deliveries"]
    assert len(deliveries) == 6 and deliveries[0]["event"] == "job_ended"
    assert {(d["status"], d["attempts"], d["last_status_code"]) for d in deliveries} == {
        ("delivered", 1, 200)
    }


def test_an_event_recorded_twice_is_delivered_once(
    api, service, receiver_of, make_job, make_run, complete_run
):
    receiver = receiver_of()
    make_job()
    api.put("/v1/jobs/gan/webhooks", json={"webhooks": [{"url": receiver.url}]})
    make_run(name="r1", status="Failed")
    # Ended again with its status: no new end, no new event.
    assert complete_run("r1", "Failed").status_code == 200
    # Another process (another reaper) records the same end.
    other = create_storage(service.settings.database_url, sqlite_synchronous="NORMAL")
    try:
        job = other.get_job("gan")
        event = WebhookEvent(WebhookEventKind.RUN_FAILED, "run_failed:r1", {"job": "gan"})
        assert other.record_webhook_event(job, event) == 0
    finally:
        other.close()
    receiver.wait_for(1)
    deliveries = api.get("/v1/jobs/gan/webhooks").json()["webhooks"][0]["deliveries"]
    assert [(d["event"], d["status"]) for d in deliveries] == [("run_failed", "delivered")]
    assert len(receiver.received) == 1


class _Counted:
    """A storage that notes which of its reads are called."""

    def __init__(self, storage):
        self.storage = storage
        self.calls = []

    def __getattr__(self, name):
        self.calls.append(name)
        return getattr(self.storage, name)


def test_a_runs_end_reads_the_best_run_ended_before_it_not_every_run(
    api, database_url, make_job, make_run, receiver_of
):
    make_job()
    api.put("/v1/jobs/gan/webhooks", json={"webhooks": [{"url": receiver_of().url}]})
    # Ended in this order; r2 is better than r1, which ended before it, and r3 is not.
    for name, loss in (("r1", 0.5), ("r2", 0.3), ("r3", 0.4)):
        make_run(name=name, log=f"Loss = {loss};\n", status="Completed")
    storage = create_storage(database_url, sqlite_synchronous="NORMAL")
    try:
        counted = _Counted(storage)
        job = storage.get_job("gan")
        r1, r2, r3 = (storage.get_run(job, name) for name in ("r1", "r2", "r3"))

        assert best_before(counted, job, r1) is None
        assert best_before(counted, job, r2).name == "r1"
        assert best_before(counted, job, r3).name == "r2"
        assert [new_best(job, r, best_before(counted, job, r)) for r in (r1, r2, r3)] == [
            True,
            True,
            False,
        ]
        counted.calls.clear()
        record_run_end(counted, job, r3)
        assert "job_runs" not in counted.calls and "list_runs" in counted.calls
    finally:
        storage.close()


def test_runs_that_end_at_one_instant_are_not_before_each_other(database_url, make_job):
    """As the job's history has it: r1 and r2 end together after r0, so each is compared
    with r0 alone, and both are new bests."""
    make_job()
    storage = create_storage(database_url, sqlite_synchronous="NORMAL")
    try:
        job = storage.get_job("gan")
        for name, loss, ended in (("r0", 0.5, T0), ("r1", 0.3, T1), ("r2", 0.4, T1)):
            run = storage.create_run(job, name, {})
            data = f"Loss = {loss};\n".encode()
            points = [Point("loss", loss, 1, 0, 0)]
            storage.append_chunk(job, run, chunk(data, StreamState(len(data), 1), points))
            storage.complete_run(job, run, RunStatus.COMPLETED, None, ended, ())
        r0, r1, r2 = (storage.get_run(job, name) for name in ("r0", "r1", "r2"))

        assert [getattr(best_before(storage, job, r), "name", None) for r in (r0, r1, r2)] == [
            None,
            "r0",
            "r0",
        ]
        assert [new_best(job, r, best_before(storage, job, r)) for r in (r0, r1, r2)] == [
            True,
            True,
            True,
        ]
    finally:
        storage.close()
