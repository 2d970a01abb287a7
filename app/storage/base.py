"""The storage contract every backend fulfils; the records it takes and gives are in
`app.storage.records`."""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from app.records import (
    DefinitionsVersion,
    Job,
    JobOverview,
    JobState,
    JobStatus,
    LogRange,
    ObjectiveCurve,
    ReparseProgress,
    Run,
    RunSeries,
    RunStatus,
    SeriesPage,
    StopCause,
    Tag,
    TimedValue,
)
from app.storage.records import (
    ChunkWrite,
    DefinitionsSpec,
    JobSpec,
    LeasePlan,
    Replay,
    RunLog,
    RunPage,
    RunQuery,
    RunSnapshot,
    StreamSnapshot,
)
from app.storage.webhook_records import (
    DeliveryAttempt,
    DueDelivery,
    Webhook,
    WebhookEvent,
    WebhookSpec,
)

__all__ = ["Storage"]


class Storage(abc.ABC):
    """Jobs, runs, their metrics and raw logs.

    Thread safety: every method may be called from any thread at any time; each call is
    one transaction. Returned records are immutable snapshots.

    Immutable once written: a job (name, objective, definitions, format, environment), a
    run's name and hyperparameters, stored points and raw bytes. A run's status changes
    once, from InProgress to an ended status.

    Points: each stored point gets `seq`, its 1-based arrival number among its run's
    points of that metric; a point whose `step` is None is stored with step = seq.
    A run's objective value follows its job's strategy: the last value of the objective
    metric (`latest`), its minimum (`min`) or maximum (`max`).

    Deleted meanwhile: a `Job` or `Run` record is its row as read, and the row may be
    deleted since, its id even given to a newer job or run (SQLite reuses ids). A record
    is the stored one only if its id and creation time both match: writes check both in
    their own transaction, so nothing is written with a deleted job's definitions or
    into a deleted run's successor; a method given a job or run deleted meanwhile raises
    JobNotFound or RunNotFound, never a driver error.

    Errors: methods raise the `app.errors` classes named in their docstrings; a driver
    error that is none of those propagates as it is (a bug or an outage, not user input).
    """

    # Jobs.

    @abc.abstractmethod
    def create_job(self, spec: JobSpec) -> Job:
        """Raises: JobExists."""

    @abc.abstractmethod
    def get_job(self, name: str) -> Job:
        """Raises: JobNotFound."""

    @abc.abstractmethod
    def delete_job(self, job: Job) -> None:
        """Delete the job and all it holds: runs, points, raw logs. Raises: JobNotFound."""

    @abc.abstractmethod
    def list_jobs(self) -> list[JobOverview]:
        """Every job, newest first, with its run counts and best completed run."""

    @abc.abstractmethod
    def job_overview(self, job: Job, include_in_progress: bool = False) -> JobOverview:
        """Run counts by status and the best run (see `best_run`). Raises: JobNotFound."""

    # Runs.

    @abc.abstractmethod
    def create_run(
        self,
        job: Job,
        name: str | None,
        hyperparameters: Mapping[str, str],
        ingest_token: Callable[[int], str | None] | None = None,
    ) -> Run:
        """Create an InProgress run; a missing name is generated (`run-0001`, ...).

        Args:
            ingest_token: given the new run's id, the hash of its ingest token to keep
                (None: no token).

        Raises: RunExists; JobNotFound if the job was deleted since it was read.
        """

    @abc.abstractmethod
    def delete_run(self, job: Job, name: str) -> None:
        """Delete the run and all it holds: points, summaries, raw logs. Raises: RunNotFound."""

    @abc.abstractmethod
    def run_id(self, job: Job, name: str) -> int:
        """Raises: RunNotFound."""

    @abc.abstractmethod
    def run_token_hash(self, run_id: int) -> str | None:
        """The stored hash of a run's ingest token; None for no token or no such run."""

    @abc.abstractmethod
    def get_run(self, job: Job, name: str) -> Run:
        """The run with its metric summaries and streams. Raises: RunNotFound."""

    @abc.abstractmethod
    def list_runs(self, job: Job, query: RunQuery) -> RunPage:
        """A page of runs with their metric summaries (streams left out).

        Sorted by objective, runs without an objective value are left out; ties are
        broken by creation, earliest first. Raises: InvalidInput for a bad cursor.
        """

    @abc.abstractmethod
    def best_run(self, job: Job, statuses: Sequence[RunStatus]) -> Run | None:
        """The run with the best objective value among those with one of `statuses`.

        Ties go to the earliest created run.
        """

    # Ingest.

    @abc.abstractmethod
    def read_stream(self, job: Job, run: str, stream: str) -> StreamSnapshot:
        """Raises: RunNotFound; DefinitionsChanged if `job` was deleted since it was read
        (read the job of its name again)."""

    @abc.abstractmethod
    def chunk_stored(self, job: Job, run: str, stream: str, digest: bytes) -> bool:
        """Whether the run's stream holds a chunk of this digest (`ChunkWrite.digest`).

        Raises: RunNotFound.
        """

    @abc.abstractmethod
    def append_chunk(self, job: Job, run: Run, write: ChunkWrite) -> str | None:
        """Store a parsed chunk: points, summaries, raw bytes and the stream's new state
        (`write.state`, which the caller already holds).

        Returns: why the service asked the run to stop, if it has (the answer to the
            chunk tells the run's sender).

        Raises:
            StreamMoved: the stream's next_offset is no longer `write.expected_offset`, or
                the run was deleted since it was read.
            RunEnded: the run ended since it was read.
            DefinitionsChanged: `job` was re-parsed, or deleted, since it was read.
            ChunkStored: the stream holds a chunk of `write.digest` already.
        """

    @abc.abstractmethod
    def read_run_streams(self, job: Job, run: str) -> RunSnapshot:
        """Raises: RunNotFound; DefinitionsChanged as `read_stream`."""

    @abc.abstractmethod
    def complete_run(
        self,
        job: Job,
        run: Run,
        status: RunStatus,
        failure_reason: str | None,
        ended_at: datetime,
        flushes: Sequence[ChunkWrite],
        streams_seen: Mapping[str, int] | None = None,
    ) -> Run:
        """Store the streams' last lines (`flushes`) and end the run, at once.

        Args:
            streams_seen: every stream of the run, by name, with the offset the caller
                read when it made `flushes`; the run ends only if its streams are still
                exactly these, so no chunk that landed meanwhile keeps held bytes.

        Raises:
            StreamMoved: a stream moved or appeared since it was read.
            RunEnded: the run ended since it was read.
            DefinitionsChanged: as `append_chunk`.
        """

    @abc.abstractmethod
    def observe_statements(self, observe: Callable[[str, float], None]) -> None:
        """Call `observe(kind, seconds)` after each database statement, `kind` its first
        word (`select`, `insert`, `update`, `delete`, `with`, else `other`): for the
        operators' metrics."""

    # Re-parse.

    @abc.abstractmethod
    def replace_definitions(self, job: Job, spec: DefinitionsSpec) -> Job:
        """Give the job a new objective and definitions, keeping the old ones in its
        history; its runs are then re-parsed one by one (`replace_run_points`).

        Raises: JobNotFound.
        """

    @abc.abstractmethod
    def definitions_history(self, job: Job) -> list[DefinitionsVersion]:
        """Every version of the job's definitions, oldest first, the current one last."""

    @abc.abstractmethod
    def reparse_progress(self, job: Job) -> ReparseProgress:
        """How many of the job's runs have their points from its current definitions."""

    @abc.abstractmethod
    def runs_to_reparse(self, limit: int) -> list[tuple[str, str]]:
        """(job, run) names of runs whose points come from older definitions than their
        job's, at most `limit`, oldest job first."""

    @abc.abstractmethod
    def read_run_log(self, job: Job, run: str) -> RunLog:
        """The run with every stored chunk of its streams. Raises: RunNotFound."""

    @abc.abstractmethod
    def replace_run_points(
        self, job: Job, run: Run, seen: Mapping[str, int], replay: Replay
    ) -> bool:
        """Replace the run's summaries, points and objective value, at once, with those
        `replay` gives for its chunks (it is given those beyond `seen`, the offsets by
        stream that the caller already parsed, read under the run's lock).

        Returns: False, changing nothing, when the run's points already come from the
        job's definitions, the job was re-parsed again since `job` was read, or the run
        was deleted.

        Raises: JobNotFound if the job was deleted.
        """

    # The tuning service.

    @abc.abstractmethod
    def job_state(self, job: Job) -> JobState:
        """The job's status and completion, read fresh. Raises: JobNotFound."""

    @abc.abstractmethod
    def set_job_state(self, job: Job, expected: Sequence[JobStatus], state: JobState) -> bool:
        """Set the job's state if its status is one of `expected`; False if it was not."""

    @abc.abstractmethod
    def retry_run(
        self,
        job: Job,
        run: Run,
        reason: str,
        ended_at: datetime,
        lapsed_by: datetime | None = None,
    ) -> Run:
        """End the run's current attempt (`run.attempt`), failed for `reason`, and make it
        wait to be leased again with the same name, index and hyperparameters: its
        attempt is kept (`Run.attempts`), its streams renamed `attempt-<n>/<stream>`, its
        points, objective value, worker, lease, GPUs and ingest token cleared. The run
        as it is now.

        Raises: RunNotFound; RunEnded if it has ended, another attempt has begun, or
            (`lapsed_by` given: the reaper's) its lease was renewed past `lapsed_by`.
        """

    @abc.abstractmethod
    def note_waiting(self, job: Job, reason: str | None, kind: str) -> bool:
        """Set a job in progress's status reason to `reason` (None: no reason), where it
        has none or one that starts with `kind`, and no completion criterion is met:
        never over another reason, whatever was written since the caller read the job.
        False if nothing changed."""

    @abc.abstractmethod
    def lease_run(
        self,
        jobs: Sequence[str] | None,
        worker: str,
        lease_seconds: float,
        plan: LeasePlan,
        ingest_token: Callable[[int], str | None] | None = None,
        request: str | None = None,
    ) -> tuple[Job, Run] | None:
        """Start the next run of a job with a search, leased to `worker`.

        Jobs (those named in `jobs`, or all) are tried oldest first; each in-progress
        job with a search and no completion recorded is offered to `plan`, with all its
        runs, while no other caller leases from it; the first hyperparameters `plan`
        returns become a new run (named `run-NNNN`, in creation order), leased for
        `lease_seconds`. None when no job has a run to start.

        `request`: the worker's id of this request. A run in progress that a request of
        that id gave `worker` is given again (its lease renewed, a new ingest token), not
        another: the worker sends a request again when it got no answer.
        """

    @abc.abstractmethod
    def renew_lease(
        self,
        job: Job,
        run: str,
        worker: str,
        lease_seconds: float,
        gpus: Sequence[str] | None = None,
        attempt: int | None = None,
    ) -> Run:
        """Extend an in-progress run's lease, held by `worker`; the run as it is now
        (with any stop request). An ended run is returned as it is. `gpus`: the GPUs the
        worker gave the run, kept on it (None: the worker does not count GPUs).
        `attempt`: the attempt the worker runs (None: not said); another is
        RunAwaitsAttempt.

        Raises:
            RunNotFound.
            NotLeased: no worker was ever given the run (a heartbeat gives none).
            LeaseHeld: another worker holds the run.
        """

    @abc.abstractmethod
    def request_stop(self, job: Job, run: str | None, reason: str, cause: StopCause) -> list[str]:
        """Ask a run (or every in-progress run of the job) to stop, unless asked already.

        Returns the names of the runs asked now. Raises: RunNotFound.
        """

    @abc.abstractmethod
    def open_search_jobs(self, jobs: Sequence[str] | None) -> int:
        """How many jobs with a search (of those named, or all) have not ended."""

    @abc.abstractmethod
    def runs_in_progress(self) -> tuple[int, int]:
        """Runs in progress in all jobs, and how many of them a worker holds."""

    @abc.abstractmethod
    def expired_leases(self) -> list[tuple[str, str]]:
        """(job, run) of every in-progress run whose lease has lapsed."""

    @abc.abstractmethod
    def objective_curves(self, job: Job, run: str | None = None) -> list[ObjectiveCurve]:
        """Each run's points of the objective metric, runs oldest first.

        Args:
            job: the job.
            run: a run's name, to read only its own curve and those of the runs the
                median rule compares it with: the runs its search started before it (a
                lower search index) that did not fail. A run no search started (no
                search index) gets its own curve alone.

        Returns:
            The curves, runs oldest first; none for a `run` the job does not have.
        """

    @abc.abstractmethod
    def jobs_with_run(self, run: str) -> list[str]:
        """The names of the jobs that have a run named `run`."""

    @abc.abstractmethod
    def job_runs(self, job: Job) -> list[Run]:
        """Every run of the job, oldest first, without summaries or streams."""

    @abc.abstractmethod
    def metrics_with_points(self, job: Job) -> list[str]:
        """The names of the job's metrics that have points in some run, sorted."""

    # Tags.

    @abc.abstractmethod
    def tags(self, job: Job, run: str | None = None) -> list[Tag]:
        """The tags of the job, or of its run named `run`.

        Returns: the tags, in the order they were first added.

        Raises: JobNotFound (deleted since it was read); RunNotFound.
        """

    @abc.abstractmethod
    def add_tags(self, job: Job, run: str | None, tags: Sequence[Tag], most: int) -> list[Tag]:
        """Attach tags to the job, or to its run named `run`, all or none: a key it holds
        already takes the new value (and keeps its place), and of a key given twice the
        last value is kept.

        Args:
            most: how many tags the job or run may hold once they are added.

        Returns: all its tags after, in the order they were first added.

        Raises:
            InvalidInput: it would hold more than `most` (nothing is added).
            JobNotFound: deleted since it was read.
            RunNotFound.
        """

    @abc.abstractmethod
    def delete_tags(self, job: Job, run: str | None, keys: Sequence[str]) -> None:
        """Remove the tags of those keys from the job, or from its run named `run`; a key
        it does not hold is no error. A job's and a run's tags also go when it is deleted.

        Raises: JobNotFound (deleted since it was read); RunNotFound.
        """

    # Reads.

    @abc.abstractmethod
    def metric_series(self, job: Job, run: str, metric: str, after: int, limit: int) -> SeriesPage:
        """Points of one metric with seq > `after`, in arrival order, and the seq to
        continue after (None on the last page). An unknown metric has no points.

        Returns: a SeriesPage; it unpacks as `(points, after)`.

        Raises: RunNotFound.
        """

    @abc.abstractmethod
    def metric_values(
        self, job: Job, run: str, metric: str, start: datetime, end: datetime
    ) -> list[TimedValue]:
        """One metric's points from `start` up to `end` (excluded), by time: read where
        they are stored, however many points the run has beyond. An unknown metric has
        none.

        Raises: RunNotFound.
        """

    @abc.abstractmethod
    def job_series(self, job: Job, metric: str, max_points: int, limit: int) -> list[RunSeries]:
        """Each run's points of a metric (the first `limit` runs by creation, runs without
        points left out), thinned to at most `max_points` + 1 evenly spaced by arrival,
        the last point always kept."""

    @abc.abstractmethod
    def read_log(
        self,
        job: Job,
        run: str,
        stream: str,
        start: int = 0,
        stop: int | None = None,
        tail: int | None = None,
    ) -> LogRange:
        """The stream's raw bytes as received, from `start` (or the last `tail` bytes)
        to `stop` (default: the end).

        Raises: RunNotFound, StreamNotFound.
        """

    # Webhooks (the outbox of their deliveries).

    @abc.abstractmethod
    def webhooks(self, job: Job) -> list[Webhook]:
        """The job's webhooks in the order given, each with its latest deliveries (at
        most 20, newest first).

        Raises: JobNotFound if the job was deleted.
        """

    @abc.abstractmethod
    def replace_webhooks(self, job: Job, specs: Sequence[WebhookSpec]) -> list[Webhook]:
        """Make `specs` the job's webhooks; one whose URL the job held keeps its id and
        deliveries, the others' deliveries go with them.

        Returns: the job's webhooks after.

        Raises: JobNotFound.
        """

    @abc.abstractmethod
    def delete_webhook(self, job: Job, webhook: str) -> None:
        """Delete one webhook (by its id) with its deliveries.

        Raises: WebhookNotFound; JobNotFound.
        """

    @abc.abstractmethod
    def record_webhook_event(self, job: Job, event: WebhookEvent) -> int:
        """Store a pending delivery of `event` for each of the job's webhooks that wants
        its kind, once per webhook and `event.key`: recorded again (by this process or
        another), it stores nothing.

        Returns: how many deliveries were stored now.

        Raises: JobNotFound.
        """

    @abc.abstractmethod
    def claim_deliveries(self, now: datetime, until: datetime, limit: int) -> list[DueDelivery]:
        """Claim up to `limit` deliveries due by `now` (pending, or retrying with their
        next attempt due) that no claim holds, until `until`: no other caller gets them
        before then, or before `finish_delivery`; a claim that lapses (its process
        died) frees the delivery.

        Returns: the deliveries claimed, with their webhook's URL, format and secret.
        """

    @abc.abstractmethod
    def finish_delivery(self, delivery: str, claim: str, attempt: DeliveryAttempt) -> bool:
        """Note one attempt of a claimed delivery (its status after, the answer's
        status code or the error, when it is due again) and release the claim.

        Returns: False if the claim had lapsed and another caller took the delivery
        (this attempt is then not noted).
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections."""
