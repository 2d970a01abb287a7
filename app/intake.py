"""A log chunk taken in, whichever protocol brought it (`/v1`'s chunks, CloudWatch Logs'
PutLogEvents, OTLP logs): parsed and stored, counted, and judged by early stopping.

Every write face goes through `Intake.take`, so a chunk gives the same points, the same
`/metrics` counts and the same stop decision whether `curl`, Docker's awslogs driver or
the OpenTelemetry Collector sent it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

import regex

from app.errors import InvalidInput, JobEnded, RunExists, RunNotFound
from app.ingest import Appended, Ingestor
from app.jobs import NAME_PATTERN, run_hyperparameters
from app.records import Job, JobStatus
from app.storage import Storage
from app.telemetry import Telemetry
from app.tuning.tuner import Tuner

__all__ = ["Intake", "Taken"]

_RUN_NAME = regex.compile(NAME_PATTERN)


@dataclass(frozen=True)
class Taken:
    """What taking a chunk did, and why the run is asked to stop (None: it is not)."""

    appended: Appended
    stop_reason: str | None


class Intake:
    """Takes chunks for every write face. Thread-safe; blocking (run it off the loop)."""

    def __init__(
        self, storage: Storage, ingestor: Ingestor, tuner: Tuner, telemetry: Telemetry
    ) -> None:
        self._storage = storage
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

    def open_run(self, job: Job, run: str) -> None:
        """Make sure a shipper may write to the run: it exists, or the job has no search
        and is in progress, and it is created (without hyperparameters) as `POST /v1/jobs/
        {job}/runs` would. A search's runs are started by the search only.

        Raises: RunNotFound (a search's run that does not exist), JobEnded, InvalidInput
            (a name `/v1` would refuse).
        """
        try:
            self._storage.get_run(job, run)
            return
        except RunNotFound:
            if job.search is not None:
                raise
        if not _RUN_NAME.fullmatch(run):
            raise InvalidInput(
                f"run name {run[:100]!r} is not 1 to 63 letters, digits and "
                "hyphens, starting and ending with a letter or digit"
            )
        state = self._storage.job_state(job)
        if state.status is not JobStatus.IN_PROGRESS:
            raise JobEnded(job.name, state.status.value)
        with contextlib.suppress(RunExists):  # a concurrent write created it
            self._storage.create_run(job, run, run_hyperparameters(job, {}))
