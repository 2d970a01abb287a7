"""A log chunk taken in, whichever protocol brought it (`/v1`'s chunks, CloudWatch Logs'
PutLogEvents, OTLP logs): parsed and stored, counted, and judged by early stopping.

Every write face goes through `Intake.take`, so a chunk gives the same points, the same
`/metrics` counts and the same stop decision whether `curl`, Docker's awslogs driver or
the OpenTelemetry Collector sent it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.ingest import Appended, Ingestor
from app.records import Job
from app.telemetry import Telemetry
from app.tuning.tuner import Tuner

__all__ = ["Intake", "Taken"]


@dataclass(frozen=True)
class Taken:
    """What taking a chunk did, and why the run is asked to stop (None: it is not)."""

    appended: Appended
    stop_reason: str | None


class Intake:
    """Takes chunks for every write face. Thread-safe; blocking (run it off the loop)."""

    def __init__(self, ingestor: Ingestor, tuner: Tuner, telemetry: Telemetry) -> None:
        self._ingestor = ingestor
        self._tuner = tuner
        self._telemetry = telemetry

    def take(
        self,
        job: Job,
        run: str,
        stream: str,
        data: bytes,
        offset: int | None = None,
        timestamp: datetime | None = None,
    ) -> Taken:
        """Parse and store a chunk of a run's stream (`Ingestor.append`'s arguments and
        errors), then apply the job's early stopping if it brought objective points."""
        appended = self._ingestor.append(job, run, stream, data, offset, timestamp)
        self._telemetry.chunk_stored(appended)
        stop = appended.stop_reason
        if stop is None and appended.objective_points and job.search is not None:
            stop = self._tuner.after_points(job, run)
        return Taken(appended, stop)
