"""Learning rates per epoch for each scheduler, as the epoch lines print them."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import torch

from trainer.hyperparameters import parse_hyperparameters
from trainer.objective import Objective
from trainer.schedulers import PlateauSchedule, build_schedule, current_lr


def lrs(raw: dict[str, object], epoch_metrics: Sequence[dict[str, float]]) -> list[float]:
    """Train a dummy parameter for one epoch per entry of `epoch_metrics`; return the
    learning rate each epoch trained with."""
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=0.1)
    schedule = build_schedule(optimizer, parse_hyperparameters({"optimizer": "sgd", **raw}))
    seen = []
    for metrics in epoch_metrics:
        seen.append(current_lr(optimizer))
        # torch warns if a scheduler steps before its optimizer ever did.
        optimizer.step()
        schedule.step(metrics)
    return seen


def epochs(count: int) -> list[dict[str, float]]:
    return [{"val_loss": 1.0}] * count


def test_none_keeps_the_learning_rate() -> None:
    assert lrs({"scheduler": "none"}, epochs(4)) == [0.1, 0.1, 0.1, 0.1]


def test_step_halves_every_step_size_epochs() -> None:
    assert lrs({"scheduler": "step", "step_size": 2, "gamma": 0.5}, epochs(6)) == pytest.approx(
        [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    )


def test_cosine_reaches_eta_min_after_t_max_epochs() -> None:
    # eta_min + (0.1 - eta_min) * (1 + cos(pi * t / 4)) / 2 for t = 0..5, eta_min = 0.01
    expected = [0.1, 0.0868198, 0.055, 0.0231802, 0.01, 0.0231802]
    seen = lrs({"scheduler": "cosine", "t_max": 4, "eta_min": 0.01}, epochs(6))
    assert seen == pytest.approx(expected, abs=1e-7)


def test_cosine_t_max_defaults_to_epochs() -> None:
    # t_max = 2: 0.1, (0.1 / 2), 0
    seen = lrs({"scheduler": "cosine", "epochs": 2}, epochs(3))
    assert seen == pytest.approx([0.1, 0.05, 0.0], abs=1e-12)


def test_plateau_halves_after_more_than_patience_epochs_without_improvement() -> None:
    losses = [1.0, 0.9, 0.95, 0.97, 0.96, 0.8, 0.85, 0.9, 0.95]
    seen = lrs(
        {"scheduler": "plateau", "factor": 0.5, "patience": 1},
        [{"val_loss": loss} for loss in losses],
    )
    # Best 0.9 at epoch 2; epochs 3 and 4 are worse, so epoch 5 trains at 0.05.
    # Best 0.8 at epoch 6; epochs 7 and 8 are worse, so epoch 9 trains at 0.025.
    assert seen == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025])


# val_loss improves every epoch while val_accuracy stays flat.
FLAT_ACCURACY = [{"val_loss": loss, "val_accuracy": 0.8} for loss in (0.5, 0.4, 0.3, 0.2, 0.1)]


@pytest.mark.parametrize(
    ("objective", "expected"),
    [
        ({}, [0.1, 0.1, 0.1, 0.1, 0.1]),
        ({"_tuning_objective_metric": "val_loss"}, [0.1, 0.1, 0.1, 0.1, 0.1]),
        ({"_tuning_objective_metric": "val_accuracy"}, [0.1, 0.1, 0.1, 0.05, 0.05]),
    ],
)
def test_plateau_watches_the_tuning_objective(
    objective: dict[str, object], expected: list[float]
) -> None:
    raw = {"scheduler": "plateau", "factor": 0.5, "patience": 1, **objective}
    assert lrs(raw, FLAT_ACCURACY) == pytest.approx(expected)


def test_plateau_maximizes_a_score() -> None:
    # Rising accuracy is improvement for mode "max"; under "min" it would halve the lr.
    rising = [{"val_loss": 1.0, "val_accuracy": a} for a in (0.8, 0.85, 0.9, 0.95, 0.97)]
    raw = {"scheduler": "plateau", "patience": 1, "_tuning_objective_metric": "val_accuracy"}
    assert lrs(raw, rising) == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.1])


def test_plateau_minimizes_a_loss() -> None:
    # Rising val_mae is no improvement for mode "min".
    rising = [{"val_loss": 1.0, "val_mae": mae} for mae in (0.5, 0.6, 0.7, 0.8, 0.9)]
    raw = {
        "task": "regression",
        "scheduler": "plateau",
        "patience": 1,
        "_tuning_objective_metric": "val_mae",
    }
    assert lrs(raw, rising) == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05])


@pytest.mark.parametrize(
    ("task", "objective", "mode"),
    [
        ("classification", None, "min"),
        ("classification", "val_loss", "min"),
        ("regression", "val_mae", "min"),
        ("classification", "val_accuracy", "max"),
        ("ranking", "val_ndcg", "max"),
    ],
)
def test_plateau_mode_follows_the_objective(task: str, objective: str | None, mode: str) -> None:
    raw: dict[str, object] = {"task": task, "scheduler": "plateau"}
    if objective is not None:
        raw["_tuning_objective_metric"] = objective
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    schedule = build_schedule(optimizer, parse_hyperparameters(raw))
    assert isinstance(schedule, PlateauSchedule)
    assert schedule.objective == Objective(objective or "val_loss", mode)
    assert schedule.scheduler.mode == mode
