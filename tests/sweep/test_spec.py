"""Sweep specs: SageMaker's ParameterRanges vocabulary, and clear errors."""

import pytest

from app.sweep import SweepSpecError, load_spec

BASE = """
job:
  name: toy
  objective: {MetricName: loss, Type: Minimize}
  metric_definitions: reference-trainer
command: [python, -m, trainer]
"""


def spec_file(tmp_path, text, name="sweep.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_yaml_spec_reads_sagemaker_ranges(tmp_path):
    spec = load_spec(
        spec_file(
            tmp_path,
            BASE
            + """
strategy: random
max_runs: 3
parameter_ranges:
  CategoricalParameterRanges: [{Name: optimizer, Values: [adam, sgd]}]
  IntegerParameterRanges: [{Name: epochs, MinValue: 2, MaxValue: 4}]
  ContinuousParameterRanges:
    - {Name: lr, MinValue: 0.001, MaxValue: 0.1, ScalingType: Logarithmic}
""",
        )
    )
    assert spec.parameter_ranges.names() == ["optimizer", "epochs", "lr"]
    assert spec.parameter_ranges.continuous[0].scaling_type == "Logarithmic"
    assert spec.job.metric_definitions == "reference-trainer"


def test_a_json_spec_reads_the_same(tmp_path):
    text = (
        '{"job": {"name": "toy", "objective": {"MetricName": "loss", "Type": "Minimize"},'
        ' "metric_definitions": [{"Name": "loss", "Regex": "loss=(.*?);"}]},'
        ' "command": ["true"], "strategy": "grid",'
        ' "parameter_ranges": {"CategoricalParameterRanges": [{"Name": "a", "Values": ["1"]}]}}'
    )
    spec = load_spec(spec_file(tmp_path, text, "sweep.json"))
    assert spec.strategy == "grid"
    assert spec.parameter_ranges.categorical[0].values == ["1"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "strategy: grid\nparameter_ranges: {ContinuousParameterRanges: "
            "[{Name: lr, MinValue: 0.1, MaxValue: 1}]}",
            "grid search takes categorical and integer ranges only",
        ),
        ("strategy: random", "random search needs max_runs"),
        (
            "max_runs: 1\nparameter_ranges: {CategoricalParameterRanges: "
            "[{Name: a, Values: [x]}, {Name: a, Values: [y]}]}",
            "parameter ranges name a more than once",
        ),
        (
            "max_runs: 1\nstatic_hyperparameters: {a: 1}\nparameter_ranges: "
            "{CategoricalParameterRanges: [{Name: a, Values: [x]}]}",
            "a is both static and tuned",
        ),
        (
            "max_runs: 1\nparameter_ranges: {ContinuousParameterRanges: "
            "[{Name: lr, MinValue: 0, MaxValue: 1, ScalingType: Logarithmic}]}",
            "lr: a Logarithmic range needs MinValue > 0",
        ),
        (
            "max_runs: 1\nparameter_ranges: {IntegerParameterRanges: "
            "[{Name: n, MinValue: 5, MaxValue: 1}]}",
            "n: MinValue 5 is above MaxValue 1",
        ),
        ("max_runs: 1\nmax_paralel: 2", "max_paralel: Extra inputs are not permitted"),
    ],
)
def test_broken_specs_say_what_is_wrong(tmp_path, extra, message):
    with pytest.raises(SweepSpecError, match=message):
        load_spec(spec_file(tmp_path, BASE + extra))


def test_unreadable_files_say_so(tmp_path):
    with pytest.raises(SweepSpecError, match="cannot read"):
        load_spec(tmp_path / "missing.yaml")
    with pytest.raises(SweepSpecError, match="is not valid YAML"):
        load_spec(spec_file(tmp_path, "job: [unclosed"))
