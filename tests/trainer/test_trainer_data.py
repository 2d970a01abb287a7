"""Each task's data: sizes, types, the fixed split, scaling, and the synthetic ranking set."""

from __future__ import annotations

import numpy as np
import torch

from trainer.data import load_task_data
from trainer.ranking_data import make_ranking_set
from trainer.tasks import CLASSIFICATION, RANKING, REGRESSION


def test_classification_data() -> None:
    data = load_task_data(CLASSIFICATION)
    x_train, y_train = data.train.tensors
    x_val, y_val = data.val.tensors
    assert (x_train.shape, x_val.shape, data.features) == ((1437, 64), (360, 64), 64)
    assert (x_train.dtype, y_train.dtype) == (torch.float32, torch.int64)
    # Stratified: each digit's share of the validation split is its share of the data.
    assert torch.bincount(y_val).tolist() == [36, 36, 35, 37, 36, 37, 36, 36, 35, 36]


def test_regression_data_is_standardized_on_the_training_split() -> None:
    data = load_task_data(REGRESSION)
    x_train, y_train = data.train.tensors
    assert (x_train.shape, data.val.tensors[0].shape, data.features) == ((353, 10), (89, 10), 10)
    assert abs(float(y_train.mean())) < 1e-5
    assert abs(float(y_train.std(correction=0)) - 1) < 1e-5
    assert float(x_train.mean(dim=0).abs().max()) < 1e-5


def test_ranking_data_is_split_by_query() -> None:
    data = load_task_data(RANKING)
    x_train, grades_train = data.train.tensors
    x_val, _ = data.val.tensors
    assert (x_train.shape, x_val.shape, grades_train.shape) == (
        (240, 20, 16),
        (60, 20, 16),
        (240, 20),
    )


def test_the_split_is_the_same_every_time() -> None:
    first, second = load_task_data(CLASSIFICATION), load_task_data(CLASSIFICATION)
    assert torch.equal(first.val.tensors[0], second.val.tensors[0])


def test_ranking_set_grades() -> None:
    features, relevance = make_ranking_set(queries=400, documents=25, features=8, seed=3)
    assert features.shape == (400, 25, 8)
    counts = np.bincount(relevance.astype(int).ravel(), minlength=4) / relevance.size
    # Global score quantiles 0.5, 0.8, 0.95: half 0, 30% 1, 15% 2, 5% 3.
    assert np.allclose(counts, [0.5, 0.3, 0.15, 0.05], atol=1e-3)


def test_ranking_set_is_fixed_by_its_seed() -> None:
    first, second, other = (make_ranking_set(seed=s) for s in (0, 0, 1))
    assert np.array_equal(first.features, second.features)
    assert np.array_equal(first.relevance, second.relevance)
    assert not np.array_equal(first.relevance, other.relevance)


def test_relevance_follows_the_hidden_score() -> None:
    # The features of grade-3 documents differ from those of grade-0 ones on average,
    # so there is something to learn.
    features, relevance = make_ranking_set()
    top = features[relevance == 3].mean(axis=0)
    bottom = features[relevance == 0].mean(axis=0)
    assert float(np.linalg.norm(top - bottom)) > 1.0


def test_training_batches_are_shuffled_by_the_generator() -> None:
    data = load_task_data(REGRESSION)

    def first_batch(seed: int) -> torch.Tensor:
        loaders = data.loaders(batch_size=8, generator=torch.Generator().manual_seed(seed))
        _, target = next(iter(loaders.train))
        assert isinstance(target, torch.Tensor)
        return target

    assert torch.equal(first_batch(5), first_batch(5))
    assert not torch.equal(first_batch(5), first_batch(6))
    # Validation keeps its order.
    loaders = data.loaders(batch_size=8, generator=torch.Generator().manual_seed(5))
    assert torch.equal(next(iter(loaders.val))[1], data.val.tensors[1][:8])
