"""Hyperband's rungs, whatever the chunks: a run is judged at each rung it passes, also
when one chunk brings it past several (a worker's chunk holds a second of lines, and
after an outage its whole spooled backlog).

Three runs of bracket 0 (search indexes 0, 3 and 6 of three brackets: rungs at 1, 3 and
9 points of 16), the third the worst at every step: at rung 1 it is not among the best
third of the three, so it is asked to stop, however its lines are chunked.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

SEARCH = {
    "name": "rungs",
    "objective": {"MetricName": "acc", "Type": "Maximize"},
    "metric_definitions": [{"Name": "acc", "Regex": r"acc=(\S+);"}],
    "search": {
        "strategy": "Hyperband",
        "command": ["true"],
        "hyperband": {"min_resource": 1, "max_resource": 16},
        "resource_limits": {"max_number_of_training_jobs": 12, "max_parallel_training_jobs": 12},
        "parameter_ranges": {
            "ContinuousParameterRanges": [{"Name": "lr", "MinValue": 0.001, "MaxValue": 0.1}]
        },
    },
}
STOPPED_AT_RUNG_1 = (
    "stopped by Hyperband at resource 1 of 16: 0.5 is not among the best 1 of 3 runs at this rung"
)


def _lines(value: float, count: int) -> bytes:
    return b"".join(f"epoch {step} acc={value};\n".encode() for step in range(1, count + 1))


def _post(api: httpx.Client, run: str, data: bytes, offset: int) -> dict[str, Any]:
    answer = api.post(f"/v1/jobs/rungs/runs/{run}/logs", params={"offset": offset}, content=data)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


@pytest.fixture
def third(api: httpx.Client) -> str:
    """The job, its first seven runs leased; runs 0 and 3 of bracket 0 past rung 1 with
    better values than the third's will be: the third's name (index 6)."""
    assert api.post("/v1/jobs", json=SEARCH).status_code == 201
    runs = [api.post("/v1/leases", json={"worker": "w"}).json()["lease"]["run"] for _ in range(7)]
    for run, value in ((runs[0], 0.9), (runs[3], 0.8)):
        _post(api, run, _lines(value, 4), 0)
    return runs[6]


def test_a_run_is_stopped_at_the_rung_its_line_reaches(api, third):
    answer = _post(api, third, _lines(0.5, 1), 0)

    assert answer.get("stop_requested") == STOPPED_AT_RUNG_1


def test_a_run_is_stopped_at_the_rungs_one_chunk_passes(api, third):
    answer = _post(api, third, _lines(0.5, 4), 0)

    assert answer.get("stop_requested") == STOPPED_AT_RUNG_1
