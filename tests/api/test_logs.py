"""POST and GET /v1/jobs/{job}/runs/{run}/logs: raw bytes in, exactly the same bytes out."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.samples import GAN_DEFINITIONS

EPOCHS = b"[epoch 1] Loss = 0.75;\n[epoch 2] Loss = 0.5;\n"  # 23 + 22 bytes
EPOCH_3 = b"[epoch 3] Loss = 0.25;\n"  # 23 bytes
GAN_JOB = {
    "name": "gan",
    "objective": {"MetricName": "loss", "Type": "Minimize"},
    "metric_definitions": GAN_DEFINITIONS,
}


@pytest.fixture
def run(make_job, make_run):
    """The GAN job minimizing `loss`, and its run `lr-0-01` without logs yet."""
    make_job()
    return make_run(name="lr-0-01")


def stream_public(name, next_offset, lines, partial_length):
    """A stream as GET .../runs/{run} shows it; pending_bytes is partial_length's old name."""
    return {
        "name": name,
        "next_offset": next_offset,
        "lines": lines,
        "partial_length": partial_length,
        "pending_bytes": partial_length,
    }


def read_log(api, stream="stdout", run="lr-0-01"):
    response = api.get(f"/v1/jobs/gan/runs/{run}/logs", params={"stream": stream})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    return response.content


def losses(api, run="lr-0-01"):
    response = api.get(f"/v1/jobs/gan/runs/{run}/metrics/loss")
    return [point["value"] for point in response.json()["points"]]


def test_chunks_append_to_the_stream(api, run, post_log):
    first = post_log("lr-0-01", EPOCHS)
    second = post_log("lr-0-01", EPOCH_3)

    assert (first.status_code, first.json()) == (
        200,
        {"stream": "stdout", "next_offset": 45, "lines": 2, "points": 2},
    )
    assert (second.status_code, second.json()) == (
        200,
        {"stream": "stdout", "next_offset": 68, "lines": 1, "points": 1},
    )
    assert read_log(api) == EPOCHS + EPOCH_3
    assert losses(api) == [0.75, 0.5, 0.25]


def test_a_retried_chunk_counts_once(api, run, post_log):
    post_log("lr-0-01", EPOCHS, offset=0)

    retried = post_log("lr-0-01", EPOCHS, offset=0)

    assert (retried.status_code, retried.json()) == (
        200,
        {"stream": "stdout", "next_offset": 45, "lines": 0, "points": 0},
    )
    assert read_log(api) == EPOCHS
    assert losses(api) == [0.75, 0.5]


def test_an_overlapping_chunk_stores_only_its_new_bytes(api, run, post_log):
    post_log("lr-0-01", EPOCHS, offset=0)

    # Resent from the start of epoch 2 (offset 23), with epoch 3 after it.
    overlapping = post_log("lr-0-01", b"[epoch 2] Loss = 0.5;\n" + EPOCH_3, offset=23)

    assert overlapping.json() == {"stream": "stdout", "next_offset": 68, "lines": 1, "points": 1}
    assert read_log(api) == EPOCHS + EPOCH_3
    assert losses(api) == [0.75, 0.5, 0.25]


def test_an_overlap_may_end_inside_a_line(api, run, post_log):
    post_log("lr-0-01", b"[epoch 1] Loss = 0.7", offset=0)

    overlapping = post_log("lr-0-01", b"Loss = 0.75;\n[epoch 2] Loss = 0.5;\n", offset=10)

    assert overlapping.json() == {"stream": "stdout", "next_offset": 45, "lines": 2, "points": 2}
    assert read_log(api) == EPOCHS
    assert losses(api) == [0.75, 0.5]


def test_a_chunk_that_would_leave_a_gap_is_a_conflict(api, run, post_log):
    post_log("lr-0-01", EPOCHS)

    response = post_log("lr-0-01", EPOCH_3, offset=46)

    assert (response.status_code, response.json()) == (
        409,
        {
            "error": "offset_gap",
            "message": "stream 'stdout' has 45 bytes; a chunk at offset 46 would leave a gap: "
            "send the bytes from offset 45",
            "stream": "stdout",
            "offset": 46,
            "expected_offset": 45,
        },
    )
    assert read_log(api) == EPOCHS


def test_a_new_stream_starts_at_offset_zero(api, run, post_log):
    response = post_log("lr-0-01", EPOCH_3, offset=45, stream="stderr")

    assert (response.status_code, response.json()["expected_offset"]) == (409, 0)


def test_an_ended_run_takes_no_more_logs(api, run, post_log, complete_run):
    post_log("lr-0-01", EPOCHS)
    complete_run("lr-0-01", "Completed")

    appended = post_log("lr-0-01", EPOCH_3)
    extended = post_log("lr-0-01", EPOCHS + EPOCH_3, offset=0)
    retried = post_log("lr-0-01", EPOCHS, offset=0)

    expected = {
        "error": "run_ended",
        "message": "run 'lr-0-01' has ended (Completed); it takes no more logs",
        "run": "lr-0-01",
        "status": "Completed",
    }
    assert (appended.status_code, appended.json()) == (409, expected)
    assert (extended.status_code, extended.json()) == (409, expected)
    # A retry of bytes it already has is done, ended run or not: a shipper whose reply
    # was lost can tell its chunk landed.
    assert retried.status_code == 200
    assert retried.json()["next_offset"] == len(EPOCHS)
    assert read_log(api) == EPOCHS


def test_logs_of_an_unknown_run_or_job_are_not_found(api, run, post_log):
    assert post_log("lr-0-02", EPOCHS).json()["error"] == "run_not_found"
    assert post_log("lr-0-01", EPOCHS, job="xgb").json()["error"] == "job_not_found"
    assert post_log("lr-0-01", EPOCHS, job="xgb").status_code == 404


# Sizes and transfer.


@pytest.fixture
def small_service(start_service):
    """A service taking chunks of at most 100 bytes, with the GAN job and run `lr-0-01`."""
    service = start_service(max_chunk_bytes=100)
    service.client.post(
        "/v1/jobs",
        json={
            "name": "gan",
            "objective": {"MetricName": "loss", "Type": "Minimize"},
            "metric_definitions": [{"Name": "loss", "Regex": "Loss = (.*?);"}],
        },
    )
    service.client.post("/v1/jobs/gan/runs", json={"name": "lr-0-01"})
    return service.client


TOO_LARGE = {
    "error": "chunk_too_large",
    "message": "a log chunk may hold at most 100 bytes; send the log in smaller chunks",
    "limit": 100,
}


def test_a_chunk_of_the_maximum_size_is_taken(small_service):
    body = b"[epoch 1] Loss = 0.75;\n" * 4 + b"12345678"  # 100 bytes

    response = small_service.post("/v1/jobs/gan/runs/lr-0-01/logs", content=body)

    assert (response.status_code, response.json()["next_offset"]) == (200, 100)


def test_a_larger_chunk_is_refused(small_service):
    body = b"[epoch 1] Loss = 0.75;\n" * 4 + b"123456789"  # 101 bytes

    response = small_service.post("/v1/jobs/gan/runs/lr-0-01/logs", content=body)

    assert (response.status_code, response.json()) == (413, TOO_LARGE)
    assert small_service.get("/v1/jobs/gan/runs/lr-0-01").json()["streams"] == []


def test_a_larger_chunked_body_is_refused(small_service):
    def body():
        for _ in range(5):
            yield b"[epoch 1] Loss = 0.75;\n"  # 5 x 23 bytes, no Content-Length

    response = small_service.post("/v1/jobs/gan/runs/lr-0-01/logs", content=body())

    assert (response.status_code, response.json()) == (413, TOO_LARGE)
    assert small_service.get("/v1/jobs/gan/runs/lr-0-01").json()["streams"] == []


def test_a_chunked_body_is_taken_whole(api, run, post_log):
    def body():
        # Split inside a line and inside the UTF-8 of "→" (e2 86 92).
        yield b"[epoch 1] Loss = 0."
        yield b"75; lr \xe2\x86"
        yield b"\x92 0.001\n[epoch 2] Loss = 0.5;\n"

    response = post_log("lr-0-01", body())

    assert response.json() == {"stream": "stdout", "next_offset": 58, "lines": 2, "points": 2}
    assert read_log(api) == "[epoch 1] Loss = 0.75; lr → 0.001\n[epoch 2] Loss = 0.5;\n".encode()
    assert losses(api) == [0.75, 0.5]


def test_an_empty_chunk_changes_nothing(api, run, post_log):
    post_log("lr-0-01", EPOCHS)

    response = post_log("lr-0-01", b"")

    assert response.json() == {"stream": "stdout", "next_offset": 45, "lines": 0, "points": 0}


# Timestamps.


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z"),
        ("2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00Z"),
        ("2024-05-01T12:00:00.250000Z", "2024-05-01T12:00:00.250000Z"),
        ("1714564800", "2024-05-01T12:00:00Z"),
        ("1714564800.5", "2024-05-01T12:00:00.500000Z"),
        # Seconds stay seconds however large: pydantic alone read these as milliseconds.
        ("253402300799", "9999-12-31T23:59:59Z"),
        ("32503680000", "3000-01-01T00:00:00Z"),
        ("0", "1970-01-01T00:00:00Z"),
    ],
)
def test_the_timestamp_is_the_points_time(api, run, post_log, timestamp, expected):
    post_log("lr-0-01", EPOCHS, timestamp=timestamp)

    series = api.get("/v1/jobs/gan/runs/lr-0-01/metrics/loss").json()
    final = api.get("/v1/jobs/gan/runs/lr-0-01").json()["final_metrics"]

    assert [p["timestamp"] for p in series["points"]] == [expected, expected]
    assert final == [{"metric_name": "loss", "value": 0.5, "timestamp": expected}]


@pytest.mark.parametrize(
    "timestamp",
    [
        "yesterday",
        "253402300800",
        "1714564800000",
        "-1",
        "1e300",
        "nan",
        "1969-12-31T23:59:59Z",
        "\u0663",  # an Arabic-Indic 3: Unix seconds are ASCII digits
    ],
)
def test_a_bad_timestamp_is_refused_and_nothing_is_stored(api, run, post_log, timestamp):
    response = post_log("lr-0-01", EPOCHS, timestamp=timestamp)

    assert response.status_code == 422
    assert [d["location"] for d in response.json()["details"]] == ["query.timestamp"]
    assert post_log("lr-0-01", EPOCHS).json()["next_offset"] == len(EPOCHS)


def test_seconds_out_of_range_say_why(api, run, post_log):
    response = post_log("lr-0-01", EPOCHS, timestamp="1714564800000")

    assert "1714564800000 Unix seconds is outside 1970-01-01 to 9999-12-31" in response.text


# Any bytes.


def test_control_characters_are_removed_before_matching(api, run, post_log):
    post_log("lr-0-01", b"\x1b[32m[epoch 1]\x1b[0m Loss = 0.\x0075;\n")

    assert losses(api) == [0.75]
    assert read_log(api) == b"\x1b[32m[epoch 1]\x1b[0m Loss = 0.\x0075;\n"


def test_invalid_utf8_is_matched_as_replacement_characters(api, run, post_log):
    post_log("lr-0-01", b"\xff\xfe[epoch 1] Loss = 0.75;\n[epoch 2] Loss = 0.5\xc3;\n")

    run = api.get("/v1/jobs/gan/runs/lr-0-01").json()

    assert losses(api) == [0.75]
    assert run["diagnostics"][-1] == {
        "metric_name": "loss",
        "log_format": "text",
        "hint": None,
        "points": 1,
        "rejected": 1,
        "timeouts": 0,
        "examples": [
            {"stream": "stdout", "line": 2, "capture": "0.5\ufffd", "reason": "not a finite number"}
        ],
    }


def test_binary_bytes_are_kept_exactly(api, run, post_log):
    data = bytes(range(256)) * 3

    response = post_log("lr-0-01", data)

    assert (response.status_code, response.json()["next_offset"]) == (200, 768)
    assert read_log(api) == data


# Streams.


def test_each_stream_has_its_own_offset_and_held_line(api, run, post_log):
    post_log("lr-0-01", b"[epoch 1] Loss = 0.75;\n[epoch 2] Lo", stream="stdout")
    post_log("lr-0-01", b"UserWarning: lr is high\n", stream="stderr")
    post_log("lr-0-01", b"[1,2]<stdout>: [epoch 1] Loss = 0.7", stream="algo-2-stdout")

    gap = post_log("lr-0-01", b"ss = 0.5;\n", stream="stdout", offset=36)
    post_log("lr-0-01", b"ss = 0.5;\n", stream="stdout", offset=35)
    post_log("lr-0-01", b"5;\n", stream="algo-2-stdout", offset=35)

    assert gap.json()["expected_offset"] == 35
    assert api.get("/v1/jobs/gan/runs/lr-0-01").json()["streams"] == [
        stream_public("algo-2-stdout", 38, 1, 0),
        stream_public("stderr", 24, 1, 0),
        stream_public("stdout", 45, 2, 0),
    ]
    series = api.get("/v1/jobs/gan/runs/lr-0-01/metrics/loss").json()["points"]
    assert [(p["value"], p["stream"], p["line"]) for p in series] == [
        (0.75, "stdout", 1),
        (0.5, "stdout", 2),
        (0.75, "algo-2-stdout", 1),
    ]
    assert read_log(api, "stdout") == EPOCHS
    assert read_log(api, "algo-2-stdout") == b"[1,2]<stdout>: [epoch 1] Loss = 0.75;\n"
    assert read_log(api, "stderr") == b"UserWarning: lr is high\n"


def test_a_streams_last_line_is_held_until_more_bytes_arrive(api, run, post_log):
    held = post_log("lr-0-01", b"[epoch 1] Loss = 0.75;\n[epoch 2] Loss = 0.")

    assert held.json() == {"stream": "stdout", "next_offset": 42, "lines": 1, "points": 1}
    assert api.get("/v1/jobs/gan/runs/lr-0-01").json()["streams"] == [
        stream_public("stdout", 42, 1, 19)
    ]

    ended = post_log("lr-0-01", b"5;\n")

    assert ended.json() == {"stream": "stdout", "next_offset": 45, "lines": 1, "points": 1}
    assert losses(api) == [0.75, 0.5]


def test_held_last_lines_are_parsed_when_the_run_completes(api, run, post_log, complete_run):
    post_log("lr-0-01", b"[epoch 1] Loss = 0.75;\n[epoch 2] Loss = 0.5;")
    post_log("lr-0-01", b"[1,2]<stdout>: [epoch 2] Loss = 0.25;", stream="algo-2-stdout")
    before = api.get("/v1/jobs/gan/runs/lr-0-01").json()

    ended = complete_run("lr-0-01", "Completed").json()

    assert (before["objective"]["value"], ended["objective"]["value"]) == (0.75, 0.5)
    assert ended["streams"] == [
        stream_public("algo-2-stdout", 37, 1, 0),
        stream_public("stdout", 44, 2, 0),
    ]
    series = api.get("/v1/jobs/gan/runs/lr-0-01/metrics/loss").json()["points"]
    assert sorted((p["stream"], p["line"], p["value"]) for p in series) == [
        ("algo-2-stdout", 1, 0.25),
        ("stdout", 1, 0.75),
        ("stdout", 2, 0.5),
    ]
    assert read_log(api, "stdout") == b"[epoch 1] Loss = 0.75;\n[epoch 2] Loss = 0.5;"


def test_a_crlf_split_between_chunks_ends_one_line(api, run, post_log):
    first = post_log("lr-0-01", b"[epoch 1] Loss = 0.75;\r")
    second = post_log("lr-0-01", b"\n[epoch 2] Loss = 0.5;\r\n")

    assert (first.json()["lines"], second.json()["lines"]) == (1, 1)
    series = api.get("/v1/jobs/gan/runs/lr-0-01/metrics/loss").json()["points"]
    assert [(p["line"], p["value"]) for p in series] == [(1, 0.75), (2, 0.5)]


def test_a_character_split_between_chunks_decodes_whole(api, make_job, make_run, post_log):
    make_job(metric="lr", definitions=[{"Name": "lr", "Regex": r"lr → (\S+)"}])
    make_run(name="warmup")
    post_log("warmup", b"[step 10] lr \xe2\x86")  # the first two bytes of "→"

    post_log("warmup", b"\x92 0.0003\n")

    series = api.get("/v1/jobs/gan/runs/warmup/metrics/lr").json()["points"]
    assert [p["value"] for p in series] == [0.0003]


def test_a_long_held_line_is_matched_on_its_first_bytes(start_service):
    api = start_service(max_line_bytes=32).client
    api.post(
        "/v1/jobs",
        json={
            "name": "gan",
            "objective": {"MetricName": "loss", "Type": "Minimize"},
            "metric_definitions": [
                {"Name": "loss", "Regex": "Loss = (.*?);"},
                {"Name": "acc", "Regex": r"acc=(\d\.\d+)"},
            ],
        },
    )
    api.post("/v1/jobs/gan/runs", json={"name": "lr-0-01"})
    logs = "/v1/jobs/gan/runs/lr-0-01/logs"
    api.post(logs, content=b"[epoch 1] Loss = 0.75; " + b"." * 100)  # acc beyond 32 bytes
    held = api.get("/v1/jobs/gan/runs/lr-0-01").json()["streams"]

    api.post(logs, content=b" acc=0.91\n")

    run = api.get("/v1/jobs/gan/runs/lr-0-01").json()
    assert held == [stream_public("stdout", 123, 0, 123)]
    assert run["streams"] == [stream_public("stdout", 133, 1, 0)]
    assert [(d["metric_name"], d["points"]) for d in run["diagnostics"]] == [
        ("loss", 1),
        ("acc", 0),
    ]


@pytest.mark.parametrize("stream", ["-stdout", ".hidden", "std out", "a" * 256])
def test_a_bad_stream_name_is_refused(api, run, post_log, stream):
    response = post_log("lr-0-01", EPOCHS, stream=stream)

    assert response.status_code == 422
    assert [d["location"] for d in response.json()["details"]] == ["query.stream"]


@pytest.mark.parametrize("offset", ["-1", "ten", "1.5"])
def test_a_bad_offset_is_refused(api, run, post_log, offset):
    response = post_log("lr-0-01", EPOCHS, offset=offset)

    assert response.status_code == 422
    assert [d["location"] for d in response.json()["details"]] == ["query.offset"]


# Reading logs back.


def test_a_log_of_many_chunks_reads_back_without_duplicates(api, run, post_log):
    lines = [f"[epoch {i}] Loss = {1 / i:.6f};\n".encode() for i in range(1, 51)]
    offset = 0
    for line in lines:
        # Every chunk is sent twice, as a shipper does when an answer is lost.
        for _ in range(2):
            response = post_log("lr-0-01", line, offset=offset)
            assert response.status_code == 200
        offset += len(line)

    assert read_log(api) == b"".join(lines)
    assert len(losses(api)) == 50


def test_concurrent_retries_of_a_chunk_store_it_once(start_service, service_database_url):
    # Eight clients send the same chunk at offset 0 at once: whichever lands first
    # stores it, the others find its bytes already there. On each backend.
    service = start_service(database_url=service_database_url)
    service.client.post("/v1/jobs", json=GAN_JOB).raise_for_status()
    service.client.post("/v1/jobs/gan/runs", json={"name": "lr-0-01"}).raise_for_status()
    start = threading.Barrier(8, timeout=60)

    def send(_):
        with httpx.Client(base_url=service.url, timeout=60) as client:
            start.wait()
            return client.post(
                "/v1/jobs/gan/runs/lr-0-01/logs", params={"offset": 0}, content=EPOCHS
            )

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(send, range(8)))

    assert [r.status_code for r in responses] == [200] * 8
    assert sorted(r.json()["points"] for r in responses) == [0] * 7 + [2]
    assert read_log(service.client) == EPOCHS
    assert losses(service.client) == [0.75, 0.5]


def test_an_unknown_stream_has_no_log(api, run, post_log):
    post_log("lr-0-01", EPOCHS)

    response = api.get("/v1/jobs/gan/runs/lr-0-01/logs", params={"stream": "stderr"})

    assert (response.status_code, response.json()) == (
        404,
        {
            "error": "stream_not_found",
            "message": "run 'lr-0-01' has no stream 'stderr'",
            "run": "lr-0-01",
            "stream": "stderr",
        },
    )


def test_the_log_of_an_unknown_run_is_not_found(api, run):
    response = api.get("/v1/jobs/gan/runs/lr-0-02/logs")

    assert (response.status_code, response.json()["error"]) == (404, "run_not_found")


@pytest.mark.parametrize(
    ("params", "expected", "start", "stop"),
    [
        ({}, EPOCHS + EPOCH_3, "0", "68"),
        ({"offset": 23, "limit": 22}, b"[epoch 2] Loss = 0.5;\n", "23", "45"),
        ({"offset": 40}, b"0.5;\n" + EPOCH_3, "40", "68"),
        ({"tail": 23}, EPOCH_3, "45", "68"),
        ({"offset": 68}, b"", "68", "68"),
    ],
    ids=["whole", "offset-and-limit", "offset", "tail", "at-the-end"],
)
def test_a_log_reads_as_a_byte_range(api, run, post_log, params, expected, start, stop):
    post_log("lr-0-01", EPOCHS)
    post_log("lr-0-01", EPOCH_3)

    response = api.get("/v1/jobs/gan/runs/lr-0-01/logs", params=params)

    assert (response.status_code, response.content) == (200, expected)
    assert (
        response.headers["x-log-start"],
        response.headers["x-log-stop"],
        response.headers["x-log-length"],
    ) == (start, stop, "68")


def test_a_resent_overlap_with_other_bytes_is_a_conflict(api, run, post_log):
    post_log("lr-0-01", b"loss=1;", offset=0)

    rewritten = post_log("lr-0-01", b"loss=9;", offset=0)
    longer = post_log("lr-0-01", b"loss=7;\nloss=8;\n", offset=0)

    assert (rewritten.status_code, rewritten.json()["error"]) == (409, "overlap_mismatch")
    assert rewritten.json()["first_difference"] == 5
    assert rewritten.json()["message"] == (
        "stream 'stdout' holds other bytes at offset 5 than this chunk resends there; "
        "bytes already stored are never rewritten"
    )
    assert (longer.status_code, longer.json()["first_difference"]) == (409, 5)
    assert read_log(api) == b"loss=1;"


def test_a_resent_overlap_is_compared_across_stored_chunks(api, run, post_log):
    post_log("lr-0-01", EPOCHS, offset=0)
    post_log("lr-0-01", EPOCH_3, offset=45)

    same = post_log("lr-0-01", EPOCHS[40:] + EPOCH_3 + b"tail\n", offset=40)
    changed = post_log("lr-0-01", EPOCHS[40:] + b"[epoch 3] Loss = 0.35;\n", offset=40)

    assert (same.status_code, same.json()["next_offset"]) == (200, 73)
    assert (changed.status_code, changed.json()["first_difference"]) == (409, 64)
    assert read_log(api) == EPOCHS + EPOCH_3 + b"tail\n"


def test_a_client_that_leaves_mid_chunk_stores_nothing_and_is_no_error(service, run, caplog):
    host, port = service.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            b"POST /v1/jobs/gan/runs/lr-0-01/logs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Length: 1000\r\n\r\n[epoch 1] Loss = 0.75;\n"
        )
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and not any(
        "ClientDisconnect" in r.getMessage() or r.exc_info for r in caplog.records
    ):
        time.sleep(0.05)  # give the service time to notice; it must log nothing

    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []
    assert service.client.get("/v1/jobs/gan/runs/lr-0-01").json()["streams"] == []
