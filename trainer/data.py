"""The data of each task, split into training and validation, and the loaders over it.

Nothing is downloaded: classification uses sklearn's bundled digits (1797 8x8 images,
10 classes), regression sklearn's bundled diabetes (442 patients, 10 features; features
and target standardized, so val_mae and val_mse are in standard deviations of the
target), ranking the synthetic set of `trainer.ranking_data`.

The split is fixed (seed `SPLIT_SEED`), not drawn from the `seed` hyperparameter: the
runs of a tuning job must be judged on the same validation examples, or `seed` would
become a way to pick an easy validation split. Scalers are fitted on the training split.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import torch
from sklearn.datasets import load_diabetes, load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader, TensorDataset

from trainer.ranking_data import make_ranking_set
from trainer.tasks import CLASSIFICATION, RANKING, REGRESSION, Task

__all__ = ["SPLIT_SEED", "VALIDATION_FRACTION", "Loaders", "TaskData", "load_task_data"]

SPLIT_SEED = 0
VALIDATION_FRACTION = 0.2


class TaskData(NamedTuple):
    """The two splits of a task, as tensors on the CPU.

    Inputs are float32, shaped (examples, features), or (queries, documents, features)
    for ranking. Targets are class indices (int64), standardized values (float32), or
    relevance grades per document (float32, (queries, documents)).
    """

    train: TensorDataset
    val: TensorDataset
    features: int

    def loaders(self, batch_size: int, generator: torch.Generator) -> Loaders:
        """Return loaders over both splits; only training batches are shuffled.

        Args:
            batch_size: examples (queries, for ranking) per batch.
            generator: seeded generator that decides the shuffling.
        """
        return Loaders(
            train=DataLoader(self.train, batch_size=batch_size, shuffle=True, generator=generator),
            val=DataLoader(self.val, batch_size=batch_size, shuffle=False),
        )


class Loaders(NamedTuple):
    train: DataLoader[tuple[torch.Tensor, ...]]
    val: DataLoader[tuple[torch.Tensor, ...]]


def load_task_data(task: Task) -> TaskData:
    """Load, split and scale the data of `task`; the result is the same on every call."""
    if task.name == CLASSIFICATION.name:
        return _classification()
    if task.name == REGRESSION.name:
        return _regression()
    if task.name == RANKING.name:
        return _ranking()
    raise ValueError(f"no data for task {task.name!r}")


def _classification() -> TaskData:
    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=VALIDATION_FRACTION, random_state=SPLIT_SEED, stratify=y
    )
    scaler = StandardScaler().fit(x_train)
    return TaskData(
        train=TensorDataset(_floats(scaler.transform(x_train)), torch.as_tensor(y_train)),
        val=TensorDataset(_floats(scaler.transform(x_val)), torch.as_tensor(y_val)),
        features=x.shape[1],
    )


def _regression() -> TaskData:
    x, y = load_diabetes(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=VALIDATION_FRACTION, random_state=SPLIT_SEED
    )
    scaler = StandardScaler().fit(x_train)
    mean, std = y_train.mean(), y_train.std()
    return TaskData(
        train=TensorDataset(_floats(scaler.transform(x_train)), _floats((y_train - mean) / std)),
        val=TensorDataset(_floats(scaler.transform(x_val)), _floats((y_val - mean) / std)),
        features=x.shape[1],
    )


def _ranking() -> TaskData:
    features, relevance = make_ranking_set(seed=SPLIT_SEED)
    # Split by query: all documents of a query land on the same side.
    train_queries, val_queries = train_test_split(
        np.arange(len(features)), test_size=VALIDATION_FRACTION, random_state=SPLIT_SEED
    )
    return TaskData(
        train=TensorDataset(_floats(features[train_queries]), _floats(relevance[train_queries])),
        val=TensorDataset(_floats(features[val_queries]), _floats(relevance[val_queries])),
        features=features.shape[-1],
    )


def _floats(array: npt.NDArray[np.floating]) -> torch.Tensor:
    return torch.as_tensor(array, dtype=torch.float32)
