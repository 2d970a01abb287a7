"""An attempt's wall-clock deadline: a receiver that trickles its answer a byte at a time
(never letting a read time out) is cut at the time-out, holds no sender longer, and does
not keep the service from stopping."""

from __future__ import annotations

import time

from tests.webhooks.conftest import SETTINGS


def _deliveries(api, job):
    return api.get(f"/v1/jobs/{job}/webhooks").json()["webhooks"][0]["deliveries"]


def _watch(api, url, job="gan"):
    response = api.put(
        f"/v1/jobs/{job}/webhooks", json={"webhooks": [{"url": url, "events": ["run_failed"]}]}
    )
    assert response.status_code == 200, response.text


def test_a_trickling_receiver_is_cut_at_the_time_out_and_holds_no_other_jobs_delivery(
    api, receiver_of, make_job, make_run
):
    # A byte each 0.2 s: no read waits the 0.5 s time-out, the answer takes 16 s.
    trickling = receiver_of(trickle=0.2)
    answering = receiver_of()
    make_job(name="slow")
    make_job(name="fast")
    _watch(api, trickling.url, "slow")
    _watch(api, answering.url, "fast")
    for index in range(4):  # as many as there are senders
        make_run(job="slow", name=f"r{index}", status="Failed")
    trickling.wait_for(4)
    started = time.monotonic()
    make_run(job="fast", name="r1", status="Failed")

    answering.wait_for(1, timeout=5.0)
    assert time.monotonic() - started < 3.0

    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        slow = _deliveries(api, "slow")
        if all(d["attempts"] >= 1 for d in slow):
            break
        time.sleep(0.05)
    assert len(slow) == 4
    for delivery in slow:
        assert delivery["attempts"] >= 1
        assert delivery["status"] in ("retrying", "failed")
        assert delivery["last_error"] == "no answer within 0.5 s"
        assert delivery["last_status_code"] is None
    [fast] = _deliveries(api, "fast")
    assert (fast["status"], fast["attempts"]) == ("delivered", 1)


def test_a_trickling_receiver_is_given_up_after_its_attempts(api, receiver_of, make_job, make_run):
    trickling = receiver_of(trickle=0.2)
    make_job()
    _watch(api, trickling.url)
    make_run(name="r1", status="Failed")

    deadline = time.monotonic() + 15.0
    while time.monotonic() < deadline:
        [delivery] = _deliveries(api, "gan")
        if delivery["status"] == "failed":
            break
        time.sleep(0.05)
    assert (delivery["status"], delivery["attempts"]) == ("failed", 4)
    assert delivery["last_error"] == "no answer within 0.5 s"
    # One connection an attempt, each cut: no attempt was sent twice on a lapsed claim.
    assert len(trickling.wait_for(4)) == 4


def test_the_service_stops_within_seconds_while_a_trickling_answer_is_read(
    start_service, receiver_of
):
    # A time-out far beyond the test: only stopping can end the attempt.
    service = start_service(**{**SETTINGS, "webhook_timeout_seconds": 60})
    api = service.client
    trickling = receiver_of(trickle=0.2)
    assert api.post("/v1/jobs", json=_job()).status_code == 201
    _watch(api, trickling.url)
    assert api.post("/v1/jobs/gan/runs", json={"name": "r1"}).status_code == 201
    assert api.post("/v1/jobs/gan/runs/r1/complete", json={"status": "Failed"}).status_code == 200
    trickling.wait_for(1)
    time.sleep(0.5)  # its answer is being read

    started = time.monotonic()
    service.stop()

    assert time.monotonic() - started < 3.0
    service.start()
    [delivery] = _deliveries(api, "gan")
    assert delivery["attempts"] == 1
    assert delivery["last_error"] == "the service stopped before the receiver answered"


def _job():
    return {
        "name": "gan",
        "objective": {"MetricName": "loss", "Type": "Minimize"},
        "metric_definitions": [{"Name": "loss", "Regex": "loss=(\\S+)"}],
    }
