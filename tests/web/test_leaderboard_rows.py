"""The job page's leaderboard rows over HTTP: the first rows in ranking order, every run
with `?runs=all`, and the ranking the page works out from one read of the runs (ties
oldest first, the API's order). `fill_long_job` also serves the Chromium test."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from app.records import MetricDefinition, Point, RunStatus, StreamState
from app.storage import Storage
from app.storage.records import JobSpec
from tests.storage.factories import chunk

__all__ = ["fill_long_job"]


def fill_long_job(
    storage: Storage, name: str, values: Sequence[float | None], statuses: Sequence[RunStatus]
) -> list[str]:
    """A job maximizing `acc` without a search, straight into `storage`: run i (0-based,
    named by the storage, oldest first) has `lr = 0.0001 * (i + 1)`, `acc = values[i]`
    (None: no point) and ends with `statuses[i]` (InProgress: not ended).

    Returns:
        The runs' names in creation order.
    """
    job = storage.create_job(
        JobSpec(
            name=name,
            objective_metric="acc",
            objective_type="Maximize",
            objective_strategy="latest",
            log_format="text",
            metric_definitions=(MetricDefinition("acc", r"acc=(\S+);"),),
            environment={},
        )
    )
    names = []
    for i, (value, status) in enumerate(zip(values, statuses, strict=True)):
        run = storage.create_run(job, None, {"lr": f"{0.0001 * (i + 1):.6g}"})
        names.append(run.name)
        if value is not None:
            line = f"acc={value};\n".encode()
            state = StreamState(next_offset=len(line), lines=1)
            storage.append_chunk(job, run, chunk(line, state, [Point("acc", value, None, 1, 0)]))
        if status is not RunStatus.IN_PROGRESS:
            reason = "out of memory" if status is RunStatus.FAILED else None
            ended = storage.get_run(job, run.name)
            storage.complete_run(job, ended, status, reason, datetime.now(UTC), ())
    return names


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-run="([^"]+)"', html)


@pytest.fixture
def tied(storage, service):
    # Ties on 0.5 and 0.9 (oldest first among them), a run in progress with a value and a
    # failed one with the best value (neither ranked), a completed run without a value.
    values = [0.5, 0.9, 0.5, 0.7, 0.9, 0.99, 0.95, None, 0.5]
    done = RunStatus.COMPLETED
    statuses = [done, done, RunStatus.STOPPED, done, done, RunStatus.FAILED]
    statuses += [RunStatus.IN_PROGRESS, done, done]
    return fill_long_job(storage, "tied", values, statuses)


def test_the_page_ranks_as_the_api_does_ties_oldest_first(tied, api):
    ranked = api.get("/v1/jobs/tied/runs?sort_by=objective&status=Completed&status=Stopped")
    # The API lists the completed run without a value last: the page, among the others.
    names = [run["name"] for run in ranked.json()["runs"] if run["objective"]["value"] is not None]
    assert names == [tied[i] for i in (1, 4, 3, 0, 2, 8)]

    page = api.get("/jobs/tied")

    assert page.status_code == 200
    # Ranked first, then the others oldest first.
    assert rows(page.text) == [*names, tied[5], tied[6], tied[7]]
    assert 'id="show-all-runs"' not in page.text
    assert 'data-testid="leaderboard-note"' not in page.text


def test_a_long_leaderboard_renders_its_first_100_rows_unless_asked_for_all(storage, api):
    values = [i / 1000 for i in range(103)] + [None]
    statuses = [RunStatus.COMPLETED] * 103 + [RunStatus.FAILED]
    names = fill_long_job(storage, "long", values, statuses)
    best_first = names[102::-1]

    first = api.get("/jobs/long")
    every = api.get("/jobs/long?runs=all")
    other = api.get("/jobs/long?runs=everything")

    assert rows(first.text) == best_first[:100]
    assert "Showing the first 100 of 104 runs in ranking order" in first.text
    assert 'href="/jobs/long?runs=all#leaderboard-card">Show all 104 runs</a>' in first.text
    assert rows(every.text) == [*best_first, names[103]]
    assert 'href="/jobs/long#leaderboard-card">Show the first 100 runs only</a>' in every.text
    # Any other value: the first rows, not an error.
    assert other.status_code == 200 and rows(other.text) == best_first[:100]
    # The page's state names every run for the charts either way.
    assert first.text.count('"name":"run-') == 104
