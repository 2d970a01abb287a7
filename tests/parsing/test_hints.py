"""A definition that matched no line says whether the text it looks for occurs at all."""

from app.parsing import LogFormat, MetricDefinition, parse_log

XGBOOST_LOG = (
    b"[0]\ttrain-auc:0.82791\tvalidation-auc:0.83409\n"
    b"[1]\ttrain-auc:0.85213\tvalidation-auc:0.84226\n"
    b"done\n"
)


def reports(definitions, log, log_format=LogFormat.TEXT):
    parsed = parse_log(definitions, log, log_format)
    return {name: (r.rendering.value, r.hint) for name, r in parsed.definitions.items()}


def test_a_regex_that_misses_text_the_log_holds_says_how_often_it_occurs():
    # A typo in the value's class: `validation-auc:` is there, the regex wants a letter.
    typo = MetricDefinition("auc", r"validation-auc:([a-z]+)")
    assert reports([typo], XGBOOST_LOG) == {
        "auc": ("text", "`validation-auc:` occurs in 2 lines, but the regex matched none")
    }


def test_a_regex_whose_text_is_absent_says_so():
    absent = MetricDefinition("auc", r"valid-auc:([0-9.]+)")
    assert reports([absent], XGBOOST_LOG) == {"auc": ("text", "`valid-auc:` occurs in no line")}


def test_sagemakers_regex_as_text_finds_its_text_but_not_its_tab():
    # Told to match tabs as tabs, SageMaker's `#011` regex finds nothing, and the hint
    # shows the text is there: the rendering is what is wrong.
    pasted = MetricDefinition(
        "validation:auc",
        r".*\[[0-9]+\].*#011validation-auc:([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?).*",
        LogFormat.TEXT,
    )
    assert reports([pasted], XGBOOST_LOG) == {
        "validation:auc": (
            "text",
            "`validation-auc:` occurs in 2 lines, but the regex matched none",
        )
    }
    pasted_as_is = MetricDefinition(pasted.name, pasted.regex)
    assert reports([pasted_as_is], XGBOOST_LOG) == {"validation:auc": ("cloudwatch", None)}


def test_a_definition_that_matched_has_no_hint_and_alternatives_are_all_named():
    loss = MetricDefinition("loss", r"(?:loss|cost)=([0-9.]+)")
    assert reports([loss], b"loss=1\n") == {"loss": ("text", None)}
    assert reports([loss], b"loss=x\ncost=y\nacc=1\n") == {
        "loss": ("text", "`cost` or `loss` occurs in 2 lines, but the regex matched none")
    }


def test_a_regex_without_usable_text_gets_no_hint():
    assert reports([MetricDefinition("n", r"^(\d+)$")], b"x\n") == {"n": ("text", None)}
