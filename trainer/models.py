"""The model: a small multilayer perceptron, the same for every task."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MLP"]


class MLP(nn.Module):
    """Two hidden layers of `hidden_units` with ReLU and dropout, then a linear head.

    Works on the last dimension, so a ranking batch (queries, documents, features)
    gets one score per document. With one output the trailing dimension is dropped:
    regression and ranking get (examples,) and (queries, documents) scores, the shapes
    of their targets; classification gets (examples, classes) logits.
    """

    def __init__(self, features: int, outputs: int, hidden_units: int, dropout: float) -> None:
        super().__init__()
        self.outputs = outputs
        self.layers = nn.Sequential(
            nn.Linear(features, hidden_units),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_units, hidden_units),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_units, outputs),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.layers(x)
        return out.squeeze(-1) if self.outputs == 1 else out
