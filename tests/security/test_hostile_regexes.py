"""A job with catastrophically backtracking regexes costs bounded time and does not
hold up other jobs' ingest."""

from __future__ import annotations

import statistics
import threading
import time

import httpx
import pytest

# With the regex module these run for ages (it already defuses the textbook (a+)+$).
HOSTILE = [
    {"Name": "alternation", "Regex": r"(a|aa)+$"},
    {"Name": "lazy-groups", "Regex": r"(.*?,){15}x"},
]
HOSTILE_LINES = (b"a" * 40 + b"!\n" + b"a," * 30 + b"\n") * 50
NORMAL = [{"Name": "loss", "Regex": r"loss=(\S+);"}]


def make_jobs(api):
    for name, definitions in [("hostile", HOSTILE), ("normal", NORMAL)]:
        body = {
            "name": name,
            "objective": {"MetricName": definitions[0]["Name"], "Type": "Minimize"},
            "metric_definitions": definitions,
        }
        assert api.post("/v1/jobs", json=body).status_code == 201
        assert api.post(f"/v1/jobs/{name}/runs", json={}).status_code == 201


def test_time_outs_are_counted_and_ingest_goes_on(api):
    make_jobs(api)
    posted = api.post("/v1/jobs/hostile/runs/run-0001/logs", content=HOSTILE_LINES)
    assert posted.status_code == 200
    assert posted.json()["lines"] == 100
    run = api.get("/v1/jobs/hostile/runs/run-0001").json()
    timeouts = {d["metric_name"]: d["timeouts"] for d in run["diagnostics"]}
    # Each definition times out on 10 lines, then skips the rest of the chunk's lines
    # that could match it: all 100 lines hold an "a" (the first needs one): 10 on lines
    # 1, 3, ..., 19, then 81 skipped; 50 lines hold a "," (the second needs one).
    assert timeouts == {"alternation": 91, "lazy-groups": 50}
    reasons = {e["reason"] for d in run["diagnostics"] for e in d["examples"]}
    assert reasons == {"skipped: the regex timed out too often in this chunk"}


def test_the_dry_run_says_a_regex_timed_out_on_its_own_sample(api):
    response = api.post(
        "/v1/parse", json={"metric_definitions": HOSTILE[:1], "log": "a" * 40 + "!"}
    )
    assert response.status_code == 200
    assert response.json()["rejections"] == [
        {
            "metric_name": "alternation",
            "line": 1,
            "capture": None,
            "reason": "timed out",
            "span": None,
        }
    ]


def post_normal(api, count: int, first_line: int) -> list[tuple[float, float]]:
    """Post `count` one-line chunks to the normal run; (start, end) of each post."""
    spans = []
    for i in range(count):
        started = time.perf_counter()
        line = f"step {first_line + i}: loss={i};\n".encode()
        response = api.post("/v1/jobs/normal/runs/run-0001/logs", content=line)
        spans.append((started, time.perf_counter()))
        assert response.status_code == 200
    return spans


@pytest.mark.slow
def test_a_hostile_job_does_not_hold_up_another_jobs_ingest(service, api):
    make_jobs(api)
    alone = post_normal(api, 40, 0)
    stop = threading.Event()
    hostile_posts: list[tuple[float, float]] = []

    def hostile() -> None:
        with httpx.Client(base_url=service.url, timeout=120) as client:
            while not stop.is_set():
                started = time.perf_counter()
                response = client.post("/v1/jobs/hostile/runs/run-0001/logs", content=HOSTILE_LINES)
                assert response.status_code == 200
                hostile_posts.append((started, time.perf_counter()))

    thread = threading.Thread(target=hostile)
    thread.start()
    while not hostile_posts:  # the hostile job is under way
        time.sleep(0.01)
    beside = post_normal(api, 40, 40)
    stop.set()
    thread.join()
    # Normal chunks were acknowledged while a hostile chunk was being parsed: the two
    # jobs' ingest ran side by side, not one after the other.
    inside = [(a, b) for a, b in beside if any(h0 < a and b < h1 for h0, h1 in hostile_posts)]
    assert len(inside) >= 5, (len(inside), len(hostile_posts))
    # Nothing lost on the normal run.
    points = api.get("/v1/jobs/normal/runs/run-0001/metrics/loss").json()["points"]
    assert [p["line"] for p in points] == list(range(1, 81))
    # Loose on purpose (a test, not a benchmark): the median normal post stays within
    # three times its median alone, or within 50 ms of it.
    before = statistics.median(b - a for a, b in alone)
    during = statistics.median(b - a for a, b in beside)
    assert during < 3 * before or during - before < 0.05, (before, during)
