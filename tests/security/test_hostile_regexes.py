"""A job with catastrophically backtracking regexes costs bounded time and does not
hold up other jobs' ingest."""

from __future__ import annotations

import statistics
import threading
import time

import httpx
import pytest

# With the regex module these run for ages (it already defuses the textbook (a+)+$). The
# compiled core's PCRE2 gets through them in microseconds, or hands a line back at its
# match limit (tests/parsing/test_core.py holds its budget): the tests of time-outs and
# budgets below run the regex module's path (`scanner="find"`), where they bite.
REGEX_MODULE = "find"
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


def test_time_outs_are_counted_and_ingest_goes_on(start_service):
    # A CPU budget too large to matter: this is the rule of time-outs per chunk.
    api = start_service(regex_cpu_floor_ms=1e6, scanner=REGEX_MODULE).client
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


# Each line costs `(a|aa)+$` about 2 ms here: under the 5 ms time-out, so before the
# budget no line was ever counted, and 900 of them cost 2 s of CPU.
UNDER_THE_TIME_OUT = b"a" * 18 + b"!\n"


def test_lines_just_under_the_time_out_add_up_to_the_chunks_cpu_budget(start_service):
    api = start_service(regex_cpu_floor_ms=5, regex_cpu_ms_per_kib=0, scanner=REGEX_MODULE).client
    body = {
        "name": "slow",
        "objective": {"MetricName": "loss", "Type": "Minimize"},
        "metric_definitions": [
            {"Name": "loss", "Regex": r"loss=(\S+);"},
            {"Name": "alternation", "Regex": r"(a|aa)+$"},
        ],
    }
    assert api.post("/v1/jobs", json=body).status_code == 201
    assert api.post("/v1/jobs/slow/runs", json={}).status_code == 201
    log = (UNDER_THE_TIME_OUT * 9 + b"loss=0.5;\n") * 100  # 1,000 lines, 100 points

    posted = api.post("/v1/jobs/slow/runs/run-0001/logs", content=log)

    assert posted.status_code == 200
    assert (posted.json()["lines"], posted.json()["points"]) == (1000, 100)
    run = api.get("/v1/jobs/slow/runs/run-0001").json()
    diagnostics = {d["metric_name"]: d for d in run["diagnostics"]}
    examples = diagnostics["alternation"]["examples"]
    # The 5 ms budget is gone after a few lines: the other lines are skipped, counted.
    assert 890 <= diagnostics["alternation"]["timeouts"] <= 900
    assert {e["reason"] for e in examples} == {
        "skipped: the regex used up its CPU time for this chunk"
    }
    assert diagnostics["loss"]["points"] == 100  # the other definition loses nothing
    assert run["streams"][0]["next_offset"] == len(log)  # and the bytes are all kept


def test_small_chunks_share_one_stream_budget_instead_of_each_getting_the_floor(start_service):
    api = start_service(regex_cpu_floor_ms=5, regex_cpu_ms_per_kib=0, scanner=REGEX_MODULE).client
    body = {
        "name": "slow",
        "objective": {"MetricName": "alternation", "Type": "Minimize"},
        "metric_definitions": [{"Name": "alternation", "Regex": r"(a|aa)+$"}],
    }
    assert api.post("/v1/jobs", json=body).status_code == 201
    assert api.post("/v1/jobs/slow/runs", json={}).status_code == 201

    for _ in range(100):  # a line a chunk: the floor would allow each of them
        posted = api.post("/v1/jobs/slow/runs/run-0001/logs", content=UNDER_THE_TIME_OUT)
        assert posted.status_code == 200

    run = api.get("/v1/jobs/slow/runs/run-0001").json()
    # The stream's 5 ms go in the first few chunks; every later line is skipped.
    assert 90 <= run["diagnostics"][0]["timeouts"] <= 100
    assert run["streams"][0]["next_offset"] == 100 * len(UNDER_THE_TIME_OUT)


@pytest.mark.parametrize(
    "pattern",
    [
        "((?:ab|cd){1000000})",  # overflowed the C stack: the process died (SIGSEGV)
        "(a{1000007})",  # ~200 MB each, kept by the regex module's cache
        "(a{100000000})",  # over 11 GB before failing
    ],
)
def test_a_regex_that_would_expand_too_far_is_a_422_and_the_service_lives(service_process, pattern):
    url = service_process.url
    definitions = [{"Name": "x", "Regex": pattern}]

    parsed = httpx.post(
        f"{url}/v1/parse", json={"metric_definitions": definitions, "log": "ab\n"}, timeout=60
    )
    created = httpx.post(
        f"{url}/v1/jobs",
        json={
            "name": "big",
            "objective": {"MetricName": "x", "Type": "Minimize"},
            "metric_definitions": definitions,
        },
        timeout=60,
    )

    for answer in (parsed, created):
        assert answer.status_code == 422
        assert "the regex would expand to" in answer.json()["message"]
    assert service_process.process.poll() is None
    assert httpx.get(f"{url}/healthz").status_code == 200


def test_forty_hostile_dry_runs_leave_reads_and_other_jobs_ingest_responsive(service):
    # Each dry run: 40 lines that each time out, for each of two definitions.
    hostile = {
        "metric_definitions": HOSTILE,
        "log": ("a" * 40 + "!\n") * 20 + ("a," * 30 + "\n") * 20,
    }
    api = service.client
    make_jobs(api)
    answers: list[int] = []

    def dry_run() -> None:
        with httpx.Client(base_url=service.url, timeout=300) as client:
            answers.append(client.post("/v1/parse", json=hostile).status_code)

    runners = [threading.Thread(target=dry_run) for _ in range(40)]
    for runner in runners:
        runner.start()
    time.sleep(0.5)  # the pool's threads are busy and its queue is long
    health, read, chunk = [], [], []
    with httpx.Client(base_url=service.url, timeout=300) as client:
        for _ in range(3):
            health.append(client.get("/healthz").status_code)
            read.append(client.get("/v1/jobs").status_code)
            chunk.append(client.post("/v1/jobs/normal/runs/run-0001/logs", content=b"loss=0.5;\n"))
        # All of that answered while the dry runs still queue for their two threads.
        still_running = sum(runner.is_alive() for runner in runners)
    for runner in runners:
        runner.join()

    assert health == [200] * 3 and read == [200] * 3
    assert [c.status_code for c in chunk] == [200] * 3
    assert still_running > 0
    assert answers == [200] * 40
