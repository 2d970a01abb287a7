"""Hyperparameter sweeps: a job, one run per hyperparameter set, the best run."""

from app.sweep.runner import SweepResult, format_report, run_sweep
from app.sweep.search import hyperparameter_sets
from app.sweep.spec import SweepSpec, SweepSpecError, load_spec

__all__ = [
    "SweepResult",
    "SweepSpec",
    "SweepSpecError",
    "format_report",
    "hyperparameter_sets",
    "load_spec",
    "run_sweep",
]
