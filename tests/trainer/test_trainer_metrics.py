"""Validation metrics on tiny literal batches, worked out by hand."""

from __future__ import annotations

import pytest
import torch

from trainer.metrics import ClassificationMetrics, build_metrics
from trainer.tasks import RANKING, REGRESSION


def test_classification_metrics() -> None:
    probabilities = torch.tensor(
        [
            [0.8, 0.1, 0.1],  # class 0, predicted 0
            [0.1, 0.7, 0.2],  # class 1, predicted 1
            [0.1, 0.3, 0.6],  # class 1, predicted 2
            [0.1, 0.35, 0.55],  # class 2, predicted 2
        ]
    )
    target = torch.tensor([0, 1, 1, 2])
    metrics = ClassificationMetrics(classes=3)
    metrics.update(probabilities.log(), target)
    assert metrics.compute() == pytest.approx(
        {
            # 3 of 4 right
            "val_accuracy": 0.75,
            # precision per class 1, 1, 1/2; recall 1, 1/2, 1; F1 1, 2/3, 2/3
            "val_precision": (1 + 1 + 0.5) / 3,
            "val_recall": (1 + 0.5 + 1) / 3,
            "val_f1": (1 + 2 / 3 + 2 / 3) / 3,
            # one-vs-rest AUC: class 0 1; class 1: 0.3 < 0.35 loses 1 of 4 pairs, 3/4;
            # class 2: 0.55 < 0.6 loses 1 of 3 pairs, 2/3
            "val_roc_auc": (1 + 0.75 + 2 / 3) / 3,
        }
    )


def test_regression_metrics() -> None:
    metrics = build_metrics(REGRESSION)
    metrics.update(torch.tensor([0.0, 1.0]), torch.tensor([0.0, 2.0]))
    metrics.update(torch.tensor([2.0]), torch.tensor([4.0]))
    # errors 0, 1, 2: MAE 1, MSE 5/3
    assert metrics.compute() == pytest.approx({"val_mae": 1.0, "val_mse": 5 / 3})


# Query 1 ranks grades (0, 3, 2): relevant (>= 2) at ranks 2 and 3.
#   MRR 1/2; AP (1/2 + 2/3) / 2 = 0.5833333;
#   NDCG (3/log2 3 + 2/log2 4) / (3 + 2/log2 3) = 2.8927893 / 4.2618595 = 0.6787639.
# Query 2 ranks grades (0, 0, 1): no relevant document, so no MRR or AP;
#   NDCG (1/log2 4) / 1 = 0.5.
SCORES = torch.tensor([[0.9, 0.5, 0.1], [0.2, 0.8, 0.4]])
GRADES = torch.tensor([[0.0, 3.0, 2.0], [1.0, 0.0, 0.0]])
EXPECTED = {"val_mrr": 0.5, "val_ndcg": (0.6787639 + 0.5) / 2, "val_map": 0.5833333}


def test_ranking_metrics() -> None:
    metrics = build_metrics(RANKING)
    metrics.update(SCORES, GRADES)
    assert metrics.compute() == pytest.approx(EXPECTED, abs=1e-6)


def test_ranking_metrics_keep_queries_of_different_batches_apart() -> None:
    metrics = build_metrics(RANKING)
    metrics.update(SCORES[:1], GRADES[:1])
    metrics.update(SCORES[1:], GRADES[1:])
    assert metrics.compute() == pytest.approx(EXPECTED, abs=1e-6)


def test_reset_starts_a_new_epoch() -> None:
    metrics = build_metrics(RANKING)
    metrics.update(SCORES[1:], GRADES[1:])
    metrics.compute()
    metrics.reset()
    metrics.update(SCORES, GRADES)
    assert metrics.compute() == pytest.approx(EXPECTED, abs=1e-6)
