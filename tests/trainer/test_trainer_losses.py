"""Losses against values computed by hand on tiny tensors.

Two examples, three classes, with logits chosen as log-probabilities so the softmax is
exact: example 1 has p = (0.7, 0.2, 0.1) and true class 0, example 2 has
p = (0.25, 0.25, 0.5) and true class 2. So p_t = 0.7 and 0.5.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from trainer.hyperparameters import parse_hyperparameters
from trainer.losses import FocalLoss, ListwiseSoftmaxLoss, build_loss

LOGITS = torch.tensor([[0.7, 0.2, 0.1], [0.25, 0.25, 0.5]]).log()
TARGET = torch.tensor([0, 2])


def value(loss: torch.Tensor) -> float:
    return float(loss)


def test_cross_entropy_of_the_example() -> None:
    # (-ln 0.7 - ln 0.5) / 2
    assert value(nn.CrossEntropyLoss()(LOGITS, TARGET)) == pytest.approx(0.5249110622)


def test_focal_gamma_2() -> None:
    # (-(0.3**2) ln 0.7 - (0.5**2) ln 0.5) / 2 = (0.0321007450 + 0.1732867951) / 2
    assert value(FocalLoss(gamma=2.0)(LOGITS, TARGET)) == pytest.approx(0.1026937700)


def test_focal_gamma_1() -> None:
    # (-0.3 ln 0.7 - 0.5 ln 0.5) / 2
    assert value(FocalLoss(gamma=1.0)(LOGITS, TARGET)) == pytest.approx(0.2267880367)


def test_focal_gamma_0_is_cross_entropy_of_the_example() -> None:
    assert value(FocalLoss(gamma=0.0)(LOGITS, TARGET)) == pytest.approx(0.5249110622)


def test_focal_gamma_0_equals_cross_entropy_on_random_logits() -> None:
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(64, 10, generator=generator) * 3
    target = torch.randint(0, 10, (64,), generator=generator)
    focal = FocalLoss(gamma=0.0)(logits, target)
    torch.testing.assert_close(focal, nn.CrossEntropyLoss()(logits, target))


def test_focal_per_class_alpha() -> None:
    # alpha = (0.25, 1, 0.5): example 1 (class 0) weighs 0.25, example 2 (class 2) 0.5.
    # (0.25 * 0.0321007450 + 0.5 * 0.1732867951) / 2; a plain mean, not over the weights.
    loss = FocalLoss(gamma=2.0, alpha=[0.25, 1.0, 0.5])(LOGITS, TARGET)
    assert value(loss) == pytest.approx(0.0473342919)


def test_focal_single_alpha_scales_every_class() -> None:
    # 0.25 * 0.1026937700
    assert value(FocalLoss(gamma=2.0, alpha=0.25)(LOGITS, TARGET)) == pytest.approx(0.0256734425)


def test_focal_gradient_stays_finite_when_an_example_is_certain() -> None:
    # p_t rounds to 1 in float32; d/dp (1 - p)**0.5 is infinite there.
    logits = torch.tensor([[100.0, 0.0, 0.0], [0.0, 1.0, 0.0]], requires_grad=True)
    FocalLoss(gamma=0.5)(logits, torch.tensor([0, 1])).backward()
    assert logits.grad is not None
    assert bool(torch.isfinite(logits.grad).all())


def test_label_smoothing() -> None:
    # eps = 0.1 over K = 3: soft targets (0.9 + 0.1/3) on the true class, 0.1/3 elsewhere.
    # Example 1: -(0.933333 ln 0.7 + 0.033333 ln 0.2 + 0.033333 ln 0.1) = 0.4632973812
    # Example 2: -(0.033333 ln 0.25 + 0.033333 ln 0.25 + 0.933333 ln 0.5) = 0.7393569926
    loss = build_loss(parse_hyperparameters({"loss": "label_smoothing", "label_smoothing": 0.1}))
    assert value(loss(LOGITS, TARGET)) == pytest.approx(0.6013271869)


def test_label_smoothing_0_is_cross_entropy() -> None:
    loss = build_loss(parse_hyperparameters({"loss": "label_smoothing", "label_smoothing": 0}))
    assert value(loss(LOGITS, TARGET)) == pytest.approx(0.5249110622)


def test_listwise_softmax() -> None:
    # Both queries score their three documents log(0.5, 0.3, 0.2).
    # Query 1, grades (1, 0, 0): target softmax = (e, 1, 1) / (e + 2)
    #   = (0.5761168848, 0.2119415576, 0.2119415576);
    #   loss = -(0.5761168848 ln 0.5 + 0.2119415576 (ln 0.3 + ln 0.2)) = 0.9956124439
    # Query 2, grades (0, 0, 0): uniform target;
    #   loss = -(ln 0.5 + ln 0.3 + ln 0.2) / 3 = 1.1688526324
    scores = torch.tensor([[0.5, 0.3, 0.2], [0.5, 0.3, 0.2]]).log()
    relevance = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    loss = ListwiseSoftmaxLoss()(scores, relevance)
    assert value(loss) == pytest.approx((0.9956124439 + 1.1688526324) / 2)


def test_listwise_softmax_is_lowest_when_scores_match_the_grades() -> None:
    relevance = torch.tensor([[3.0, 1.0, 0.0]])
    best = ListwiseSoftmaxLoss()(relevance.clone(), relevance)
    reversed_order = ListwiseSoftmaxLoss()(relevance.flip(-1), relevance)
    # At its minimum the loss is the entropy of softmax(3, 1, 0).
    target = [math.exp(g) / (math.exp(3) + math.exp(1) + 1) for g in (3, 1, 0)]
    entropy = -sum(p * math.log(p) for p in target)
    assert value(best) == pytest.approx(entropy)
    assert value(best) < value(reversed_order)


@pytest.mark.parametrize(
    ("loss", "prediction", "target", "expected"),
    [
        # (0.5**2 + 3**2) / 2
        ("mse", [0.0, 0.0], [0.5, 3.0], 4.625),
        # (0.5 + 3) / 2
        ("mae", [0.0, 0.0], [0.5, 3.0], 1.75),
        # delta 1: (0.5 * 0.5**2 + (3 - 0.5)) / 2
        ("huber", [0.0, 0.0], [0.5, 3.0], 1.3125),
    ],
)
def test_regression_losses(
    loss: str, prediction: list[float], target: list[float], expected: float
) -> None:
    built = build_loss(parse_hyperparameters({"task": "regression", "loss": loss}))
    assert value(built(torch.tensor(prediction), torch.tensor(target))) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ({}, nn.CrossEntropyLoss),
        ({"loss": "focal"}, FocalLoss),
        ({"task": "ranking"}, ListwiseSoftmaxLoss),
    ],
)
def test_build_loss_picks_the_named_loss(raw: dict[str, object], kind: type) -> None:
    assert type(build_loss(parse_hyperparameters(raw))) is kind


def test_build_loss_passes_focal_hyperparameters() -> None:
    raw = {"loss": "focal", "focal_gamma": 1.0, "focal_alpha": [0.25, 1.0, 0.5, *[1.0] * 7]}
    loss = build_loss(parse_hyperparameters(raw))
    padded = torch.cat([LOGITS, torch.full((2, 7), -torch.inf)], dim=1)
    # Classes 3-9 get probability 0, so this is FocalLoss(1, (0.25, 1, 0.5)) on the example:
    # (0.25 * -0.3 ln 0.7 + 0.5 * -0.5 ln 0.5) / 2
    assert value(loss(padded, TARGET)) == pytest.approx(0.1000187080)
