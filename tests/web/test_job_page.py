"""The job page in a browser: leaderboard, charts, live updates."""

from __future__ import annotations

import pytest

from app.records import RunStatus
from tests.web.runs import OBJECTIVE, SWEEP, create_sweep, epoch_line, post, start_run
from tests.web.test_leaderboard_rows import fill_long_job

pytestmark = pytest.mark.browser


def leaderboard(tab):
    return tab.page.eval_on_selector_all(
        "#leaderboard tbody tr", "rows => rows.map(r => r.dataset.run)"
    )


def test_the_leaderboard_is_in_the_apis_objective_order(api, browse):
    create_sweep(api)
    # Ranked: exactly the runs /best considers, in its order (completed and stopped).
    considered = "/v1/jobs/sweep/runs?sort_by=objective&status=Completed&status=Stopped"
    ranked = [r["name"] for r in api.get(considered).json()["runs"]]

    tab = browse("/jobs/sweep")
    tab.wait_ready()

    rows = leaderboard(tab)
    assert rows[: len(ranked)] == ranked
    assert ranked[0] == api.get("/v1/jobs/sweep/best").json()["name"]
    # The others follow unranked, oldest first, with their status: the failed run and the
    # one in progress, though both have a value.
    assert rows[len(ranked) :] == ["run-0006", "run-0007"]
    unranked = tab.page.eval_on_selector_all(
        "#leaderboard tbody tr[data-run='run-0006'] td, "
        "#leaderboard tbody tr[data-run='run-0007'] td",
        "cells => cells.map(c => c.innerText.trim())",
    )
    assert unranked[0] == "" and "Failed" in unranked[2]
    assert sorted(rows) == sorted(spec.name for spec in SWEEP)
    best = api.get("/v1/jobs/sweep/best").json()["name"]
    assert tab.page.get_attribute("#leaderboard tr.best", "data-run") == best
    assert tab.errors == []
    tab.shoot("job-page")


def test_the_chart_has_one_line_per_run_with_points(api, browse):
    create_sweep(api)
    series = api.get(f"/v1/jobs/sweep/series/{OBJECTIVE}").json()["runs"]

    tab = browse("/jobs/sweep")
    tab.wait_ready()

    chart = tab.page.locator("#series-chart")
    # Read from the uPlot instance the page drew, not from the page's own bookkeeping.
    assert chart.get_attribute("data-series") == str(len(series)) == str(len(SWEEP))
    assert chart.get_attribute("data-runs").split() != []
    assert sorted(chart.get_attribute("data-runs").split()) == sorted(s["run"] for s in series)
    drawn = int(chart.get_attribute("data-points"))
    assert drawn == sum(len(s["points"]) for s in series)
    assert tab.page.locator("#series-chart canvas:not(.hover-layer)").count() == 1
    assert tab.errors == []


def test_hovering_a_line_names_its_run_and_clicking_opens_it(api, browse):
    create_sweep(api)
    tab = browse("/jobs/sweep")
    tab.wait_ready()
    box = tab.page.locator("#series-chart .u-over").bounding_box()
    tip = tab.page.locator("#series-chart .tooltip")

    # Down the plot at three quarters of its width, until the pointer is near a line.
    x = box["x"] + box["width"] * 0.75
    for y in range(int(box["y"]) + 2, int(box["y"] + box["height"]), 4):
        tab.page.mouse.move(x, y)
        if tip.is_visible():
            break
    named = tip.locator("b").first.inner_text()
    assert named in {spec.name for spec in SWEEP}

    with tab.page.expect_navigation():
        tab.page.mouse.down()
        tab.page.mouse.up()
    assert tab.page.url.endswith(f"/jobs/sweep/runs/{named}")
    assert tab.errors == []


def test_a_lines_tooltip_marks_the_best_run_and_ranks_the_others(api, browse):
    create_sweep(api)
    best = api.get("/v1/jobs/sweep/best").json()["name"]
    ranks = {
        row["name"]: i
        for i, row in enumerate(api.get("/v1/jobs/sweep/runs?sort_by=objective").json()["runs"], 1)
    }
    tab = browse("/jobs/sweep")
    tab.wait_ready()
    box = tab.page.locator("#series-chart .u-over").bounding_box()
    tip = tab.page.locator("#series-chart .tooltip")

    # Down the plot at three quarters of its width: every run's line that reaches it.
    titles = {}
    best_mark_colour = None
    x = box["x"] + box["width"] * 0.75
    for y in range(int(box["y"]) + 2, int(box["y"] + box["height"]), 3):
        tab.page.mouse.move(x, y)
        if not tip.is_visible():
            continue
        title = tip.locator("div").first
        titles[title.locator("b").inner_text()] = title.inner_text()
        if tip.locator(".best-mark").count():
            best_mark_colour = tip.locator(".best-mark").evaluate("e => getComputedStyle(e).color")
    assert titles[best] == f"{best} ★ best rank 1"
    others = [name for name in titles if name != best]
    assert others
    assert all(titles[name] == f"{name} rank {ranks[name]}" for name in others)
    assert best_mark_colour == "rgb(255, 169, 77)"  # app.css's --best-on-dark
    assert tab.errors == []


def test_another_metric_can_be_charted(api, browse):
    create_sweep(api)
    tab = browse("/jobs/sweep")
    tab.wait_ready()

    tab.page.select_option("#series-metric", "train_loss")

    expected = len(api.get("/v1/jobs/sweep/series/train_loss").json()["runs"])
    tab.page.wait_for_function(
        "n => document.querySelector('#series-chart').dataset.series === String(n)", arg=expected
    )
    assert tab.errors == []


def test_the_scatter_has_a_chart_per_tuned_hyperparameter(api, browse):
    create_sweep(api)
    tab = browse("/jobs/sweep")
    tab.wait_ready()

    plots = tab.page.eval_on_selector_all(
        "#scatter-grid .plot",
        "els => els.map(e => [e.dataset.hyperparameter, Number(e.dataset.series)])",
    )
    ranked = len(api.get("/v1/jobs/sweep/runs?sort_by=objective").json()["runs"])
    # optimizer (categorical) and lr (log) vary; epochs and task are the same in every run.
    assert plots == [["optimizer", ranked], ["lr", ranked]]
    headings = tab.page.locator("#scatter-grid .scatter-cell h3").all_inner_texts()
    assert headings == ["optimizer categorical", "lr log"]
    assert "epochs=8" in tab.page.inner_text(".fixed-hps")
    assert tab.errors == []


def test_clicking_a_header_sorts_the_leaderboard(api, browse):
    create_sweep(api)
    tab = browse("/jobs/sweep")
    tab.wait_ready()

    tab.page.click("#leaderboard th[data-column='hyperparameter:lr']")
    lrs = [
        float(v)
        for v in tab.page.eval_on_selector_all(
            "#leaderboard tbody tr", "rows => rows.map(r => r.cells[5].textContent)"
        )
    ]
    assert lrs == sorted(lrs, reverse=True)
    tab.page.click("#leaderboard th[data-column='hyperparameter:lr']")
    lrs = [
        float(v)
        for v in tab.page.eval_on_selector_all(
            "#leaderboard tbody tr", "rows => rows.map(r => r.cells[5].textContent)"
        )
    ]
    assert lrs == sorted(lrs)
    assert tab.errors == []


def test_the_page_picks_up_a_new_point_without_a_reload(api, browse):
    create_sweep(api)
    running = SWEEP[-1]
    tab = browse("/jobs/sweep")
    tab.wait_ready()
    before = int(tab.page.get_attribute("#series-chart", "data-points"))
    tab.page.evaluate("window.notReloaded = true")

    post(api, "sweep", running.name, epoch_line(running.epochs + 1, running) + "\n")

    tab.page.wait_for_function(
        "n => Number(document.querySelector('#series-chart').dataset.points) > n", arg=before
    )
    value = api.get(f"/v1/jobs/sweep/runs/{running.name}").json()["objective"]["value"]
    row = tab.page.locator(f"#leaderboard tr[data-run='{running.name}'] td.objective-col")
    tab.page.wait_for_function(
        "([el, v]) => el.dataset.value !== '' && Number(el.dataset.value) === v",
        arg=[row.element_handle(), value],
    )
    assert tab.page.evaluate("window.notReloaded") is True
    assert tab.errors == []


def test_a_job_without_runs_says_how_to_start_one(api, browse, make_job):
    make_job(name="fresh")
    tab = browse("/jobs/fresh")
    tab.wait_ready()

    empty = tab.page.inner_text("#no-runs")
    assert "logmetrics run" in empty and "--job fresh" in empty
    assert tab.page.is_hidden("#charts")
    assert tab.errors == []
    tab.shoot("job-page-empty")


def test_a_single_point_is_drawn(api, browse):
    """One run with one point: every chart's scale has an empty range to widen."""
    create_sweep(api, runs=())
    spec = SWEEP[-1]
    start_run(api, "sweep", spec)
    post(api, "sweep", spec.name, epoch_line(1, spec) + "\n")

    tab = browse("/jobs/sweep")
    tab.wait_ready()

    assert tab.page.get_attribute("#series-chart", "data-points") == "1"
    assert tab.page.locator("#scatter-grid .plot").count() == 4  # one run: every hyperparameter
    assert tab.errors == []


# Polling: only while something is live. The page polls every `data-poll` ms of <body>;
# the tests shorten it, then wake the page (as a tab shown again does) so it reschedules.


def page_polls(tab, seconds: float = 1.5) -> int:
    """How many times the page fetched itself again in `seconds`, polling every 100 ms."""
    url = tab.page.url
    seen: list[str] = []
    tab.page.on("request", lambda request: seen.append(request.url) if request.url == url else None)
    tab.page.evaluate(
        "document.body.dataset.poll = '100';document.dispatchEvent(new Event('visibilitychange'))"
    )
    tab.page.wait_for_timeout(seconds * 1000)
    return len(seen)


def test_an_idle_job_page_does_not_poll(api, browse):
    create_sweep(api, runs=SWEEP[:-1])  # every run ended, no search
    tab = browse("/jobs/sweep")
    tab.wait_ready()

    # The wake-up's own fetch, and none after it.
    assert page_polls(tab) == 1
    assert tab.page.is_hidden("#live-indicator")
    assert tab.errors == []


def test_a_job_page_polls_while_a_run_is_in_progress_and_stops_after(api, browse):
    create_sweep(api)  # run-0007 in progress
    tab = browse("/jobs/sweep")
    tab.wait_ready()
    assert page_polls(tab) >= 3

    ended = api.post(f"/v1/jobs/sweep/runs/{SWEEP[-1].name}/complete", json={"status": "Completed"})
    assert ended.status_code == 200, ended.text
    tab.page.wait_for_function(
        "() => !JSON.parse(document.getElementById('page-state').textContent).live"
    )
    tab.page.wait_for_timeout(300)  # a fetch already on its way when it ended
    assert page_polls(tab, seconds=1) <= 1
    assert tab.errors == []


# Loading states: a chart says so until its data is drawn, and says why when it is not.


def test_the_chart_says_loading_until_its_data_is_drawn(api, browse):
    create_sweep(api)
    held = []
    tab = browse(
        "/jobs/sweep",
        before=lambda page: page.route(
            "**/v1/jobs/sweep/series/**", lambda route: held.append(route)
        ),
    )

    loading = tab.page.locator("#series-chart .chart-loading")
    loading.wait_for(state="visible")
    assert "Loading" in loading.inner_text()
    tab.shoot("job-page-loading")
    while not held:  # the request, held on its way
        tab.page.wait_for_timeout(50)
    for route in held:
        route.continue_()
    tab.wait_ready()

    assert tab.page.locator("#series-chart .chart-status:visible").count() == 0
    assert int(tab.page.get_attribute("#series-chart", "data-points")) > 0
    assert tab.page.locator("#scatter-grid .chart-loading").count() == 0
    assert tab.errors == []


def test_the_chart_says_when_a_metric_has_no_points(api, browse):
    create_sweep(api)
    tab = browse("/jobs/sweep")
    tab.wait_ready()

    tab.page.select_option("#series-metric", "val_roc_auc")  # defined, never printed

    empty = tab.page.locator("#series-chart .chart-empty")
    empty.wait_for(state="visible")
    assert empty.inner_text() == "No run has a point of val_roc_auc yet."
    assert tab.errors == []


def test_the_chart_says_why_its_data_could_not_be_read(api, browse):
    create_sweep(api)

    def fail(route):
        route.fulfill(status=503, content_type="application/json", body='{"message": "busy"}')

    tab = browse("/jobs/sweep", before=lambda page: page.route("**/v1/jobs/sweep/series/**", fail))
    tab.wait_ready()

    error = tab.page.locator("#series-chart .chart-error")
    assert error.is_visible()
    assert error.inner_text() == f"Could not load {OBJECTIVE}: busy"
    assert tab.page.locator("#series-chart .chart-loading").count() == 0
    # Only the browser's own report of the failed request.
    assert all("503" in e for e in tab.errors)


# The leaderboard at 1400 px: many columns scroll sideways under the rank and run name.


def test_the_rank_and_run_name_stay_put_while_the_leaderboard_scrolls(api, browse):
    wide = {f"augmentation_setting_{i}": f"value-{i}-of-a-long-hyperparameter" for i in range(12)}
    create_sweep(api)
    created = api.post("/v1/jobs/sweep/runs", json={"name": "run-wide", "hyperparameters": wide})
    assert created.status_code == 201, created.text
    tab = browse("/jobs/sweep", width=1400)
    tab.wait_ready()
    scroller = tab.page.locator("#leaderboard-card .table-scroll")
    assert scroller.evaluate("el => el.scrollWidth > el.clientWidth + 400")

    def left(selector):
        return tab.page.locator(selector).first.bounding_box()["x"]

    row = "#leaderboard tbody tr[data-run='run-0005']"
    before = {
        what: left(f"{row} td:nth-child({n})")
        for what, n in (("rank", 1), ("run", 2), ("status", 3))
    }
    scroller.evaluate("el => { el.scrollLeft = 400; }")
    tab.page.wait_for_function("el => el.scrollLeft === 400", arg=scroller.element_handle())

    assert left(f"{row} td:nth-child(1)") == before["rank"]
    assert left(f"{row} td:nth-child(2)") == before["run"]
    assert left(f"{row} td:nth-child(3)") < before["status"] - 300  # the others scrolled
    # Painted over what scrolls under them: the name cell is what the browser hits.
    tab.page.locator(row).scroll_into_view_if_needed()
    box = tab.page.locator(f"{row} td:nth-child(2)").bounding_box()
    hit = tab.page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).closest('td')?.cellIndex",
        [box["x"] + box["width"] - 4, box["y"] + box["height"] / 2],
    )
    assert hit == 1
    tab.shoot("job-page-leaderboard-scrolled")
    assert tab.errors == []


def test_the_leaderboard_shows_the_gpus_each_run_held(api, browse):
    body = {
        "name": "gpus",
        "objective": {"MetricName": "acc", "Type": "Maximize"},
        "metric_definitions": [{"Name": "acc", "Regex": r"acc=(\S+);"}],
        "search": {
            "strategy": "Random",
            "command": ["true"],
            "resources": {"gpus_per_run": 2},
            "resource_limits": {"max_number_of_training_jobs": 3, "max_parallel_training_jobs": 3},
            "parameter_ranges": {
                "ContinuousParameterRanges": [{"Name": "lr", "MinValue": 0.001, "MaxValue": 0.1}]
            },
        },
    }
    assert api.post("/v1/jobs", json=body).status_code == 201
    # As `logmetrics worker --gpus 0,1,2,3` leases and beats: two runs placed, and a
    # third the worker's GPUs could not place.
    held = {}
    for free, devices in ((4, ["0", "1"]), (2, ["2", "3"])):
        offer = {"total": 4, "free": free, "shared": {}}
        lease = api.post("/v1/leases", json={"worker": "w", "gpus": offer}).json()["lease"]
        assert lease["gpus_per_run"] == 2
        beat = {"worker": "w", "gpus": devices}
        assert api.post(f"/v1/jobs/gpus/runs/{lease['run']}/heartbeat", json=beat).is_success
        held[lease["run"]] = ",".join(devices)
    full = {"worker": "w", "gpus": {"total": 4, "free": 0, "shared": {}}}
    assert api.post("/v1/leases", json=full).json()["lease"] is None
    assert {run["name"]: run["gpus"] for run in api.get("/v1/jobs/gpus/runs").json()["runs"]} == {
        name: devices.split(",") for name, devices in held.items()
    }

    tab = browse("/jobs/gpus")
    tab.wait_ready()

    shown = tab.page.eval_on_selector_all(
        "#leaderboard tbody tr",
        "rows => rows.map(r => [r.dataset.run, r.querySelector('td:nth-last-child(2)').innerText])",
    )
    assert dict(shown) == held
    header = tab.page.inner_text("#leaderboard th[data-column='gpus']")
    assert header.strip() == "GPUs"
    assert tab.errors == []
    tab.shoot("job-page-gpus")


def test_a_long_leaderboard_shows_its_first_runs_and_all_on_request(storage, browse):
    # 103 completed runs, each better than the one before, and a failed one: past the 100
    # rows the page renders by itself (pages.FIRST_ROWS), with an unranked run after them.
    values = [i / 1000 for i in range(103)] + [0.5]
    names = fill_long_job(storage, "long", values, [RunStatus.COMPLETED] * 103 + [RunStatus.FAILED])
    best_first = names[102::-1]
    tab = browse("/jobs/long")
    tab.wait_ready()

    assert leaderboard(tab) == best_first[:100]
    note = tab.page.inner_text("[data-testid='leaderboard-note']")
    assert note.startswith("Showing the first 100 of 104 runs in ranking order")
    # The charts draw every run all the same.
    assert tab.page.get_attribute("#series-chart", "data-series") == "104"
    show_all = tab.page.locator("#show-all-runs")
    assert show_all.inner_text() == "Show all 104 runs"

    show_all.click()
    tab.page.wait_for_url("**/jobs/long?runs=all#leaderboard-card")
    tab.wait_ready()
    assert leaderboard(tab) == [*best_first, names[103]]
    assert tab.page.locator("[data-testid='leaderboard-note']").count() == 0
    assert tab.page.inner_text("#show-first-runs") == "Show the first 100 runs only"
    # Sorting reads the lr cells' text (they carry no data-value): lowest first after two
    # clicks, the oldest run first and the failed run (lr 0.0104) last.
    lr = tab.page.locator("#leaderboard th[data-column='hyperparameter:lr']")
    lr.click()
    lr.click()
    column = lr.evaluate("th => th.cellIndex")
    lrs = tab.page.eval_on_selector_all(
        "#leaderboard tbody tr",
        "(rows, i) => rows.map(r => Number(r.cells[i].textContent))",
        column,
    )
    assert len(lrs) == 104 and lrs == sorted(lrs)
    assert leaderboard(tab)[0] == names[0] and leaderboard(tab)[-1] == names[103]
    # Ticking runs to compare works on every row shown.
    for name in (names[0], names[103]):
        tab.page.check(f"#leaderboard tr[data-run='{name}'] .pick")
    assert tab.page.is_enabled("#compare-button")
    assert tab.errors == []
