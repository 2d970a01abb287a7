"""A synthetic learning-to-rank set, generated, never downloaded.

Each query has the same number of candidate documents, each a vector of features.
A hidden scoring function, part linear and part not, plus noise, scores every
document; global quantiles of those scores give graded relevance 0-3
(about 50% 0, 30% 1, 15% 2, 5% 3). The model never sees the scoring function, only
features and grades.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = ["RankingSet", "make_ranking_set"]

# Score quantiles where relevance steps up to 1, 2 and 3.
_GRADE_QUANTILES = (0.50, 0.80, 0.95)


class RankingSet(NamedTuple):
    """features: (queries, documents, features) float32; relevance: (queries, documents)
    float32 grades 0-3."""

    features: npt.NDArray[np.float32]
    relevance: npt.NDArray[np.float32]


def make_ranking_set(
    queries: int = 300,
    documents: int = 20,
    features: int = 16,
    noise: float = 0.3,
    seed: int = 0,
) -> RankingSet:
    """Generate the ranking set; the same arguments always give the same arrays.

    Args:
        queries: number of queries.
        documents: candidate documents per query.
        features: features per document (at least 2).
        noise: standard deviation of the noise added to the hidden score.
        seed: seed of the generator; the data set is fixed by it alone.

    Returns:
        The features and graded relevance.
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((queries, documents, features))
    linear = rng.standard_normal(features) / np.sqrt(features)
    direction = rng.standard_normal(features) / np.sqrt(features)
    score = (
        x @ linear
        + 0.5 * np.sin(2.0 * (x @ direction))
        + 0.3 * x[..., 0] * x[..., 1]
        + noise * rng.standard_normal((queries, documents))
    )
    thresholds = np.quantile(score, _GRADE_QUANTILES)
    relevance = np.searchsorted(thresholds, score, side="right")
    return RankingSet(x.astype(np.float32), relevance.astype(np.float32))
