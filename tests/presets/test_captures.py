"""Each preset against real output of the library it is for (tests/data/captures)."""

import json
from pathlib import Path

import pytest

from app.parsing import LogFormat, MetricDefinition, parse_log
from app.presets import DEFAULT_PRESETS_DIR, load_presets

CAPTURES = Path(__file__).resolve().parent.parent / "data" / "captures"
EXPECTED = json.loads((CAPTURES / "expected.json").read_text())
PRESETS = load_presets(DEFAULT_PRESETS_DIR)


def definitions(preset: str) -> list[MetricDefinition]:
    return list(PRESETS.get(preset).definitions)


@pytest.mark.parametrize("capture", sorted(EXPECTED))
def test_a_preset_extracts_what_the_capture_shows(capture):
    case = EXPECTED[capture]
    log = (CAPTURES / capture).read_bytes()
    parsed = parse_log(definitions(case["preset"]), log, LogFormat(case["log_format"]))
    values = {name: [p.value for p in parsed.points if p.metric == name] for name in case["expect"]}
    assert values == case["expect"]
    for name, steps in case.get("expect_steps", {}).items():
        assert [p.step for p in parsed.points if p.metric == name] == steps, name


def test_every_capture_is_checked_and_every_library_preset_has_a_capture():
    assert sorted(path.name for path in CAPTURES.glob("*.log")) == sorted(EXPECTED)
    library_presets = {p.name for p in PRESETS.all()} - {"reference-trainer"}
    assert library_presets == {case["preset"] for case in EXPECTED.values()}


def test_the_xgboost_preset_reads_raw_tabs_and_cloudwatch_alike():
    raw = parse_log(definitions("xgboost"), (CAPTURES / "xgboost-pipe.log").read_bytes())
    rendered = parse_log(
        definitions("xgboost"),
        (CAPTURES / "xgboost-cloudwatch.log").read_bytes(),
        LogFormat.CLOUDWATCH,
    )
    assert [(p.metric, p.value, p.step) for p in raw.points] == [
        (p.metric, p.value, p.step) for p in rendered.points
    ]
    assert len(raw.points) > 0


# SageMaker's documented regex for each of its built-in XGBoost's metrics
# (docs.aws.amazon.com/sagemaker/latest/dg/xgboost-tuning.html), written against
# CloudWatch, where XGBoost's tabs show as `#011`.
SAGEMAKER_XGBOOST = [
    MetricDefinition(
        metric.replace("-", ":", 1),
        rf".*\[[0-9]+\].*#011{metric}:([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?).*",
    )
    for metric in EXPECTED["xgboost-pipe.log"]["expect"]
]


@pytest.mark.parametrize("capture", ["xgboost-pipe.log", "xgboost-tty.log"])
def test_sagemakers_xgboost_regexes_pasted_verbatim_read_real_xgboost_output(capture):
    # The job's default log format is `text`: the regexes say `#011`, so each is matched
    # against CloudWatch's rendering of the lines without being asked.
    parsed = parse_log(SAGEMAKER_XGBOOST, (CAPTURES / capture).read_bytes())
    expected = EXPECTED[capture]["expect"]
    values = {
        name: [p.value for p in parsed.points if p.metric == name.replace("-", ":", 1)]
        for name in expected
    }
    assert values == expected
    assert values["validation-auc"][:2] == [0.83409, 0.84226]
    assert {report.rendering for report in parsed.definitions.values()} == {LogFormat.CLOUDWATCH}
    assert parsed.definitions["validation:auc"].rendering_reason == (
        "its regex refers to CloudWatch's escape '#011'"
    )
