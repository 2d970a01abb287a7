"""The regex tester in a browser: highlighted captures, tables, errors."""

from __future__ import annotations

import json
import re

import pytest

from app.web.templating import STATIC_DIR

pytestmark = pytest.mark.browser

LOG = (
    "epoch=1 loss=0.52; val_loss=0.61; acc=93.1%; \U0001f680 lr=0.001;\r\n"
    "epoch=2 loss=0.41; val_loss=0.55; acc=0.95; lr=5e-4;\r"
    "progress 50%\n"
    "no metrics here\n"
)
DEFINITIONS = [
    {"Name": "loss", "Regex": r"\bloss=([^;]+);"},
    {"Name": "val_loss", "Regex": r"val_loss=([^;]+);"},
    {"Name": "first_digit", "Regex": r"val_loss=0\.(\d)"},  # inside val_loss's capture
    {"Name": "acc", "Regex": r"acc=([^;]+);"},  # 93.1% is rejected
    {"Name": "lr", "Regex": r"lr=([^;]+);"},  # after a character outside the BMP
    {"Name": "never", "Regex": r"top5=(\S+)"},
]


def parse_in_page(tab, log, definitions, log_format="text"):
    tab.page.fill("#log-input", log)
    tab.page.fill("#definitions-input", json.dumps(definitions))
    tab.page.select_option("#log-format", log_format)
    tab.page.click("#parse-button")


def marked_text(tab, attribute, index):
    return tab.page.eval_on_selector_all(
        f"#highlighted-log mark[{attribute}~='{index}']",
        "ms => ms.map(m => m.textContent).join('')",
    )


def test_every_capture_is_highlighted_where_it_was_found(api, browse):
    expected = api.post("/v1/parse", json={"metric_definitions": DEFINITIONS, "log": LOG}).json()
    assert expected["points"] and expected["rejections"]

    tab = browse("/tester")
    tab.wait_ready()
    parse_in_page(tab, LOG, DEFINITIONS)
    tab.page.wait_for_function(
        "n => document.querySelectorAll('#points-table tbody tr').length === n",
        arg=len(expected["points"]),
    )

    for index, point in enumerate(expected["points"]):
        start, end = point["span"]
        captured = expected["texts"][point["line"] - 1][start:end]
        assert marked_text(tab, "data-points", index) == captured
        assert float(captured) == point["value"]
    for index, rejection in enumerate(expected["rejections"]):
        assert marked_text(tab, "data-rejections", index) == rejection["capture"]
    chips = " ".join(tab.page.text_content("#metric-chips").split())
    assert "never 0 · no match" in chips
    assert "1 rejected" in chips
    assert tab.errors == []
    tab.shoot("tester")


def test_an_invalid_definition_is_named_in_the_error(browse):
    tab = browse("/tester")
    tab.wait_ready()

    parse_in_page(tab, LOG, [{"Name": "loss", "Regex": "loss=(\\d+"}])

    error = tab.page.locator("#parse-error")
    error.wait_for(state="visible")
    assert "refused" in error.inner_text() and "'loss'" in error.inner_text()
    # The service answered 422; the page shows it instead of logging an uncaught error.
    assert [e for e in tab.errors if "422" not in e] == []
    tab.shoot("tester-error")


def test_text_that_is_not_json_is_reported_before_asking_the_service(browse):
    tab = browse("/tester")
    tab.wait_ready()

    tab.page.fill("#definitions-input", '[{"Name": "loss", "Regex": }]')
    tab.page.click("#parse-button")

    tab.page.locator("#parse-error").wait_for(state="visible")
    assert "not valid JSON" in tab.page.inner_text("#parse-error")
    assert tab.errors == []


def test_a_preset_fills_in_its_definitions(api, browse):
    tab = browse("/tester")
    tab.wait_ready()

    tab.page.select_option("#preset", "xgboost")
    tab.page.wait_for_function(
        "document.querySelector('#definitions-input').value.includes('validation')"
    )

    shown = json.loads(tab.page.input_value("#definitions-input"))
    preset = api.get("/v1/presets/xgboost").json()["metric_definitions"]
    assert shown == [{"Name": d["name"], "Regex": d["regex"]} for d in preset]
    assert tab.errors == []


def test_a_jobs_definitions_open_in_the_tester(api, browse, make_job):
    make_job(name="gan")
    tab = browse("/tester?job=gan")
    tab.wait_ready()

    shown = json.loads(tab.page.input_value("#definitions-input"))
    assert [d["Name"] for d in shown] == [
        d["metric_name"] if "metric_name" in d else d["name"]
        for d in api.get("/v1/jobs/gan").json()["metric_definitions"]
    ]
    assert tab.errors == []


def stylesheet_colour(name):
    """A colour custom property of app.css, as the browser computes it: rgb(r, g, b)."""
    css = (STATIC_DIR / "css" / "app.css").read_text()
    found = re.search(rf"^\s*{re.escape(name)}:\s*#([0-9a-f]{{6}});", css, re.MULTILINE)
    assert found, name
    red, green, blue = bytes.fromhex(found[1])
    return f"rgb({red}, {green}, {blue})"


def test_markup_in_names_captures_and_logs_is_shown_as_text(api, browse):
    markup = "<img src=x onerror=window.pwned=1>"
    definitions = [{"Name": f"loss{markup}", "Regex": r"loss=(.+?);"}]
    log = f"loss=0.5; {markup}\nloss={markup};\n"
    expected = api.post("/v1/parse", json={"metric_definitions": definitions, "log": log}).json()
    [reason] = [r["reason"] for r in expected["rejections"]]

    tab = browse("/tester")
    tab.wait_ready()
    parse_in_page(tab, log, definitions)
    tab.page.wait_for_function(
        "document.querySelectorAll('#rejections-table tbody tr[data-line]').length === 1"
    )

    assert tab.page.evaluate("window.pwned") is None
    assert tab.page.locator("main img").count() == 0
    assert markup in tab.page.inner_text("#highlighted-log")
    assert marked_text(tab, "data-rejections", 0) == markup
    chip = tab.page.locator("#metric-chips .metric-chip")
    assert " ".join(chip.inner_text().split()) == f"loss{markup} 1 1 rejected"
    points = tab.page.eval_on_selector_all(
        "#points-table tbody tr",
        "rows => rows.map(r => [...r.cells].map(c => c.textContent))",
    )
    assert points == [[f"loss{markup}", "1", "0.5", "1"]]
    rejections = tab.page.eval_on_selector_all(
        "#rejections-table tbody tr",
        "rows => rows.map(r => [...r.cells].map(c => c.textContent))",
    )
    assert rejections == [[f"loss{markup}", "2", json.dumps(markup), reason]]
    # The reason is read as text in its cell (not drawn as the run page's reason badge).
    assert tab.page.eval_on_selector(
        "#rejections-table tbody td:last-child", "c => c.scrollWidth <= c.clientWidth"
    )
    # Each metric in its colour of the stylesheet's palette (--metric-1, ...).
    colour = stylesheet_colour("--metric-1")
    swatches = tab.page.eval_on_selector_all(
        "#metric-chips .swatch, #points-table .swatch",
        "els => els.map(e => getComputedStyle(e).backgroundColor)",
    )
    assert swatches == [colour, colour]
    underline = tab.page.eval_on_selector(
        "#highlighted-log mark.hit", "e => getComputedStyle(e).boxShadow"
    )
    assert underline.startswith(colour)
    assert tab.errors == []


def test_a_log_without_points_says_so_in_the_tables(browse):
    tab = browse("/tester")
    tab.wait_ready()
    parse_in_page(tab, "nothing to see\n", [{"Name": "loss", "Regex": r"loss=(\S+)"}])
    tab.page.wait_for_function("document.querySelector('#points-count').textContent === '0'")

    assert tab.page.inner_text("#points-table tbody") == "no points: no regex matched a number"
    assert tab.page.inner_text("#rejections-table tbody") == "none"
    chips = " ".join(tab.page.text_content("#metric-chips").split())
    assert chips == "loss 0 · no match"
    assert tab.errors == []
