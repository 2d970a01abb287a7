"""POST /v1/parse: definitions tried on a sample log, nothing stored."""

from __future__ import annotations

import pytest

from app.parsing import core_status
from tests.samples import GAN_DEFINITIONS, GAN_LINE

# The service runs with this process's build and environment: the compiled core where it
# was built (and not turned off), else the regex module, saying why.
BUILT = not core_status().startswith("pure Python")
WITHOUT_CORE = f"regex module: {core_status().removeprefix('pure Python: ')}"
MATCHED_BY = "compiled core" if BUILT else WITHOUT_CORE

XGB_AUC = {
    "Name": "validation:auc",
    "Regex": r".*\[[0-9]+\].*#011validation-auc:([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?).*",
}
XGB_LOG = (
    "[0]\ttrain-auc:0.81234\tvalidation-auc:0.79012\n"
    "[1]\ttrain-auc:0.8345\tvalidation-auc:0.80111\n"
)


POINT_FIELDS = ("metric_name", "value", "step", "line")
REJECTION_FIELDS = ("metric_name", "line", "capture", "reason")


def parse(api, **body):
    """The answer's fields the parse contract names (`texts` and `span`s left aside)."""
    response = api.post("/v1/parse", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    return {
        "lines": result["lines"],
        "points": [{key: p[key] for key in POINT_FIELDS} for p in result["points"]],
        "rejections": [{key: r[key] for key in REJECTION_FIELDS} for r in result["rejections"]],
    }


def test_the_readme_sample(api):
    assert parse(
        api,
        metric_definitions=[
            {"Name": "real", "Regex": r"real (\S+)"},
            {"Name": "loss", "Regex": "Loss = (.*?);"},
        ],
        log="real 93.3% gen 0.0% Loss = 16.020744;\nreal 0.5\n",
    ) == {
        "lines": 2,
        "points": [
            {"metric_name": "loss", "value": 16.020744, "step": 1, "line": 1},
            {"metric_name": "real", "value": 0.5, "step": 1, "line": 2},
        ],
        "rejections": [
            {"metric_name": "real", "line": 1, "capture": "93.3%", "reason": "not a finite number"}
        ],
    }


def test_the_gan_line(api):
    assert parse(api, metric_definitions=GAN_DEFINITIONS, log=GAN_LINE) == {
        "lines": 1,
        "points": [
            {"metric_name": "GAN_loss", "value": 0.138318, "step": 1, "line": 1},
            {"metric_name": "disc_train_loss", "value": 1.374587, "step": 1, "line": 1},
            {"metric_name": "disc-combined", "value": 0.0, "step": 1, "line": 1},
            {"metric_name": "loss", "value": 16.020744, "step": 1, "line": 1},
        ],
        "rejections": [],
    }


def test_points_are_numbered_per_metric_unless_the_regex_has_a_step(api):
    result = parse(
        api,
        MetricDefinitions=[
            {"name": "loss", "regex": r"step (?P<step>\d+) loss=(\S+)"},
            {"name": "lr", "regex": r"lr=(\S+)"},
        ],
        log="step 100 loss=2.5 lr=0.1\nstep 200 loss=1.5 lr=0.05\nlr=0.01\n",
    )

    assert result["points"] == [
        {"metric_name": "loss", "value": 2.5, "step": 100, "line": 1},
        {"metric_name": "lr", "value": 0.1, "step": 1, "line": 1},
        {"metric_name": "loss", "value": 1.5, "step": 200, "line": 2},
        {"metric_name": "lr", "value": 0.05, "step": 2, "line": 2},
        {"metric_name": "lr", "value": 0.01, "step": 3, "line": 3},
    ]


def test_cloudwatch_logs_show_tabs_as_sagemaker_regexes_expect(api):
    result = parse(api, metric_definitions=[XGB_AUC], log=XGB_LOG, log_format="cloudwatch")

    assert result == {
        "lines": 2,
        "points": [
            {"metric_name": "validation:auc", "value": 0.79012, "step": 1, "line": 1},
            {"metric_name": "validation:auc", "value": 0.80111, "step": 2, "line": 2},
        ],
        "rejections": [],
    }


def test_a_regex_naming_cloudwatchs_tab_works_as_pasted_in_a_text_log(api):
    result = parse(api, metric_definitions=[XGB_AUC], log=XGB_LOG)

    assert (result["lines"], [p["value"] for p in result["points"]]) == (2, [0.79012, 0.80111])


def test_text_logs_keep_tabs_as_tabs(api):
    as_text = {**XGB_AUC, "LogFormat": "text"}
    result = parse(api, metric_definitions=[as_text], log=XGB_LOG)

    assert (result["lines"], result["points"]) == (2, [])


def test_text_logs_end_lines_at_carriage_returns(api):
    result = parse(
        api,
        metric_definitions=[{"Name": "loss", "Regex": r"loss=(\d+\.\d+)"}],
        log="10/100 loss=0.9\r20/100 loss=0.8\r\n30/100 loss=0.7",
    )

    assert result["lines"] == 3
    assert [(p["value"], p["line"]) for p in result["points"]] == [(0.9, 1), (0.8, 2), (0.7, 3)]


def test_an_empty_log_has_no_lines(api):
    assert parse(api, metric_definitions=GAN_DEFINITIONS, log="") == {
        "lines": 0,
        "points": [],
        "rejections": [],
    }


@pytest.mark.parametrize(
    ("definitions", "message", "where"),
    [
        (
            [{"Name": f"m{i}", "Regex": f"m{i}=(\\S+)"} for i in range(41)],
            "a job may have at most 40 metric definitions, got 41",
            {},
        ),
        (
            [{"Name": "loss", "Regex": "Loss = (.*?;"}],
            "metric definition 0 ('loss'): the regex does not compile: missing ) at position 12",
            {"index": 0, "name": "loss"},
        ),
        (
            [{"Name": "loss", "Regex": "Loss = (.*?);"}, {"Name": "loss", "Regex": "loss=(\\S+)"}],
            "metric definition 1 ('loss'): the name is already used by an earlier definition; "
            "names must be unique",
            {"index": 1, "name": "loss"},
        ),
        (
            [{"Name": "loss", "Regex": "Loss = [0-9.]+;"}],
            "metric definition 0 ('loss'): the regex has no capturing group; the first group's "
            "capture is the value",
            {"index": 0, "name": "loss"},
        ),
        (
            [{"Name": "", "Regex": "Loss = (.*?);"}],
            "metric definition 0 (''): the name must be 1 to 255 characters, got 0",
            {"index": 0, "name": ""},
        ),
        (
            [{"Name": "loss", "Regex": ""}],
            "metric definition 0 ('loss'): the regex must be 1 to 500 characters, got 0",
            {"index": 0, "name": "loss"},
        ),
    ],
    ids=[
        "41-definitions",
        "does-not-compile",
        "duplicate-name",
        "no-group",
        "empty-name",
        "empty-regex",
    ],
)
def test_bad_definitions_are_refused_as_for_a_job(api, definitions, message, where):
    response = api.post("/v1/parse", json={"metric_definitions": definitions, "log": GAN_LINE})

    assert (response.status_code, response.json()) == (
        422,
        {"error": "invalid_metric_definition", "message": message, **where},
    )


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"metric_definitions": GAN_DEFINITIONS}, "body.log"),
        (
            {"metric_definitions": GAN_DEFINITIONS, "log": GAN_LINE, "objective": "loss"},
            "body.objective",
        ),
        (
            {"metric_definitions": GAN_DEFINITIONS, "log": GAN_LINE, "log_format": "json"},
            "body.log_format",
        ),
        ({"metric_definitions": GAN_DEFINITIONS, "log": ["line 1", "line 2"]}, "body.log"),
    ],
    ids=["no-log", "unknown-key", "bad-format", "log-as-list"],
)
def test_a_bad_parse_request_is_refused(api, body, location):
    response = api.post("/v1/parse", json=body)

    assert response.status_code == 422
    assert [d["location"] for d in response.json()["details"]] == [location]


def test_parsing_stores_nothing(api):
    parse(api, metric_definitions=GAN_DEFINITIONS, log=GAN_LINE)

    assert api.get("/v1/jobs").json() == {"jobs": []}


def test_a_log_above_the_maximum_is_too_large(start_service):
    api = start_service(max_parse_bytes=100).client
    log = "[epoch 1] Loss = 0.75;\n" * 4 + "123456789"  # 101 bytes

    response = api.post(
        "/v1/parse",
        json={"metric_definitions": [{"Name": "loss", "Regex": "Loss = (.*?);"}], "log": log},
    )

    assert (response.status_code, response.json()) == (
        413,
        {
            "error": "chunk_too_large",
            "message": "a log chunk may hold at most 100 bytes; send the log in smaller chunks",
            "limit": 100,
        },
    )


def test_the_dry_run_says_which_rendering_each_definition_used_and_why_none_matched(api):
    response = api.post(
        "/v1/parse",
        json={
            "metric_definitions": [
                XGB_AUC,
                {"Name": "train:auc", "Regex": r"train-auc:([a-z]+)"},
                {"Name": "as_text", "Regex": r"#011validation-auc:(\S+)", "LogFormat": "text"},
            ],
            "log": XGB_LOG,
        },
    )

    assert response.status_code == 200, response.text
    assert response.json()["definitions"] == [
        {
            "metric_name": "validation:auc",
            "log_format": "cloudwatch",
            "log_format_reason": "its regex refers to CloudWatch's escape '#011'",
            "hint": None,
            "matched_by": MATCHED_BY,
        },
        {
            "metric_name": "train:auc",
            "log_format": "text",
            "log_format_reason": "the job's log format",
            "hint": "`train-auc:` occurs in 2 lines, but the regex matched none",
            "matched_by": MATCHED_BY,
        },
        {
            "metric_name": "as_text",
            "log_format": "text",
            "log_format_reason": "set by the definition",
            "hint": "`validation-auc:` occurs in 2 lines, but the regex matched none",
            "matched_by": MATCHED_BY,
        },
    ]


def test_the_dry_run_says_which_definitions_the_compiled_core_matches(api):
    response = api.post(
        "/v1/parse",
        json={
            "metric_definitions": [
                {"Name": "loss", "Regex": r"loss=(\S+);"},
                {"Name": "twice", "Regex": r"(\w)\1=(\d+)"},
                {"Name": "edge", "Regex": r"\Bacc=(\d+)"},
            ],
            "log": "loss=0.5;\n",
        },
    )

    assert response.status_code == 200, response.text
    assert [(d["metric_name"], d["matched_by"]) for d in response.json()["definitions"]] == [
        ("loss", MATCHED_BY),
        ("twice", "regex module: a back-reference" if BUILT else WITHOUT_CORE),
        ("edge", "regex module: \\B" if BUILT else WITHOUT_CORE),
    ]
