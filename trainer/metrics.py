"""Validation metrics of each task, computed with torchmetrics over a whole epoch.

Classification: accuracy (fraction of examples right), and macro-averaged F1,
precision, recall and one-vs-rest ROC AUC. Regression: MAE and MSE. Ranking: MRR and
MAP count a document as relevant when its grade is at least `RELEVANT_GRADE` (2 of 0-3:
"highly relevant"; grade 1 is common and would make MRR close to 1 for any ranking),
NDCG uses the grades themselves. Queries without a relevant document are left out of
MRR and MAP, since no ranking of them is better than another.
"""

from __future__ import annotations

from typing import Protocol

import torch
from torchmetrics import MetricCollection
from torchmetrics.classification import (
    MulticlassAccuracy,
    MulticlassAUROC,
    MulticlassF1Score,
    MulticlassPrecision,
    MulticlassRecall,
)
from torchmetrics.regression import MeanAbsoluteError, MeanSquaredError
from torchmetrics.retrieval import RetrievalMAP, RetrievalMRR, RetrievalNormalizedDCG

from trainer.tasks import CLASSIFICATION, RANKING, REGRESSION, Task

__all__ = [
    "RELEVANT_GRADE",
    "ClassificationMetrics",
    "RankingMetrics",
    "RegressionMetrics",
    "ValidationMetrics",
    "build_metrics",
]

RELEVANT_GRADE = 2


class ValidationMetrics(Protocol):
    """Accumulates one pass over the validation split; `compute` gives the epoch's values."""

    def update(self, outputs: torch.Tensor, target: torch.Tensor) -> None:
        """Add a batch of model outputs and their targets."""
        ...

    def compute(self) -> dict[str, float]:
        """Return the metrics over everything added since `reset`, by printed name."""
        ...

    def reset(self) -> None: ...

    def to(self, device: torch.device) -> ValidationMetrics: ...


class _CollectionMetrics:
    """Metrics whose torchmetrics take the batch as it comes."""

    def __init__(self, collection: MetricCollection) -> None:
        self.collection = collection

    def update(self, outputs: torch.Tensor, target: torch.Tensor) -> None:
        self.collection.update(self._predictions(outputs), target)

    def compute(self) -> dict[str, float]:
        return {name: float(value) for name, value in self.collection.compute().items()}

    def reset(self) -> None:
        self.collection.reset()

    def to(self, device: torch.device) -> _CollectionMetrics:
        self.collection.to(device)
        return self

    def _predictions(self, outputs: torch.Tensor) -> torch.Tensor:
        return outputs


class ClassificationMetrics(_CollectionMetrics):
    def __init__(self, classes: int) -> None:
        super().__init__(
            MetricCollection(
                {
                    "val_accuracy": MulticlassAccuracy(classes, average="micro"),
                    "val_f1": MulticlassF1Score(classes, average="macro"),
                    "val_precision": MulticlassPrecision(classes, average="macro"),
                    "val_recall": MulticlassRecall(classes, average="macro"),
                    "val_roc_auc": MulticlassAUROC(classes, average="macro"),
                },
                compute_groups=False,
            )
        )

    def _predictions(self, outputs: torch.Tensor) -> torch.Tensor:
        # Probabilities, which AUROC needs; the others take the argmax of either.
        return outputs.softmax(dim=-1)


class RegressionMetrics(_CollectionMetrics):
    def __init__(self) -> None:
        super().__init__(
            MetricCollection(
                {"val_mae": MeanAbsoluteError(), "val_mse": MeanSquaredError()},
                compute_groups=False,
            )
        )


class RankingMetrics:
    """Takes (queries, documents) scores and grades; numbers the queries as they come."""

    def __init__(self) -> None:
        self.binary = MetricCollection(
            {
                "val_mrr": RetrievalMRR(empty_target_action="skip"),
                "val_map": RetrievalMAP(empty_target_action="skip"),
            },
            compute_groups=False,
        )
        self.ndcg = RetrievalNormalizedDCG(empty_target_action="skip")
        self._queries = 0

    def update(self, outputs: torch.Tensor, target: torch.Tensor) -> None:
        queries, documents = outputs.shape
        # Retrieval metrics group documents by query index; indexes must not repeat
        # across batches, hence the running count.
        indexes = torch.arange(
            self._queries, self._queries + queries, device=outputs.device
        ).repeat_interleave(documents)
        self._queries += queries
        scores, grades = outputs.reshape(-1), target.reshape(-1)
        self.binary.update(scores, grades >= RELEVANT_GRADE, indexes=indexes)
        self.ndcg.update(scores, grades, indexes=indexes)

    def compute(self) -> dict[str, float]:
        values = {name: float(value) for name, value in self.binary.compute().items()}
        return {
            "val_mrr": values["val_mrr"],
            "val_ndcg": float(self.ndcg.compute()),
            "val_map": values["val_map"],
        }

    def reset(self) -> None:
        self.binary.reset()
        self.ndcg.reset()
        self._queries = 0

    def to(self, device: torch.device) -> RankingMetrics:
        self.binary.to(device)
        self.ndcg.to(device)
        return self


def build_metrics(task: Task) -> ValidationMetrics:
    """Return the validation metrics of `task`, named as `task.metrics` lists them."""
    if task.name == CLASSIFICATION.name:
        return ClassificationMetrics(task.outputs)
    if task.name == REGRESSION.name:
        return RegressionMetrics()
    if task.name == RANKING.name:
        return RankingMetrics()
    raise ValueError(f"no metrics for task {task.name!r}")
