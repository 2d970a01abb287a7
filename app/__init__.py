"""logmetrics: training logs in, metrics and the best run out."""

__version__ = "0.1.0"
