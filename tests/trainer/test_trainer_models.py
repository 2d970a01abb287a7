"""The MLP's output shapes for each kind of batch."""

from __future__ import annotations

import torch

from trainer.models import MLP


def test_classification_gets_logits_per_class() -> None:
    assert MLP(64, 10, hidden_units=8, dropout=0.1)(torch.zeros(5, 64)).shape == (5, 10)


def test_regression_gets_one_value_per_example() -> None:
    assert MLP(10, 1, hidden_units=8, dropout=0.0)(torch.zeros(5, 10)).shape == (5,)


def test_ranking_gets_one_score_per_document() -> None:
    assert MLP(16, 1, hidden_units=8, dropout=0.0)(torch.zeros(4, 20, 16)).shape == (4, 20)


def test_dropout_only_acts_in_training_mode() -> None:
    torch.manual_seed(0)
    model = MLP(4, 1, hidden_units=32, dropout=0.5)
    x = torch.ones(3, 4)
    model.eval()
    assert torch.equal(model(x), model(x))
    model.train()
    assert not torch.equal(model(x), model(x))
