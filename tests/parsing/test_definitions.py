"""Contract point 1: metric definitions, and every way one is refused."""

import pytest

from app.errors import InvalidMetricDefinition
from app.parsing import MetricDefinition, compile_definitions


def test_first_group_is_the_value_unless_a_group_is_named_value():
    plain, named = compile_definitions(
        [
            MetricDefinition("loss", "Loss = (.*?);"),
            MetricDefinition("acc", r"(epoch) (?P<step>\d+) acc=(?P<value>\S+)"),
        ]
    )
    assert (plain.value_group, plain.has_step) == (1, False)
    assert (named.value_group, named.has_step) == ("value", True)


def test_the_value_is_the_first_group_that_is_not_the_step():
    (definition,) = compile_definitions([MetricDefinition("acc", r"it=(?P<step>\d+) acc=(\S+)")])
    assert (definition.value_group, definition.has_step) == (2, True)
    with pytest.raises(InvalidMetricDefinition, match="the regex's only group is `step`"):
        compile_definitions([MetricDefinition("acc", r"it=(?P<step>\d+)")])


def test_forty_definitions_are_allowed_and_41_are_not():
    forty = [MetricDefinition(f"m{i}", f"m{i}=(.*)") for i in range(40)]
    assert len(compile_definitions(forty)) == 40
    with pytest.raises(InvalidMetricDefinition, match="at most 40 metric definitions, got 41"):
        compile_definitions([*forty, MetricDefinition("m40", "m40=(.*)")])


@pytest.mark.parametrize(
    ("definitions", "message"),
    [
        (
            [MetricDefinition("", "x(.)")],
            r"metric definition 0 \(''\): the name must be 1 to 255 characters, got 0",
        ),
        (
            [MetricDefinition("n" * 256, "x(.)")],
            r"metric definition 0 \('n{57}\.\.\.'\): the name must be 1 to 255 characters, got 256",
        ),
        (
            [MetricDefinition("loss", "")],
            r"metric definition 0 \('loss'\): the regex must be 1 to 500 characters, got 0",
        ),
        (
            [MetricDefinition("loss", "(" + "a" * 499 + ")")],
            r"metric definition 0 \('loss'\): the regex must be 1 to 500 characters, got 501",
        ),
        (
            [MetricDefinition("loss", "a(.)"), MetricDefinition("loss", "b(.)")],
            r"metric definition 1 \('loss'\): the name is already used by an earlier definition",
        ),
        (
            [MetricDefinition("ok", "a(.)"), MetricDefinition("loss", "Loss = (.*?;")],
            r"metric definition 1 \('loss'\): the regex does not compile: "
            r"missing \) at position 12",
        ),
        (
            [MetricDefinition("loss", "Loss = [0-9")],
            r"metric definition 0 \('loss'\): the regex does not compile: "
            r"unterminated character set at position 11",
        ),
        (
            [MetricDefinition("loss", r"Loss = \d+;")],
            r"metric definition 0 \('loss'\): the regex has no capturing group",
        ),
        (
            [MetricDefinition("loss", r"Loss = (?:\d+);")],
            r"metric definition 0 \('loss'\): the regex has no capturing group",
        ),
    ],
)
def test_invalid_definitions_are_named_with_the_reason(definitions, message):
    with pytest.raises(InvalidMetricDefinition, match=message) as caught:
        compile_definitions(definitions)
    assert caught.value.extra["index"] == len(definitions) - 1


def test_exactly_255_characters_and_500_character_regexes_are_fine():
    (definition,) = compile_definitions([MetricDefinition("n" * 255, "(" + "a" * 498 + ")")])
    assert len(definition.name) == 255


@pytest.mark.parametrize("name", [".", "..", "..."])
def test_a_name_made_only_of_dots_is_refused(name):
    with pytest.raises(InvalidMetricDefinition) as refused:
        compile_definitions([MetricDefinition(name, "(x)")])

    assert refused.value.message == (
        f"metric definition 0 ({name!r}): a name made only of dots cannot be a path "
        "segment; add a letter"
    )


def test_a_name_with_dots_and_more_is_taken():
    assert compile_definitions([MetricDefinition("..a", "(x)")])[0].name == "..a"
