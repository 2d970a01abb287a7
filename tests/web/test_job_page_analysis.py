"""The job page's analysis views in a browser, on a search whose answer is known.

One job for the module (the tests only read it), tests/analysis/jobs.py's: a random search
over `lr` (logarithmic), `momentum` and `optimizer` where each run's objective is decided by
`lr` alone (`acc = 1 - |log10(lr) + 2.5| / 3`), so `momentum` and `optimizer` are noise.
Thirty runs complete in the order they were leased, then two fail.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from app.config import Settings
from tests.analysis.jobs import make_known_answer_job
from tests.service import Service, running_service
from tests.web.conftest import Tab

pytestmark = pytest.mark.browser

JOB = "known"
COMPLETED = 30
FAILED = 2


@dataclass(frozen=True)
class Known:
    service: Service
    lrs: dict[str, float]  # every run's lr, by name
    values: dict[str, float]  # the completed runs' objective values, in completion order


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Known]:
    database = tmp_path_factory.mktemp("analysis") / "logmetrics.db"
    settings = Settings(database_url=f"sqlite:///{database}", sqlite_synchronous="NORMAL")
    with running_service(settings) as service:
        job = make_known_answer_job(service.client, JOB, completed=COMPLETED, failed=FAILED)
        lrs = {run: float(values["lr"]) for run, values in job.hyperparameters.items()}
        yield Known(service, lrs, job.values)


@pytest.fixture
def job_page(known: Known, open_tab: Callable[..., Tab]) -> Tab:
    tab = open_tab(f"{known.service.url}/jobs/{JOB}")
    tab.page.wait_for_selector("body[data-analysis-ready]", state="attached")
    return tab


def wait_for(page: Any, element_id: str, condition: str) -> None:
    """Wait until `condition` holds of the element's dataset (`data`)."""
    dataset = f"document.getElementById('{element_id}').dataset"
    page.wait_for_function(f"() => {{ const data = {dataset}; return {condition}; }}")


def state(tab: Tab, testid: str) -> str | None:
    value: str | None = tab.page.get_attribute(f"[data-testid='{testid}']", "data-state")
    return value


def test_importance_ranks_the_deciding_hyperparameter_first(job_page: Tab) -> None:
    assert state(job_page, "importance") == "drawn"
    names = job_page.page.eval_on_selector_all(
        "#importance-bars .importance-row .importance-name", "rows => rows.map(r => r.textContent)"
    )
    assert names[0] == "lr"
    assert sorted(names) == ["lr", "momentum", "optimizer"]
    facts = job_page.page.inner_text("#importance-facts")
    assert f"on {COMPLETED} finished runs" in facts

    # The other evaluator ranks it first too.
    job_page.page.select_option("#importance-evaluator", "ped-anova")
    job_page.page.wait_for_function(
        "() => document.getElementById('importance-facts').textContent.startsWith('PED-ANOVA')"
    )
    names = job_page.page.eval_on_selector_all(
        "#importance-bars .importance-name", "rows => rows.map(r => r.textContent)"
    )
    assert names[0] == "lr"
    assert job_page.errors == []


def axes(tab: Tab) -> list[str]:
    value = tab.page.get_attribute("#pc-chart", "data-axes") or ""
    return value.split()


def test_parallel_coordinates_draw_brush_and_choose_axes(known: Known, job_page: Tab) -> None:
    page = job_page.page
    assert state(job_page, "parallel-coordinates") == "drawn"
    # The tuned hyperparameters in the order the service gives them, the objective last.
    shown = axes(job_page)
    assert sorted(shown[:-1]) == [
        "hyperparameter:lr",
        "hyperparameter:momentum",
        "hyperparameter:optimizer",
    ]
    assert shown[-1] == "metric:acc"
    # One polyline per run, failed runs too (they have hyperparameters).
    drawn = page.eval_on_selector_all("#pc-chart path.pc-line", "ps => ps.map(p => p.dataset.run)")
    assert sorted(drawn) == sorted(known.lrs)
    total = len(known.lrs)
    assert page.inner_text("#pc-count") == f"{total} of {total} runs selected"

    # Brush lr's axis from between two runs to between two others: exactly the runs
    # between stay selected.
    ordered = sorted(known.lrs.values())
    low, high = _gap(ordered, range(4, 12)), _gap(ordered, range(18, 28))
    selected = sorted(run for run, lr in known.lrs.items() if low < lr < high)
    axis = page.locator("#pc-chart .pc-axis[data-key='hyperparameter:lr']")
    top, bottom = float(axis.get_attribute("data-top")), float(axis.get_attribute("data-bottom"))
    page.locator("[data-testid='parallel-coordinates']").scroll_into_view_if_needed()
    origin = page.locator("#pc-chart svg").bounding_box()
    x = origin["x"] + float(axis.get_attribute("data-x"))

    def y_of(lr: float) -> float:
        share = (math.log10(lr) - math.log10(ordered[0])) / (
            math.log10(ordered[-1]) - math.log10(ordered[0])
        )
        return origin["y"] + bottom - share * (bottom - top)

    page.mouse.move(x, y_of(high))
    page.mouse.down()
    page.mouse.move(x, y_of(low), steps=6)
    page.mouse.up()
    wait_for(page, "pc-chart", "data.brushed !== ''")
    kept = page.eval_on_selector_all(
        "#pc-chart path.pc-line:not(.pc-dim)", "ps => ps.map(p => p.dataset.run)"
    )
    assert sorted(kept) == selected
    assert page.inner_text("#pc-count") == f"{len(selected)} of {total} runs selected"
    assert page.locator("#pc-clear").is_enabled()

    # A click on the axis clears its brush.
    page.mouse.click(x, y_of(ordered[0]) - 2)
    wait_for(page, "pc-chart", "data.brushed === ''")
    assert page.locator("#pc-chart path.pc-dim").count() == 0

    # From the keyboard: an arrow key on the focused axis selects a range, Escape clears it.
    axis.focus()
    page.keyboard.press("ArrowUp")
    wait_for(page, "pc-chart", "data.brushed === 'hyperparameter:lr'")
    assert 0 < int(page.get_attribute("#pc-chart", "data-selected")) < total
    page.keyboard.press("Escape")
    wait_for(page, "pc-chart", "data.brushed === ''")

    # The chooser takes an axis away and brings it back; the objective stays last.
    page.click(".pc-chooser summary")
    page.uncheck("#pc-axes input[value='hyperparameter:momentum']")
    wait_for(page, "pc-chart", "!data.axes.includes('momentum')")
    assert axes(job_page) == [key for key in shown if key != "hyperparameter:momentum"]
    assert page.locator("#pc-axes input[value='metric:acc']").is_disabled()
    page.check("#pc-axes input[value='hyperparameter:momentum']")
    wait_for(page, "pc-chart", "data.axes.includes('momentum')")
    assert sorted(axes(job_page)) == sorted(shown)
    assert axes(job_page)[-1] == "metric:acc"
    # A metric that is not the objective can be shown too.
    page.check("#pc-axes input[value='metric:loss']")
    wait_for(page, "pc-chart", "data.axes.includes('metric:loss')")
    assert axes(job_page)[-2:] == ["metric:loss", "metric:acc"]
    assert job_page.errors == []
    job_page.shoot("job-page-parallel-coordinates")


def _gap(ordered: list[float], positions: range) -> float:
    """The geometric midpoint of the widest gap between neighbours at `positions`."""
    i = max(positions, key=lambda k: math.log10(ordered[k + 1]) - math.log10(ordered[k]))
    return math.sqrt(ordered[i] * ordered[i + 1])


def test_history_draws_the_best_so_far_and_the_new_bests(known: Known, job_page: Tab) -> None:
    page = job_page.page
    # The first reads were asked for while the page was parsed (<link rel=preload>) and the
    # scripts took those answers: no second request for any of them.
    reads = page.evaluate(
        "() => performance.getEntriesByType('resource')"
        ".filter(e => e.name.includes('/v1/jobs/known/'))"
        ".map(e => [e.initiatorType, new URL(e.name).pathname.split('/').pop()])"
    )
    mine = {"acc", "history", "importance", "parallel-coordinates"}
    assert sorted(read for read in reads if read[1] in mine) == [
        ["link", "acc"],
        ["link", "history"],
        ["link", "importance"],
        ["link", "parallel-coordinates"],
    ]
    assert state(job_page, "history-chart") == "drawn"
    chart = page.locator("#history-chart")
    best = max(known.values.values())
    new_bests, so_far = [], -math.inf
    for run, value in known.values.items():  # completion order = creation order here
        if value > so_far:
            new_bests.append(run)
            so_far = value
    assert chart.get_attribute("data-axis") == "index"
    assert float(chart.get_attribute("data-best-last")) == best
    assert chart.get_attribute("data-new-bests").split() == new_bests
    assert chart.get_attribute("data-points") == str(COMPLETED)

    page.check("input[name='history-axis'][value='time']")
    wait_for(page, "history-chart", "data.axis === 'time'")
    assert float(chart.get_attribute("data-best-last")) == best
    assert chart.get_attribute("data-new-bests").split() == new_bests
    assert state(job_page, "history-chart") == "drawn"

    # Hovering the best run's dot names it; clicking opens its page.
    page.check("input[name='history-axis'][value='index']")
    wait_for(page, "history-chart", "data.axis === 'index'")
    best_run = max(known.values, key=known.values.__getitem__)
    assert chart.get_attribute("data-best-run") == best_run
    page.locator("[data-testid='history-chart']").scroll_into_view_if_needed()
    over = page.locator("#history-chart .u-over").bounding_box()
    left, top = (float(v) for v in chart.get_attribute("data-best-at").split())
    point = (over["x"] + left, over["y"] + top)
    page.mouse.move(point[0] - 3, point[1])
    page.mouse.move(*point)
    assert page.locator("#history-chart .tooltip b").first.inner_text() == best_run
    with page.expect_navigation():
        page.mouse.click(point[0], point[1])
    assert page.url.endswith(f"/jobs/{JOB}/runs/{best_run}")
    assert job_page.errors == []


def test_an_empty_job_says_so_in_each_view(known: Known, open_tab: Callable[..., Tab]) -> None:
    api = known.service.client
    body = {"name": "empty", "objective": {"MetricName": "acc", "Type": "Maximize"}}
    body["metric_definitions"] = [{"Name": "acc", "Regex": r"acc=(\S+);"}]
    assert api.post("/v1/jobs", json=body).status_code == 201
    tab = open_tab(f"{known.service.url}/jobs/empty")
    tab.page.wait_for_selector("body[data-analysis-ready]", state="attached")
    for testid in ("history-chart", "parallel-coordinates", "importance"):
        assert state(tab, testid) == "empty", testid
    assert tab.errors == []


def test_a_failed_read_says_why_in_its_view(known: Known, open_tab: Callable[..., Tab]) -> None:
    def refuse(page: Any) -> None:
        body = '{"error": "internal", "message": "the analysis is away"}'
        for route in ("history", "parallel-coordinates", "importance"):
            page.route(
                f"**/v1/jobs/{JOB}/{route}*",
                lambda r: r.fulfill(status=503, content_type="application/json", body=body),
            )

    tab = open_tab(f"{known.service.url}/jobs/{JOB}", before=refuse)
    tab.page.wait_for_selector("body[data-analysis-ready]", state="attached")
    for testid in ("history-chart", "parallel-coordinates", "importance"):
        assert state(tab, testid) == "error", testid
        status = tab.page.locator(f"[data-testid='{testid}'] .chart-status.chart-error")
        assert status.inner_text() == "Could not load it: the analysis is away"
    # The other charts are drawn all the same.
    tab.wait_ready()
    assert tab.page.get_attribute("#series-chart", "data-series") == str(COMPLETED + FAILED)
