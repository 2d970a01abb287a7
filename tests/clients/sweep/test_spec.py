"""Sweep specs: a job with its search, in SageMaker's vocabulary, and clear errors."""

import pytest

from app.clients.sweep import SweepSpecError, load_spec

BASE = """
name: toy
objective: {MetricName: loss, Type: Minimize}
metric_definitions: reference-trainer
search:
  command: [python, -m, trainer]
"""


def indented(text):
    return "".join(f"  {line}\n" for line in text.splitlines())


def spec_file(tmp_path, text, name="sweep.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_yaml_spec_reads_sagemaker_ranges(tmp_path):
    spec = load_spec(
        spec_file(
            tmp_path,
            BASE
            + indented(
                """
strategy: random
resource_limits: {MaxNumberOfTrainingJobs: 3}
parameter_ranges:
  CategoricalParameterRanges: [{Name: optimizer, Values: [adam, sgd]}]
  IntegerParameterRanges: [{Name: epochs, MinValue: 2, MaxValue: 4}]
  ContinuousParameterRanges:
    - {Name: lr, MinValue: 0.001, MaxValue: 0.1, ScalingType: Logarithmic}
"""
            ),
        )
    )
    search = spec.search
    assert search.strategy == "Random"
    assert search.parameter_ranges.names() == ["optimizer", "epochs", "lr"]
    assert search.parameter_ranges.continuous[0].scaling_type == "Logarithmic"
    assert spec.metric_definitions == "reference-trainer"
    assert spec.job_body()["search"] == {
        "strategy": "Random",
        "command": ["python", "-m", "trainer"],
        "resource_limits": {"max_number_of_training_jobs": 3},
        "parameter_ranges": {
            "categorical": [{"name": "optimizer", "values": ["adam", "sgd"]}],
            "integer": [{"name": "epochs", "min_value": 2, "max_value": 4}],
            "continuous": [
                {"name": "lr", "min_value": 0.001, "max_value": 0.1, "scaling_type": "Logarithmic"}
            ],
        },
    }


def test_a_json_spec_reads_the_same(tmp_path):
    text = (
        '{"name": "toy", "objective": {"MetricName": "loss", "Type": "Minimize"},'
        ' "metric_definitions": [{"Name": "loss", "Regex": "loss=(.*?);"}],'
        ' "search": {"Command": ["true"], "Strategy": "Grid", "ParameterRanges":'
        ' {"CategoricalParameterRanges": [{"Name": "a", "Values": [1, 2]}]}}}'
    )
    spec = load_spec(spec_file(tmp_path, text, "sweep.json"))
    assert spec.search.strategy == "Grid"
    assert spec.search.parameter_ranges.categorical[0].values == ["1", "2"]
    assert spec.search.max_training_jobs() == 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "strategy: Grid\nparameter_ranges: {ContinuousParameterRanges: "
            "[{Name: lr, MinValue: 0.1, MaxValue: 1}]}",
            "Grid search takes categorical and integer ranges only",
        ),
        ("strategy: Random", "Random search needs resource_limits.max_number_of_training_jobs"),
        ("strategy: Bayesian", "Bayesian search needs resource_limits"),
        (
            "strategy: Hyperband\nresource_limits: {MaxNumberOfTrainingJobs: 9}",
            "Hyperband needs hyperband.max_resource, or a static hyperparameter",
        ),
        (
            "strategy: Hyperband\nearly_stopping: Auto\n"
            "resource_limits: {MaxNumberOfTrainingJobs: 9}\nhyperband: {MaxResource: 9}",
            "Hyperband stops runs early by itself: early_stopping must be Off",
        ),
        (
            "strategy: Random\nresource_limits: {MaxNumberOfTrainingJobs: 9}\n"
            "hyperband: {MaxResource: 9}",
            "hyperband settings apply to the Hyperband strategy only",
        ),
        (
            "strategy: Random\nresource_limits: {MaxNumberOfTrainingJobs: 1}\n"
            "parameter_ranges: {CategoricalParameterRanges: "
            "[{Name: a, Values: [x]}, {Name: a, Values: [y]}]}",
            "parameter ranges name a more than once",
        ),
        (
            "strategy: Random\nresource_limits: {MaxNumberOfTrainingJobs: 1}\n"
            "static_hyperparameters: {a: 1}\nparameter_ranges: "
            "{CategoricalParameterRanges: [{Name: a, Values: [x]}]}",
            "a is both static and tuned",
        ),
        (
            "strategy: Random\nresource_limits: {MaxNumberOfTrainingJobs: 1}\n"
            "parameter_ranges: {ContinuousParameterRanges: "
            "[{Name: lr, MinValue: 0, MaxValue: 1, ScalingType: Logarithmic}]}",
            "lr: a Logarithmic range needs MinValue > 0",
        ),
        (
            "strategy: Random\nresource_limits: {MaxNumberOfTrainingJobs: 1}\n"
            "parameter_ranges: {IntegerParameterRanges: [{Name: n, MinValue: 5, MaxValue: 1}]}",
            "n: MinValue 5 is above MaxValue 1",
        ),
        (
            "strategy: Random\nresource_limits: {MaxNumberOfTrainingJobs: 1, "
            "MaxParallelTrainingJobs: 0}",
            "search.resource_limits.MaxParallelTrainingJobs: Input should be greater than or "
            "equal to 1",
        ),
        ("max_paralel: 2", "search.max_paralel: Extra inputs are not permitted"),
    ],
)
def test_broken_specs_say_what_is_wrong(tmp_path, extra, message):
    with pytest.raises(SweepSpecError, match=message):
        load_spec(spec_file(tmp_path, BASE + indented(extra)))


def test_unreadable_files_say_so(tmp_path):
    with pytest.raises(SweepSpecError, match="cannot read"):
        load_spec(tmp_path / "missing.yaml")
    with pytest.raises(SweepSpecError, match="is not valid YAML"):
        load_spec(spec_file(tmp_path, "name: [unclosed"))
