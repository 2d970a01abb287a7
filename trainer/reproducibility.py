"""Seeding and deterministic kernels, so one seed always prints the same numbers."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["make_deterministic"]


def make_deterministic(seed: int) -> torch.Generator:
    """Seed every random number generator the run uses and ask torch for deterministic ops.

    Call before any model or CUDA tensor exists.

    Args:
        seed: the `seed` hyperparameter.

    Returns:
        A generator seeded with `seed`, for the training loader's shuffling, so the
        order of batches does not depend on how much the global generator was used.
    """
    # cuBLAS reads this when it starts; deterministic matmuls on CUDA need it.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    # warn_only: an op without a deterministic kernel (none on this CPU path) should
    # warn rather than end a tuning job's run.
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    return torch.Generator().manual_seed(seed)
