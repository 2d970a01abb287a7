"""Each vendored model (SageMaker's, CloudWatch Logs', CloudWatch's) is botocore's, and
every constraint of every input shape holds."""

from __future__ import annotations

import re

import pytest

from app.cloudwatch import model as cloudwatch_model
from app.cloudwatch_logs import model as logs_model
from app.sagemaker.model import MODEL_PATH, OPERATIONS, load_model, message
from tests.sagemaker.make_model import render

MODEL = load_model()
LOGS_MODEL = logs_model.load_model()
CLOUDWATCH_MODEL = cloudwatch_model.load_model()


def test_the_vendored_model_is_what_the_installed_botocore_has():
    assert MODEL_PATH.read_text() == render(), "run: .venv/bin/python -m tests.sagemaker.make_model"


def test_the_vendored_logs_model_is_what_the_installed_botocore_has():
    assert logs_model.MODEL_PATH.read_text() == render("logs"), (
        "run: .venv/bin/python -m tests.sagemaker.make_model"
    )
    assert sorted(LOGS_MODEL.operations) == sorted(logs_model.OPERATIONS)


def test_the_vendored_cloudwatch_model_is_what_the_installed_botocore_has():
    assert cloudwatch_model.MODEL_PATH.read_text() == render("cloudwatch"), (
        "run: .venv/bin/python -m tests.sagemaker.make_model"
    )
    assert sorted(CLOUDWATCH_MODEL.operations) == [
        "GetMetricData",
        "GetMetricStatistics",
        "ListMetrics",
    ]
    # The query protocol's answer wraps the output in the operation's result element.
    assert CLOUDWATCH_MODEL.operations["GetMetricStatistics"]["resultWrapper"] == (
        "GetMetricStatisticsResult"
    )


def _input_shapes(model=MODEL, operations=OPERATIONS):
    """Every shape reachable from the served operations' inputs."""
    seen: dict[str, None] = {}

    def reach(name):
        if name in seen:
            return
        seen[name] = None
        shape = model.shapes[name]
        for spec in shape.get("members", {}).values():
            reach(spec["shape"])
        for key in ("member", "key", "value"):
            if key in shape:
                reach(shape[key]["shape"])

    for operation in operations:
        if model.input_shape(operation):
            reach(model.input_shape(operation))
    return list(seen)


def _refuses(pattern, text):
    try:
        return re.fullmatch(pattern, text) is None
    except re.error:  # \p{...}, which `re` lacks: no independent check, so not used
        return False


def _violations(shape):
    """(value, what the message must say) for each constraint of a shape."""
    kind = shape["type"]
    found = []
    if kind == "string":
        if shape.get("min", 0) > 0:
            found.append(("", f"length greater than or equal to {shape['min']}"))
        if "max" in shape:
            found.append(("a" * (shape["max"] + 1), f"length less than or equal to {shape['max']}"))
        if "enum" in shape:
            found.append(("NotAnEnumValue!", "enum value set"))
        if "pattern" in shape:
            # The first of these the pattern refuses (Python's `re` decides, not the code
            # under test); a pattern that takes them all constrains nothing else here.
            refused = [
                text
                for text in ("\n", "\x01", " ", "a b", "-", "_" * 3, "é")
                if _refuses(shape["pattern"], text)
                and shape.get("min", 0) <= len(text) <= shape.get("max", 10**9)
            ]
            if refused:
                found.append((refused[0], "regular expression pattern"))
    elif kind in ("integer", "long", "float", "double"):
        if "min" in shape:
            found.append((shape["min"] - 1, f"value greater than or equal to {shape['min']}"))
        if "max" in shape:
            found.append((shape["max"] + 1, f"value less than or equal to {shape['max']}"))
        found.append(("7", f"of type {kind}"))
    elif kind == "list":
        if shape.get("min", 0) > 0:
            found.append(([], f"length greater than or equal to {shape['min']}"))
        found.append(({}, "of type list"))
    elif kind == "structure":
        if shape.get("required"):
            found.append(({}, "Member must not be null"))
        found.append(([], "of type structure"))
    elif kind == "boolean":
        found.append(("true", "of type boolean"))
    return found


CASES = [
    pytest.param(name, value, expected, id=f"{name}-{i}")
    for name in _input_shapes()
    for i, (value, expected) in enumerate(_violations(MODEL.shapes[name]))
]


LOGS_CASES = [
    pytest.param(name, value, expected, id=f"logs-{name}-{i}")
    for name in _input_shapes(LOGS_MODEL, logs_model.OPERATIONS)
    for i, (value, expected) in enumerate(_violations(LOGS_MODEL.shapes[name]))
]


CLOUDWATCH_CASES = [
    pytest.param(name, value, expected, id=f"cloudwatch-{name}-{i}")
    for name in _input_shapes(CLOUDWATCH_MODEL, cloudwatch_model.OPERATIONS)
    for i, (value, expected) in enumerate(_violations(CLOUDWATCH_MODEL.shapes[name]))
]


def test_there_are_constraints_to_check():
    assert len(CASES) > 150
    assert len(LOGS_CASES) > 30
    assert len(CLOUDWATCH_CASES) > 30


@pytest.mark.parametrize(("shape", "value", "expected"), CLOUDWATCH_CASES)
def test_every_cloudwatch_input_constraint_is_enforced(shape, value, expected):
    problems = CLOUDWATCH_MODEL.problems(shape, value)
    assert problems, f"{shape} took {value!r}"
    assert expected in message(problems)


@pytest.mark.parametrize(("shape", "value", "expected"), LOGS_CASES)
def test_every_logs_input_constraint_is_enforced(shape, value, expected):
    problems = LOGS_MODEL.problems(shape, value)
    assert problems, f"{shape} took {value!r}"
    assert expected in message(problems)


@pytest.mark.parametrize(("shape", "value", "expected"), CASES)
def test_every_input_constraint_is_enforced(shape, value, expected):
    problems = MODEL.problems(shape, value)
    assert problems, f"{shape} took {value!r}"
    assert expected in message(problems)


def test_messages_read_as_sagemakers():
    problems = MODEL.problems(
        "CreateHyperParameterTuningJobRequest",
        {
            "HyperParameterTuningJobName": "bad_name",
            "HyperParameterTuningJobConfig": {
                "Strategy": "Genetic",
                "ResourceLimits": {"MaxParallelTrainingJobs": 0},
            },
        },
    )
    # Members in the model's order, as the model lists them.
    assert message(problems) == (
        "3 validation errors detected: Value '0' at "
        "'hyperParameterTuningJobConfig.resourceLimits.maxParallelTrainingJobs' failed to "
        "satisfy constraint: Member must have value greater than or equal to 1; Value "
        "'Genetic' at 'hyperParameterTuningJobConfig.strategy' failed to satisfy constraint: "
        "Member must satisfy enum value set: [Bayesian, Random, Hyperband, Grid]; Value "
        "'bad_name' at 'hyperParameterTuningJobName' failed to satisfy constraint: Member "
        "must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}"
    )
