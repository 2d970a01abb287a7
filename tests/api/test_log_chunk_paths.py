"""POST .../logs answers a plain chunk (at most `stream`, `offset` and `timestamp`, each
valid) on its own fast path and any other request through FastAPI's endpoint: the two
must answer alike. A query parameter the route does not know sends a request down
FastAPI's path (FastAPI ignores it), so each case is sent both ways, to two runs."""

from __future__ import annotations

import pytest

CASES = [
    # (query, chunks posted in turn): each chunk's answer is compared.
    ({}, [b"[epoch 1] Loss = 0.75;\n", b"[epoch 2] Loss = 0.5;\npartial"]),
    ({"stream": "stderr", "offset": "0"}, [b"Loss = 1;\n", b"Loss = 1;\n"]),  # a retry
    ({"offset": "5"}, [b"Loss = 1;\n"]),  # a gap: 409
    ({"offset": "0"}, [b"Loss = 1;\n", b"Loss = 2;\n"]),  # an overlap that differs: 409
    ({"timestamp": "1700000000.5"}, [b"Loss = 3;\n"]),
    ({"timestamp": "2026-12-06T10:00:00+01:00"}, [b"Loss = 3;\n"]),
    ({"stream": "attempt-1/stdout"}, [b"Loss = 1;\n"]),  # the service's own name: 422
    ({"stream": "a" * 255}, [b"Loss = 1;\n"]),
    ({}, [b""]),
]


@pytest.mark.parametrize(("query", "chunks"), CASES)
def test_both_paths_answer_a_chunk_alike(api, make_job, make_run, query, chunks):
    make_job()
    make_run(name="fast")
    make_run(name="full")
    for chunk in chunks:
        fast = api.post("/v1/jobs/gan/runs/fast/logs", params=query, content=chunk)
        full = api.post(
            "/v1/jobs/gan/runs/full/logs", params={**query, "unknown": "1"}, content=chunk
        )
        assert fast.status_code == full.status_code
        assert fast.headers["content-type"] == full.headers["content-type"]
        assert fast.content == full.content.replace(b"'full'", b"'fast'")


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("/v1/jobs/nojob/runs/fast/logs", 404, "job_not_found"),
        ("/v1/jobs/gan/runs/norun/logs", 404, "run_not_found"),
    ],
)
def test_both_paths_refuse_a_missing_job_or_run_alike(api, make_job, make_run, path, status, error):
    make_job()
    make_run(name="fast")
    fast = api.post(path, content=b"Loss = 1;\n")
    full = api.post(path, params={"unknown": "1"}, content=b"Loss = 1;\n")
    assert (fast.status_code, fast.json()["error"]) == (status, error)
    assert fast.content == full.content


def test_a_stop_request_is_answered_by_the_fast_path(api, make_job, make_run):
    """`stop_requested` is in the answer only when the run is asked to stop."""
    make_job()
    make_run(name="fast")
    answer = api.post("/v1/jobs/gan/runs/fast/logs", content=b"Loss = 1;\n")
    assert answer.json() == {"stream": "stdout", "next_offset": 10, "lines": 1, "points": 1}
    assert api.post("/v1/jobs/gan/stop").status_code == 200
    fast = api.post("/v1/jobs/gan/runs/fast/logs", content=b"Loss = 2;\n")
    full = api.post("/v1/jobs/gan/runs/fast/logs", params={"x": "1"}, content=b"Loss = 3;\n")
    assert fast.content == (
        b'{"stream":"stdout","next_offset":20,"lines":1,"points":1,'
        b'"stop_requested":"the job was stopped"}'
    )
    assert full.content == fast.content.replace(b":20,", b":30,")
