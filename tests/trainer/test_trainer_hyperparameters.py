"""Checking merged hyperparameters against the table, and the record that comes out."""

from __future__ import annotations

import dataclasses

import pytest

from trainer.errors import ConfigError
from trainer.hyperparameters import SPECS, Hyperparameters, parse_hyperparameters

KNOWN = (
    "batch_size, dropout, epochs, eta_min, factor, focal_alpha, focal_gamma, gamma, "
    "hidden_units, label_smoothing, loss, lr, momentum, optimizer, patience, scheduler, "
    "seed, step_size, t_max, task, weight_decay"
)


def refusal(raw: dict[str, object]) -> str:
    with pytest.raises(ConfigError) as raised:
        parse_hyperparameters(raw)
    return str(raised.value)


def test_defaults() -> None:
    assert parse_hyperparameters({}) == Hyperparameters(
        task="classification",
        loss="cross_entropy",
        optimizer="adam",
        lr=0.003,
        weight_decay=0.0,
        momentum=0.9,
        scheduler="cosine",
        step_size=5,
        gamma=0.5,
        t_max=10,
        eta_min=0.0,
        factor=0.5,
        patience=2,
        epochs=10,
        batch_size=32,
        hidden_units=64,
        dropout=0.1,
        seed=42,
        focal_gamma=2.0,
        focal_alpha=None,
        label_smoothing=0.1,
        objective_metric=None,
    )


def test_the_table_and_the_record_name_the_same_hyperparameters() -> None:
    fields = [field.name for field in dataclasses.fields(Hyperparameters)]
    assert fields == [*SPECS, "objective_metric"]


@pytest.mark.parametrize(
    ("task", "loss"),
    [("classification", "cross_entropy"), ("regression", "mse"), ("ranking", "listwise_softmax")],
)
def test_loss_defaults_to_the_tasks_own(task: str, loss: str) -> None:
    assert parse_hyperparameters({"task": task}).loss == loss


def test_t_max_defaults_to_epochs() -> None:
    assert parse_hyperparameters({"epochs": 7}).t_max == 7
    assert parse_hyperparameters({"epochs": 7, "t_max": 3}).t_max == 3
    assert parse_hyperparameters({"epochs": 7, "t_max": None}).t_max == 7


def test_values_take_the_hyperparameters_type() -> None:
    hp = parse_hyperparameters({"lr": 1, "epochs": 4.0, "focal_alpha": [1, 0.5] + [1] * 8})
    assert (hp.lr, type(hp.lr)) == (1.0, float)
    assert (hp.epochs, type(hp.epochs)) == (4, int)
    assert hp.focal_alpha == (1.0, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)


def test_focal_alpha_may_be_one_number() -> None:
    assert parse_hyperparameters({"loss": "focal", "focal_alpha": 0.25}).focal_alpha == 0.25


def test_tuning_objective_is_kept_and_other_platform_keys_are_ignored() -> None:
    hp = parse_hyperparameters(
        {
            "_tuning_objective_metric": "val_accuracy",
            "sagemaker_program": "train.py",
            "sagemaker_region": "eu-west-1",
            "_private": 1,
            "lr": 0.01,
        }
    )
    assert hp.objective_metric == "val_accuracy"
    assert hp.lr == 0.01


def test_unknown_hyperparameter() -> None:
    assert refusal({"lrr": 0.1}) == f"unknown hyperparameter 'lrr'; known: {KNOWN}"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"lr": "fast"}, "bad value for 'lr': 'fast' (expected a number > 0)"),
        ({"lr": 0}, "bad value for 'lr': 0 (expected a number > 0)"),
        ({"lr": float("nan")}, "bad value for 'lr': nan (expected a number > 0)"),
        ({"lr": True}, "bad value for 'lr': True (expected a number > 0)"),
        ({"epochs": 2.5}, "bad value for 'epochs': 2.5 (expected an integer >= 1)"),
        ({"epochs": 0}, "bad value for 'epochs': 0 (expected an integer >= 1)"),
        ({"epochs": "10"}, "bad value for 'epochs': '10' (expected an integer >= 1)"),
        ({"seed": -1}, "bad value for 'seed': -1 (expected an integer from 0 to 4294967295)"),
        (
            {"epochs": 10**400},
            f"bad value for 'epochs': {10**400} (expected an integer >= 1)",
        ),
        (
            {"optimizer": "adagrad"},
            "bad value for 'optimizer': 'adagrad' (expected one of: sgd, adam, adamw)",
        ),
        (
            {"task": "detection"},
            "bad value for 'task': 'detection' (expected one of: "
            "classification, regression, ranking)",
        ),
        (
            {"momentum": 1},
            "bad value for 'momentum': 1 (expected a number >= 0 and < 1)",
        ),
        (
            {"factor": 1.0},
            "bad value for 'factor': 1.0 (expected a number > 0 and < 1)",
        ),
        (
            {"dropout": -0.1},
            "bad value for 'dropout': -0.1 (expected a number >= 0 and < 1)",
        ),
        (
            {"focal_alpha": [0.5, "x"]},
            "bad value for 'focal_alpha': [0.5, 'x'] "
            "(expected a number > 0, or a list of such numbers)",
        ),
        (
            {"focal_alpha": []},
            "bad value for 'focal_alpha': [] (expected a number > 0, or a list of such numbers)",
        ),
        (
            {"loss": "hinge"},
            "bad value for 'loss': 'hinge' (expected one of: cross_entropy, focal, "
            "label_smoothing, mse, mae, huber, listwise_softmax)",
        ),
        (
            {"_tuning_objective_metric": 3},
            "bad value for '_tuning_objective_metric': 3 (expected a name)",
        ),
    ],
)
def test_bad_values(raw: dict[str, object], message: str) -> None:
    assert refusal(raw) == message


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"loss": "mse"},
            "loss 'mse' does not fit task 'classification' "
            "(expected one of: cross_entropy, focal, label_smoothing)",
        ),
        (
            {"task": "ranking", "loss": "cross_entropy"},
            "loss 'cross_entropy' does not fit task 'ranking' (expected one of: listwise_softmax)",
        ),
        (
            {"loss": "focal", "focal_alpha": [0.5, 1.0]},
            "focal_alpha has 2 weights; task 'classification' has 10 classes",
        ),
        (
            {"scheduler": "plateau", "_tuning_objective_metric": "val_mae"},
            "scheduler 'plateau' cannot watch _tuning_objective_metric 'val_mae': task "
            "'classification' prints train_loss, val_loss, val_accuracy, val_f1, "
            "val_precision, val_recall, val_roc_auc",
        ),
    ],
)
def test_values_that_do_not_fit_together(raw: dict[str, object], message: str) -> None:
    assert refusal(raw) == message


def test_an_objective_the_trainer_does_not_print_is_fine_without_plateau() -> None:
    hp = parse_hyperparameters({"_tuning_objective_metric": "validation:accuracy"})
    assert hp.objective_metric == "validation:accuracy"
