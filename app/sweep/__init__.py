"""`logmetrics sweep`: a tuning job from a file, run by a local worker, and its report."""

from app.sweep.runner import Sweep, SweepResult, format_report
from app.sweep.spec import SweepSpec, SweepSpecError, load_spec

__all__ = ["Sweep", "SweepResult", "SweepSpec", "SweepSpecError", "format_report", "load_spec"]
