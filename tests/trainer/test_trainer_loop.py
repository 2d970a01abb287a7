"""The epoch loop on a tiny hand-built problem."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from trainer.data import Loaders
from trainer.errors import TrainingDiverged
from trainer.hyperparameters import parse_hyperparameters
from trainer.loop import Training, fit
from trainer.metrics import build_metrics
from trainer.models import MLP
from trainer.schedulers import build_schedule
from trainer.tasks import REGRESSION


def tiny_training(
    raw: dict[str, object], loss: nn.Module | None = None, frozen: bool = False
) -> Training:
    """Fit y = 2x on 16 points; `frozen` gives the optimizer a parameter the model lacks."""
    torch.manual_seed(0)
    hp = parse_hyperparameters({"task": "regression", "optimizer": "sgd", **raw})
    x = torch.linspace(-1, 1, 16).unsqueeze(1)
    dataset = TensorDataset(x, 2 * x.squeeze(1))
    model = MLP(1, 1, hidden_units=4, dropout=0.0)
    parameters = [nn.Parameter(torch.zeros(1))] if frozen else list(model.parameters())
    optimizer = torch.optim.SGD(parameters, lr=hp.lr)
    return Training(
        task=REGRESSION,
        model=model,
        loss=loss or nn.MSELoss(),
        optimizer=optimizer,
        schedule=build_schedule(optimizer, hp),
        metrics=build_metrics(REGRESSION),
        loaders=Loaders(
            train=DataLoader(dataset, batch_size=4, shuffle=False),
            val=DataLoader(dataset, batch_size=16),
        ),
        device=torch.device("cpu"),
    )


def test_each_report_carries_the_lr_its_epoch_trained_with() -> None:
    training = tiny_training({"lr": 0.1, "scheduler": "step", "step_size": 1, "gamma": 0.5})
    reports = list(fit(training, epochs=3))
    assert [report.epoch for report in reports] == [1, 2, 3]
    assert [report.lr for report in reports] == pytest.approx([0.1, 0.05, 0.025])
    assert [list(report.val_metrics) for report in reports] == [["val_mae", "val_mse"]] * 3


def test_validation_loss_is_the_loss_over_the_validation_split() -> None:
    training = tiny_training({"lr": 0.01, "scheduler": "none"})
    (report,) = fit(training, epochs=1)
    # MSELoss on the validation split is the validation MSE.
    assert report.val_loss == pytest.approx(report.val_metrics["val_mse"])


def test_plateau_is_stepped_with_the_epochs_metrics() -> None:
    # A frozen model's val_mae never improves: with patience 0, every epoch after the
    # first halves the learning rate.
    raw = {
        "lr": 0.1,
        "scheduler": "plateau",
        "patience": 0,
        "factor": 0.5,
        "_tuning_objective_metric": "val_mae",
    }
    reports = list(fit(tiny_training(raw, frozen=True), epochs=4))
    assert [report.lr for report in reports] == pytest.approx([0.1, 0.1, 0.05, 0.025])


class NanLoss(nn.Module):
    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return nn.functional.mse_loss(prediction, target) * float("nan")


def test_a_nan_loss_stops_training() -> None:
    training = tiny_training({"lr": 0.1, "scheduler": "none"}, loss=NanLoss())
    with pytest.raises(TrainingDiverged) as raised:
        list(fit(training, epochs=3))
    assert (raised.value.epoch, raised.value.name) == (1, "train_loss")
    assert str(raised.value) == (
        "training diverged at epoch 1: train_loss is nan; try a lower lr or a different optimizer"
    )
