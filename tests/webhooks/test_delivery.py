"""Retries: a receiver that fails three times, one that never answers; the service's
other work goes on meanwhile."""

from __future__ import annotations

import time


def _deliveries(api, job="gan"):
    return api.get(f"/v1/jobs/{job}/webhooks").json()["webhooks"][0]["deliveries"]


def _wait_until_done(api, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _deliveries(api)
        if found and all(d["status"] in ("delivered", "failed") for d in found):
            return found
        time.sleep(0.05)
    raise AssertionError(f"not done: {_deliveries(api)}")


def test_a_receiver_that_fails_three_times_gets_the_delivery_at_the_fourth_attempt(
    api, receiver_of, make_job, make_run
):
    receiver = receiver_of(statuses=[500, 503, 429])
    make_job()
    api.put("/v1/jobs/gan/webhooks", json={"webhooks": [{"url": receiver.url}]})
    make_run(name="r1", status="Failed")

    [delivery] = _wait_until_done(api)

    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "delivered",
        4,
        200,
    )
    assert delivery["last_error"] is None and delivery["next_attempt_at"] is None
    got = receiver.wait_for(4)
    # The same delivery each time: a receiver dedupes on its id.
    assert len({r.headers["x-logmetrics-delivery"] for r in got}) == 1
    assert len({r.body for r in got}) == 1


def test_a_receiver_that_never_answers_is_timed_out_retried_and_given_up(
    api, receiver_of, make_job, make_run
):
    receiver = receiver_of(hang=3.0)
    make_job()
    api.put("/v1/jobs/gan/webhooks", json={"webhooks": [{"url": receiver.url}]})
    make_run(name="r1", status="Failed")

    # Meanwhile the service answers as ever.
    started = time.monotonic()
    for index in range(5):
        make_run(name=f"other-{index}", log="loss=0.5\n", status="Completed")
    assert time.monotonic() - started < 2.0

    found = _wait_until_done(api)
    failed = next(d for d in found if d["event"] == "run_failed")
    assert (failed["status"], failed["attempts"], failed["last_status_code"]) == ("failed", 4, None)
    assert failed["last_error"] == "no answer within 0.5 s"
    assert failed["next_attempt_at"] is None
    assert len(receiver.wait_for(4)) >= 4


def test_a_refused_connection_is_retried_and_its_error_names_no_url(api, make_job, make_run):
    make_job()
    # A port nobody listens on (the discard port, on loopback).
    api.put("/v1/jobs/gan/webhooks", json={"webhooks": [{"url": "http://127.0.0.1:9/x?k=1"}]})
    make_run(name="r1", status="Failed")

    [delivery] = _wait_until_done(api)

    assert (delivery["status"], delivery["attempts"]) == ("failed", 4)
    assert delivery["last_error"] == "could not reach the receiver: connection refused or failed"


def test_a_receivers_answer_is_read_to_its_headers_only(api, receiver_of, make_job, make_run):
    # 200 MB of body, more than any buffer between the two holds: had the service read
    # it, the receiver would have sent it all; it is cut off once the status is read.
    receiver = receiver_of(body_bytes=200 << 20)
    make_job()
    api.put("/v1/jobs/gan/webhooks", json={"webhooks": [{"url": receiver.url}]})
    started = time.monotonic()
    make_run(name="r1", status="Failed")

    [delivery] = _wait_until_done(api)

    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "delivered",
        1,
        200,
    )
    assert time.monotonic() - started < 3.0
    time.sleep(0.3)  # the receiver's thread notes its broken pipe
    assert receiver.bodies_sent_whole == 0
