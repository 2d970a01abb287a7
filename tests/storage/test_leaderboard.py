"""The leaderboard (`list_runs`), the best run and a job's overview."""

from __future__ import annotations

import pytest

from app.errors import InvalidInput
from app.records import MetricDefinition, RunStatus
from app.storage import RunQuery

COMPLETED, FAILED, STOPPED, IN_PROGRESS = (
    RunStatus.COMPLETED,
    RunStatus.FAILED,
    RunStatus.STOPPED,
    RunStatus.IN_PROGRESS,
)


@pytest.fixture
def sweep(make_job, make_run):
    """Six runs of a job minimizing `loss`, created in this order; two pairs tie."""
    job = make_job()
    make_run(job, "lr-0-1", {"lr": "0.1"}, values=[0.9, 0.5], status=COMPLETED)
    make_run(job, "lr-0-01", {"lr": "0.01"}, values=[0.25], status=COMPLETED)
    make_run(job, "lr-0-001", {"lr": "0.001"}, values=[0.5], status=FAILED)
    make_run(job, "lr-1", {"lr": "1"}, status=COMPLETED)  # printed no loss
    make_run(job, "lr-0-3", {"lr": "0.3"}, values=[0.75])  # still running
    make_run(job, "lr-0-03", {"lr": "0.03"}, values=[0.25], status=STOPPED)
    return job


def names(page):
    return [run.name for run in page.runs]


ORDERS = {
    # Without an objective value lr-1 is left out; ties go to the earliest created.
    ("objective", "asc"): ["lr-0-01", "lr-0-03", "lr-0-1", "lr-0-001", "lr-0-3"],
    ("objective", "desc"): ["lr-0-3", "lr-0-1", "lr-0-001", "lr-0-01", "lr-0-03"],
    ("created_at", "asc"): ["lr-0-1", "lr-0-01", "lr-0-001", "lr-1", "lr-0-3", "lr-0-03"],
    ("created_at", "desc"): ["lr-0-03", "lr-0-3", "lr-1", "lr-0-001", "lr-0-01", "lr-0-1"],
    ("name", "asc"): ["lr-0-001", "lr-0-01", "lr-0-03", "lr-0-1", "lr-0-3", "lr-1"],
    ("name", "desc"): ["lr-1", "lr-0-3", "lr-0-1", "lr-0-03", "lr-0-01", "lr-0-001"],
}


@pytest.mark.parametrize(("sort_by", "order"), list(ORDERS), ids="-".join)
def test_runs_sort_by_objective_creation_or_name(backend, sweep, sort_by, order):
    page = backend.list_runs(sweep, RunQuery(sort_by=sort_by, order=order))

    assert (names(page), page.next_cursor) == (ORDERS[sort_by, order], None)


@pytest.mark.parametrize("limit", [1, 2, 4])
@pytest.mark.parametrize(("sort_by", "order"), list(ORDERS), ids="-".join)
def test_paging_gives_every_run_once_in_order(backend, sweep, sort_by, order, limit):
    seen, cursor, pages = [], None, 0
    while True:
        page = backend.list_runs(
            sweep, RunQuery(sort_by=sort_by, order=order, limit=limit, cursor=cursor)
        )
        assert 1 <= len(page.runs) <= limit
        seen += names(page)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == ORDERS[sort_by, order]
    assert pages == -(-len(seen) // limit)


RANKED_ORDERS = {
    # Completed and stopped runs with a value are ranked; then the rest, oldest first.
    "asc": ["lr-0-01", "lr-0-03", "lr-0-1", "lr-0-001", "lr-1", "lr-0-3"],
    "desc": ["lr-0-1", "lr-0-01", "lr-0-03", "lr-0-001", "lr-1", "lr-0-3"],
}


@pytest.mark.parametrize("limit", [1, 2, 4, 100])
@pytest.mark.parametrize("order", list(RANKED_ORDERS))
def test_ranked_runs_come_first_then_the_others_oldest_first(backend, sweep, order, limit):
    seen, cursor = [], None
    while True:
        query = RunQuery("objective", order, (), limit, cursor, ranked=(COMPLETED, STOPPED))
        page = backend.list_runs(sweep, query)
        seen += names(page)
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == RANKED_ORDERS[order]


def test_ranked_runs_filtered_by_status_keep_their_sections(backend, sweep):
    query = RunQuery("objective", "asc", (COMPLETED, FAILED), ranked=(COMPLETED, STOPPED))

    assert names(backend.list_runs(sweep, query)) == ["lr-0-01", "lr-0-1", "lr-0-001", "lr-1"]


def test_listed_runs_carry_their_summaries(backend, sweep):
    page = backend.list_runs(sweep, RunQuery(sort_by="name", order="desc", limit=3))

    (lr_1, lr_0_3, lr_0_1) = page.runs
    assert (lr_1.objective_value, lr_1.metrics) == (None, ())
    assert [(m.name, m.count, m.last, m.min, m.max) for m in lr_0_1.metrics] == [
        ("loss", 2, 0.5, 0.5, 0.9)
    ]
    assert (lr_0_1.status, lr_0_3.status, dict(lr_0_1.hyperparameters)) == (
        COMPLETED,
        IN_PROGRESS,
        {"lr": "0.1"},
    )


@pytest.mark.parametrize(
    ("statuses", "sort_by", "expected"),
    [
        ((COMPLETED, STOPPED), "objective", ["lr-0-01", "lr-0-03", "lr-0-1"]),
        ((COMPLETED,), "created_at", ["lr-0-1", "lr-0-01", "lr-1"]),
        ((FAILED,), "name", ["lr-0-001"]),
        ((IN_PROGRESS,), "objective", ["lr-0-3"]),
    ],
)
def test_runs_filter_by_status(backend, sweep, statuses, sort_by, expected):
    page = backend.list_runs(sweep, RunQuery(sort_by=sort_by, order="asc", statuses=statuses))

    assert names(page) == expected


def test_paging_a_filtered_list(backend, sweep):
    first = backend.list_runs(
        sweep, RunQuery(sort_by="objective", order="asc", statuses=(COMPLETED, STOPPED), limit=2)
    )
    rest = backend.list_runs(
        sweep,
        RunQuery(
            sort_by="objective",
            order="asc",
            statuses=(COMPLETED, STOPPED),
            limit=2,
            cursor=first.next_cursor,
        ),
    )

    assert (names(first), names(rest), rest.next_cursor) == (
        ["lr-0-01", "lr-0-03"],
        ["lr-0-1"],
        None,
    )


def test_a_job_without_runs_lists_none(backend, make_job):
    job = make_job()

    page = backend.list_runs(job, RunQuery())

    assert (page.runs, page.next_cursor) == ((), None)


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "",
        "W10",  # []
        "eyJhIjogMX0",  # {"a": 1}
        "W05hTiwgMTcxNDU2NDgwMC4wLCAxXQ",  # [NaN, 1714564800.0, 1]
        "W0luZmluaXR5LCAxNzE0NTY0ODAwLjAsIDFd",  # [Infinity, 1714564800.0, 1]
        # [0.5, 1714564800.0, 1000000000000000000000000000000]: an id beyond 64 bits
        "WzAuNSwgMTcxNDU2NDgwMC4wLCAxMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwXQ",
    ],
    ids=["text", "empty", "empty-list", "object", "nan", "infinity", "id-beyond-64-bits"],
)
def test_a_cursor_not_made_by_the_storage_is_invalid_input(backend, sweep, cursor):
    with pytest.raises(InvalidInput):
        backend.list_runs(sweep, RunQuery(sort_by="objective", cursor=cursor))


def test_a_cursor_of_another_sort_is_invalid_input(backend, sweep):
    by_name = backend.list_runs(sweep, RunQuery(sort_by="name", limit=1)).next_cursor

    with pytest.raises(InvalidInput):
        backend.list_runs(sweep, RunQuery(sort_by="objective", cursor=by_name))


# The best run.


def test_the_best_run_minimizes(backend, sweep):
    best = backend.best_run(sweep, [COMPLETED, STOPPED])

    # lr-0-01 and lr-0-03 tie at 0.25: the earlier created wins.
    assert best is not None
    assert (best.name, best.status, best.objective_value) == ("lr-0-01", COMPLETED, 0.25)


def test_the_best_run_maximizes(backend, make_job, make_run):
    job = make_job(
        objective_metric="accuracy",
        objective_type="Maximize",
        definitions=(MetricDefinition("accuracy", r"acc=(\S+)"),),
    )
    make_run(job, "a", values=[0.81], status=COMPLETED)
    make_run(job, "b", values=[0.93], status=STOPPED)
    make_run(job, "c", values=[0.87], status=COMPLETED)

    best = backend.best_run(job, [COMPLETED, STOPPED])

    assert best is not None
    assert (best.name, best.objective_value) == ("b", 0.93)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([COMPLETED], "lr-0-01"),
        ([STOPPED], "lr-0-03"),
        ([FAILED], "lr-0-001"),
        ([IN_PROGRESS], "lr-0-3"),
        ([FAILED, IN_PROGRESS], "lr-0-001"),
    ],
)
def test_the_best_run_is_among_the_statuses_asked_for(backend, sweep, statuses, expected):
    best = backend.best_run(sweep, statuses)

    assert best is not None
    assert best.name == expected


def test_the_best_run_carries_its_summaries(backend, sweep):
    best = backend.best_run(sweep, [COMPLETED])

    assert best is not None
    assert [(m.name, m.count, m.last) for m in best.metrics] == [("loss", 1, 0.25)]


def test_ties_go_to_the_earliest_created_run(backend, make_job, make_run):
    job = make_job(objective_type="Maximize")
    for name in ("c-first", "a-second", "b-third"):
        make_run(job, name, values=[0.5], status=COMPLETED)

    best = backend.best_run(job, [COMPLETED])

    assert best is not None
    assert best.name == "c-first"


def test_a_run_without_an_objective_value_is_never_best(backend, make_job, make_run):
    job = make_job()
    make_run(job, "silent", status=COMPLETED)

    assert backend.best_run(job, [COMPLETED, STOPPED, FAILED, IN_PROGRESS]) is None


def test_no_qualifying_run_means_no_best_run(backend, make_job, make_run):
    job = make_job()
    make_run(job, "crashed", values=[0.1], status=FAILED)
    make_run(job, "running", values=[0.2])

    assert backend.best_run(job, [COMPLETED, STOPPED]) is None
    assert backend.best_run(job, []) is None


# The overview.


def test_the_overview_counts_runs_by_status_and_names_the_best(backend, sweep):
    overview = backend.job_overview(sweep)

    assert overview.job == sweep
    assert dict(overview.run_counts) == {
        "InProgress": 1,
        "Completed": 3,
        "Failed": 1,
        "Stopped": 1,
    }
    assert overview.best_run is not None
    assert overview.best_run.name == "lr-0-01"


def test_the_overview_may_count_running_runs_as_best(backend, make_job, make_run):
    job = make_job()
    make_run(job, "done", values=[0.5], status=COMPLETED)
    make_run(job, "running", values=[0.25])

    assert backend.job_overview(job).best_run.name == "done"
    assert backend.job_overview(job, include_in_progress=True).best_run.name == "running"


def test_the_overview_of_a_job_without_runs(backend, make_job):
    job = make_job()

    overview = backend.job_overview(job)

    assert dict(overview.run_counts) == {
        "InProgress": 0,
        "Completed": 0,
        "Failed": 0,
        "Stopped": 0,
    }
    assert overview.best_run is None
