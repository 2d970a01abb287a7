"""Request bodies accept the keys they always have: snake_case everywhere, SageMaker's
PascalCase where the table below says so, and nothing else.

Most of the PascalCase spellings are generated (`alias_generator`), a few are written by
hand (`StaticHyperParameters`, `TrainingJobEarlyStoppingType`, ...). The table was taken
from the hand-written aliases before any was generated; it is the contract, so a
generator that adds a spelling (`LogFormat` for a job's `log_format`, `Sagemaker`) or
loses one fails here.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from pydantic import AliasChoices, BaseModel, ValidationError
from pydantic.alias_generators import to_camel, to_pascal

from app.api import schemas
from app.api.schemas.common import RequestBody
from app.protocol import ranges, search

BOTH = "both"  # snake_case and to_pascal's spelling of it

SPELLINGS: dict[type[BaseModel], dict[str, str | set[str]]] = {
    schemas.MetricDefinitionCreate: {"name": BOTH, "regex": BOTH, "log_format": BOTH},
    schemas.ObjectiveCreate: {"metric_name": BOTH, "type": BOTH, "strategy": BOTH},
    schemas.JobCreate: {
        "name": {"name"},
        "objective": {"objective"},
        "metric_definitions": BOTH,
        "log_format": {"log_format"},
        "environment": {"environment"},
        "search": {"search"},
        "webhooks": {"webhooks"},
    },
    schemas.WebhookCreate: {
        "url": {"url"},
        "events": {"events"},
        "format": {"format"},
        "secret": {"secret"},
    },
    schemas.WebhooksUpdate: {"webhooks": {"webhooks"}},
    schemas.RunCreate: {"name": {"name"}, "hyperparameters": {"hyperparameters"}},
    schemas.RunUpdate: {
        "status": {"status"},
        "failure_reason": {"failure_reason"},
        "infrastructure_failure": {"infrastructure_failure"},
        "attempt": {"attempt"},
    },
    schemas.HeartbeatCreate: {"worker": {"worker"}, "gpus": {"gpus"}, "attempt": {"attempt"}},
    schemas.LeaseCreate: {
        "worker": {"worker"},
        "jobs": {"jobs"},
        "gpus": {"gpus"},
        "request_id": {"request_id"},
    },
    schemas.GpuOfferCreate: {"total": {"total"}, "free": {"free"}, "shared": {"shared"}},
    schemas.ParseCreate: {
        "metric_definitions": BOTH,
        "log": {"log"},
        "log_format": {"log_format"},
    },
    schemas.ReparseCreate: {"metric_definitions": BOTH, "objective": BOTH},
    ranges.CategoricalRange: {"name": BOTH, "values": BOTH},
    ranges.IntegerRange: {"name": BOTH, "min_value": BOTH, "max_value": BOTH, "scaling_type": BOTH},
    ranges.ContinuousRange: {
        "name": BOTH,
        "min_value": BOTH,
        "max_value": BOTH,
        "scaling_type": BOTH,
    },
    ranges.ParameterRanges: {
        "categorical": {"categorical", "CategoricalParameterRanges"},
        "integer": {"integer", "IntegerParameterRanges"},
        "continuous": {"continuous", "ContinuousParameterRanges"},
    },
    search.ResourceLimits: {
        "max_number_of_training_jobs": BOTH,
        "max_parallel_training_jobs": BOTH,
        "max_runtime_in_seconds": BOTH,
    },
    search.NotImproving: {"max_number_of_training_jobs_not_improving": BOTH},
    search.ConvergenceDetected: {"complete_on_convergence": BOTH},
    search.CompletionCriteria: {
        "target_objective_metric_value": BOTH,
        "best_objective_not_improving": BOTH,
        "convergence_detected": BOTH,
    },
    search.HyperbandConfig: {"min_resource": BOTH, "max_resource": BOTH},
    search.GpuResources: {"gpus_per_run": BOTH, "runs_per_gpu": BOTH},
    search.RetryStrategy: {"maximum_retry_attempts": BOTH},
    search.WarmStart: {
        "parents": {"parents", "ParentHyperParameterTuningJobs"},
        "type": {"type", "WarmStartType"},
    },
    search.SearchSpec: {
        "strategy": BOTH,
        "parameter_ranges": BOTH,
        "static_hyperparameters": {"static_hyperparameters", "StaticHyperParameters"},
        "resource_limits": BOTH,
        "resources": BOTH,
        "retry_strategy": BOTH,
        "random_seed": BOTH,
        "early_stopping": {"early_stopping", "TrainingJobEarlyStoppingType"},
        "completion_criteria": {"completion_criteria", "TuningJobCompletionCriteria"},
        "hyperband": {"hyperband", "HyperbandStrategyConfig"},
        "warm_start": {"warm_start", "WarmStartConfig"},
        "command": BOTH,
        "training_image": BOTH,
        "sagemaker": {"sagemaker"},
    },
}

_DEFINITION = {"name": "loss", "regex": "loss=(.*)", "log_format": "text"}
_OBJECTIVE = {"metric_name": "loss", "type": "Minimize", "strategy": "min"}
_CATEGORICAL = {"name": "optimizer", "values": ["adam", "sgd"]}
_INTEGER = {"name": "layers", "min_value": 1, "max_value": 4, "scaling_type": "Linear"}
_CONTINUOUS = {"name": "lr", "min_value": 0.001, "max_value": 0.1, "scaling_type": "Logarithmic"}
_RANGES = {"categorical": [_CATEGORICAL], "integer": [_INTEGER], "continuous": [_CONTINUOUS]}
_LIMITS = {
    "max_number_of_training_jobs": 9,
    "max_parallel_training_jobs": 2,
    "max_runtime_in_seconds": 60,
}
_NOT_IMPROVING = {"max_number_of_training_jobs_not_improving": 3}
_CONVERGENCE = {"complete_on_convergence": "Disabled"}
_CRITERIA = {
    "target_objective_metric_value": 0.1,
    "best_objective_not_improving": _NOT_IMPROVING,
    "convergence_detected": _CONVERGENCE,
}
_HYPERBAND = {"min_resource": 1, "max_resource": 9}
_WARM_START = {"parents": ["earlier"], "type": "TransferLearning"}
_GPUS = {"gpus_per_run": 1, "runs_per_gpu": 2}
_RETRIES = {"maximum_retry_attempts": 2}
_OFFER = {"total": 2, "free": 1, "shared": {"gan": 1}}
_SEARCH = {
    "strategy": "Hyperband",
    "parameter_ranges": _RANGES,
    "static_hyperparameters": {"epochs": 9},
    "resource_limits": _LIMITS,
    "resources": _GPUS,
    "retry_strategy": _RETRIES,
    "random_seed": 7,
    "early_stopping": "Off",
    "completion_criteria": _CRITERIA,
    "hyperband": _HYPERBAND,
    "warm_start": _WARM_START,
    "command": ["python", "train.py"],
    "training_image": "trainer:latest",
    "sagemaker": {"Region": "us-east-1"},
}

_WEBHOOK = {
    "url": "https://hooks.example.com/t",
    "events": ["job_ended"],
    "format": "slack",
    "secret": "a-long-random-secret",
}

# A valid body of each model, with every field given (snake_case).
BODIES: dict[type[BaseModel], dict[str, Any]] = {
    schemas.MetricDefinitionCreate: _DEFINITION,
    schemas.ObjectiveCreate: _OBJECTIVE,
    schemas.JobCreate: {
        "name": "gan",
        "objective": _OBJECTIVE,
        "metric_definitions": [_DEFINITION],
        "log_format": "cloudwatch",
        "environment": {"SEED": "1"},
        "search": _SEARCH,
        "webhooks": [_WEBHOOK],
    },
    schemas.WebhookCreate: _WEBHOOK,
    schemas.WebhooksUpdate: {"webhooks": [_WEBHOOK]},
    schemas.RunCreate: {"name": "run-0001", "hyperparameters": {"lr": 0.1}},
    schemas.RunUpdate: {
        "status": "Failed",
        "failure_reason": "out of memory",
        "infrastructure_failure": False,
        "attempt": 1,
    },
    schemas.HeartbeatCreate: {"worker": "host:1", "gpus": ["0", "GPU-5e0b"], "attempt": 2},
    schemas.LeaseCreate: {
        "worker": "host:1",
        "jobs": ["gan"],
        "gpus": _OFFER,
        "request_id": "5e0b6c",
    },
    schemas.GpuOfferCreate: _OFFER,
    schemas.ParseCreate: {"metric_definitions": "pytorch", "log": "loss=1", "log_format": "text"},
    schemas.ReparseCreate: {"metric_definitions": [_DEFINITION], "objective": _OBJECTIVE},
    ranges.CategoricalRange: _CATEGORICAL,
    ranges.IntegerRange: _INTEGER,
    ranges.ContinuousRange: _CONTINUOUS,
    ranges.ParameterRanges: _RANGES,
    search.ResourceLimits: _LIMITS,
    search.NotImproving: _NOT_IMPROVING,
    search.ConvergenceDetected: _CONVERGENCE,
    search.CompletionCriteria: _CRITERIA,
    search.HyperbandConfig: _HYPERBAND,
    search.GpuResources: _GPUS,
    search.RetryStrategy: _RETRIES,
    search.WarmStart: _WARM_START,
    search.SearchSpec: _SEARCH,
}


def accepted(model: type[BaseModel], field: str) -> set[str]:
    given = SPELLINGS[model][field]
    return {field, to_pascal(field)} if given == BOTH else set(given)


def request_models() -> set[type[BaseModel]]:
    """Every model that refuses unknown keys: each request body and each part of a search."""
    found = set()
    for module in (schemas, ranges, search):
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseModel)
                and value.model_config.get("extra") == "forbid"
                and value.model_fields
            ):
                found.add(value)
    return found


def test_the_table_names_every_request_model_and_all_its_fields():
    assert {m.__name__ for m in request_models()} == {m.__name__ for m in SPELLINGS}
    assert set(BODIES) == set(SPELLINGS)
    for model, fields in SPELLINGS.items():
        assert set(fields) == set(model.model_fields), model.__name__
        assert set(BODIES[model]) == set(model.model_fields), model.__name__


def test_each_model_holds_exactly_the_spellings_of_the_table():
    for model in SPELLINGS:
        assert issubclass(model, RequestBody) or model.__module__ in (
            ranges.__name__,
            search.__name__,
        )
        for field, info in model.model_fields.items():
            alias = info.validation_alias
            choices = alias.choices if isinstance(alias, AliasChoices) else [alias or field]
            held = {choice for choice in choices if isinstance(choice, str)}
            assert held | {field} == accepted(model, field), (model.__name__, field)
            assert len(held) == len(choices), (model.__name__, field)  # no AliasPath


@pytest.mark.parametrize("model", list(SPELLINGS), ids=lambda m: m.__name__)
def test_every_field_is_accepted_in_each_of_its_spellings(model: type[BaseModel]):
    body = BODIES[model]
    expected = model.model_validate(body)
    for field in body:
        for key in accepted(model, field):
            renamed = {(key if k == field else k): v for k, v in body.items()}
            assert model.model_validate(renamed) == expected, (field, key)


@pytest.mark.parametrize("model", list(SPELLINGS), ids=lambda m: m.__name__)
def test_no_other_spelling_of_a_field_is_accepted(model: type[BaseModel]):
    body = BODIES[model]
    for field in body:
        for key in {to_pascal(field), to_camel(field), field.upper()} - accepted(model, field):
            renamed = {(key if k == field else k): v for k, v in body.items()}
            with pytest.raises(ValidationError):
                model.model_validate(renamed)
