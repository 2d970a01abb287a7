"""`logmetrics sweep`: a tuning job from a file, run by a local worker, and its report."""

from app.clients.sweep.runner import Sweep, SweepResult, format_report
from app.clients.sweep.spec import SweepSpec, SweepSpecError, load_spec, timestamped

__all__ = [
    "Sweep",
    "SweepResult",
    "SweepSpec",
    "SweepSpecError",
    "format_report",
    "load_spec",
    "timestamped",
]
