"""The tuning objective's direction, told from its name."""

from __future__ import annotations

import pytest

from trainer.errors import ConfigError
from trainer.objective import Objective, objective_mode, resolve_objective


@pytest.mark.parametrize(
    ("metric", "mode"),
    [
        ("val_loss", "min"),
        ("train_loss", "min"),
        ("val_mae", "min"),
        ("val_mse", "min"),
        ("validation:rmse", "min"),
        ("validation:error", "min"),
        ("val_accuracy", "max"),
        ("val_f1", "max"),
        ("val_precision", "max"),
        ("val_recall", "max"),
        ("val_roc_auc", "max"),
        ("val_mrr", "max"),
        ("val_ndcg", "max"),
        ("val_map", "max"),
        ("Validation-Accuracy", "max"),
    ],
)
def test_objective_mode(metric: str, mode: str) -> None:
    assert objective_mode(metric) == mode


@pytest.mark.parametrize("metric", ["val_throughput", "val_mapk", "epoch"])
def test_a_name_without_a_known_word_is_refused(metric: str) -> None:
    with pytest.raises(ConfigError) as raised:
        objective_mode(metric)
    assert str(raised.value) == (
        f"cannot tell whether objective metric {metric!r} is a loss or a score"
    )


def test_resolve_objective() -> None:
    assert resolve_objective(None) == Objective("val_loss", "min")
    assert resolve_objective("val_ndcg") == Objective("val_ndcg", "max")
