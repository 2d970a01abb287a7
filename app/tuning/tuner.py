"""The tuning service: hands runs to workers, stops bad runs early, ends searches.

Everything it knows lives in the database (a job's search, its runs' hyperparameters,
objective values, leases and stop requests), so any number of service processes can
share the work, and a restart loses nothing. Its decisions are the pure functions of
`suggest`, `stopping` and `completion`; this module reads their inputs from storage and
writes their outcomes back.

A warm-started job's parents have ended, so their runs never change: each process reads
them once, outside any transaction, and keeps them (`_parents`). A lease is planned inside
the storage's transaction, which must not wait on another connection; a plan that needs
parents not read yet aborts that transaction (`_ParentsUnread`), and the lease is tried
again once they are read.
"""

from __future__ import annotations

import functools
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from app.errors import JobEnded, JobNotFound, RunAwaitsAttempt, RunEnded, RunNotFound
from app.ingest import Ingestor
from app.jobs import run_hyperparameters
from app.objective import ObjectiveType, qualifying_statuses
from app.protocol.search import EarlyStopping, SearchSpec, SearchStrategy
from app.records import (
    ENDED_JOB_STATUSES,
    Job,
    JobOverview,
    JobState,
    JobStatus,
    ObjectiveCurve,
    Run,
    RunStatus,
    StopCause,
)
from app.storage import PlannedRun, Storage
from app.tuning.completion import EndedRun, completion
from app.tuning.gpus import GpuNeed, GpuOffer, gpu_need
from app.tuning.retries import may_retry
from app.tuning.stopping import (
    MedianPoint,
    earlier_curves,
    hyperband_rule,
    median_curve,
    median_rule,
)
from app.tuning.suggest import Trial, TrialOutcome, runs_to_start, suggest
from app.webhooks.events import record_job_end

__all__ = [
    "WAITING_FOR_GPUS",
    "Lease",
    "Tuner",
    "is_sagemaker_job",
    "runs_pending",
    "search_of",
]

log = logging.getLogger("logmetrics.tuning")

JOB_STOPPED_REASON = "the job was stopped"
# The start of a job's status reason while its runs wait for a worker with enough GPUs.
WAITING_FOR_GPUS = "waiting for a worker with "


@dataclass(frozen=True)
class Lease:
    """A run handed to a worker, with what the worker needs to run it."""

    job: Job
    run: Run
    search: SearchSpec
    lease_seconds: float


def search_of(job: Job) -> SearchSpec | None:
    """The job's search, parsed once per process for each distinct search."""
    if job.search is None:
        return None
    return _parsed(json.dumps(job.search, sort_keys=True))


def runs_pending(overview: JobOverview) -> int:
    """Runs the job's search has yet to start: none once a criterion is met or the job
    is no longer in progress (and none for a job without a search)."""
    search, state = search_of(overview.job), overview.state
    if search is None or state.completion or state.status is not JobStatus.IN_PROGRESS:
        return 0
    return max(0, search.max_training_jobs() - overview.tallies.get("started", 0))


def is_sagemaker_job(job: Job) -> bool:
    """Whether the job was made through the SageMaker API: its runs are training jobs,
    their logs and metrics where SageMaker puts a training job's."""
    search = search_of(job)
    return search is not None and bool(search.sagemaker)


@functools.lru_cache(maxsize=1024)
def _parsed(search: str) -> SearchSpec:
    return SearchSpec.model_validate_json(search)


class _ParentsUnread(Exception):
    """A plan needs parents' runs this process has not read: the lease's transaction is
    abandoned, they are read, and the lease is tried again."""

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__(", ".join(names))
        self.names = tuple(names)


class Tuner:
    """Thread-safe; one per service process."""

    def __init__(
        self,
        storage: Storage,
        ingestor: Ingestor,
        lease_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._storage = storage
        self._ingestor = ingestor
        self.lease_seconds = lease_seconds
        self._clock = clock
        # Lapsed leases are reaped only once this process has been up, and its database
        # answering, for a lease: one that lapsed while no service ran, or while no
        # heartbeat could be stored, is no evidence that its worker died, and a living
        # worker beats again within a quarter lease (as app.tuning.reaper's own grace).
        self._reap_from = clock() + lease_seconds
        # A warm-started job's parents' ended runs, by parent name (see the module's doc).
        self._parents: dict[str, tuple[Trial, ...]] = {}
        self._parents_lock = threading.Lock()

    # Workers.

    def lease(
        self,
        worker: str,
        jobs: Sequence[str] | None,
        ingest_token: Callable[[int], str | None] | None = None,
        gpus: GpuOffer | None = None,
        request: str | None = None,
    ) -> Lease | None:
        """The next run for `worker` from the named jobs (or any), or None.

        Args:
            gpus: what GPUs the worker has free, if it counts them: only a run it can
                place is leased to it. None: the worker does not count GPUs, and any run
                may be leased to it.
            request: the worker's id of this request: sent again (its answer lost), it
                gets the run it got the first time, not another.
        """
        self.reap()
        unplaceable: dict[str, tuple[Job, GpuNeed]] = {}
        plan = functools.partial(self._plan, gpus=gpus, unplaceable=unplaceable)
        while True:
            try:
                leased = self._storage.lease_run(
                    jobs, worker, self.lease_seconds, plan, ingest_token, request
                )
                break
            except _ParentsUnread as unread:
                # Each pass reads some parents for good, so this ends.
                self._read_parents(unread.names)
        if gpus is not None:
            for job, need in unplaceable.values():
                self._waiting_for_gpus(job, _gpus_wanted(need, worker, gpus.total))
        if leased is None:
            return None
        job, run = leased
        search = search_of(job)
        assert search is not None  # only jobs with a search hand out runs
        if gpus is not None and gpu_need(search).gpus:
            self._waiting_for_gpus(job, None)
        log.info("leased %s of job %s to %s", run.name, job.name, worker)
        return Lease(job, run, search, self.lease_seconds)

    def _waiting_for_gpus(self, job: Job, reason: str | None) -> None:
        """Say in the job's status why its runs wait for GPUs (None: they no longer do).
        Only a reason of this kind is replaced, and only while the job is in progress,
        in one conditional write (`Storage.note_waiting`)."""
        self._storage.note_waiting(job, reason, WAITING_FOR_GPUS)

    def _plan(
        self,
        job: Job,
        state: JobState,
        runs: Sequence[Run],
        *,
        gpus: GpuOffer | None = None,
        unplaceable: dict[str, tuple[Job, GpuNeed]] | None = None,
    ) -> PlannedRun | None:
        search = search_of(job)
        if search is None or state.status is not JobStatus.IN_PROGRESS:
            return None
        started = [run for run in runs if run.search_index is not None]
        # A run tried again waits, in progress and given to no worker, for a lease before
        # the search starts another (it is not running meanwhile).
        waiting = [run for run in started if run.awaits_attempt]
        running = sum(1 for run in runs if run.status is RunStatus.IN_PROGRESS) - len(waiting)
        if running >= search.resource_limits.max_parallel_training_jobs:
            return None
        if gpus is not None:
            need = gpu_need(search)
            if not gpus.places(job.name, need):
                # A run that this worker could never place, while none of the job's runs
                # is going on: the job's status says so, rather than wait in silence.
                if unplaceable is not None and not running and not gpus.could_ever_place(need):
                    unplaceable[job.name] = (job, need)
                return None
        if waiting:
            return PlannedRun(dict(waiting[0].hyperparameters), waiting[0].name, again=True)
        names = search.warm_start.parents if search.warm_start else []
        with self._parents_lock:
            unread = [name for name in names if name not in self._parents]
        if unread:
            raise _ParentsUnread(unread)
        parents = self.parent_trials(search)
        if len(started) >= runs_to_start(search, parents):
            return None
        history = [_trial(run) for run in started]
        chosen = suggest(search, len(started), history, _maximize(job), parents)
        # A job made through SageMaker's API names its training jobs as AMT does.
        name = None
        if search.trains_one_job():
            # A job CreateTrainingJob made: its one run is that training job.
            name = job.name
        elif search.sagemaker is not None:
            name = f"{job.name}-{len(started) + 1:03d}-{secrets.token_hex(4)}"
        return PlannedRun(run_hyperparameters(job, chosen, tuned=not search.trains_one_job()), name)

    def parent_trials(self, search: SearchSpec) -> list[Trial]:
        """The ended runs of a warm-started search's parents, parent by parent (none for
        a search without parents; none of a parent deleted before this process read it).
        Reads the parents this process has not read yet: never call it inside a
        transaction."""
        if search.warm_start is None:
            return []
        self._read_parents(search.warm_start.parents)
        with self._parents_lock:
            return [trial for name in search.warm_start.parents for trial in self._parents[name]]

    def _read_parents(self, names: Sequence[str]) -> None:
        for name in names:
            with self._parents_lock:
                if name in self._parents:
                    continue
            try:
                parent = self._storage.get_job(name)
                runs = self._storage.job_runs(parent)
            except JobNotFound:
                runs = []
            trials = tuple(_trial(run) for run in runs if run.status is not RunStatus.IN_PROGRESS)
            with self._parents_lock:
                self._parents.setdefault(name, trials)

    def heartbeat(
        self,
        job: Job,
        run: str,
        worker: str,
        gpus: Sequence[str] | None = None,
        attempt: int | None = None,
    ) -> Run:
        """Extend the run's lease, which `worker` must hold in `attempt` (None: not
        said), noting the GPUs it holds there (None: not counted); the run, with any stop
        request. Raises: RunNotFound, NotLeased, LeaseHeld, RunAwaitsAttempt."""
        return self._storage.renew_lease(job, run, worker, self.lease_seconds, gpus, attempt)

    def reap(self) -> list[tuple[str, str]]:
        """End every run whose lease lapsed: Failed, "worker lost"; or, where its job's
        retry strategy allows, tried again (`retry_run`). Nothing within a lease of the
        process's start, or of a round in which the database did not answer (raised)."""
        if self._clock() < self._reap_from:
            return []
        try:
            expired = self._storage.expired_leases()
        except Exception:
            # The database did not answer: heartbeats could not be stored either.
            self._reap_from = self._clock() + self.lease_seconds
            raise
        lost = []
        for job_name, run_name in expired:
            reason = f"worker lost: no heartbeat for {self.lease_seconds:g} s"
            try:
                job = self._storage.get_job(job_name)
                run = self._storage.get_run(job, run_name)
                now = datetime.now(UTC)
                if run.lease_expires_at is None or run.lease_expires_at >= now:
                    # Tried again by another reaper that read it first (the reaper
                    # thread, a lease request), or its lease renewed since.
                    continue
                if may_retry(search_of(job), run):
                    # Checked again under the run's lock: a heartbeat may have come since.
                    self._storage.retry_run(job, run, reason, now, lapsed_by=now)
                    log.warning("run %s of job %s: worker lost; tried again", run_name, job_name)
                    self.after_end(job)
                    continue
                self._ingestor.complete(job, run_name, RunStatus.FAILED, reason)
            except (JobNotFound, RunNotFound, RunEnded):
                continue  # gone, or ended meanwhile (by its worker, or another process)
            except Exception:
                # One run the storage cannot end must not keep every other lapsed lease,
                # and every lease request that reaps first, from going on.
                log.exception("could not end run %s of job %s (worker lost)", run_name, job_name)
                continue
            log.warning("run %s of job %s: worker lost", run_name, job_name)
            lost.append((job_name, run_name))
            self.after_end(job)
        return lost

    # Runs.

    def complete_run(
        self,
        job: Job,
        run: str,
        status: RunStatus,
        reason: str | None,
        infrastructure: bool = False,
        attempt: int | None = None,
    ) -> Run:
        """End a run as its worker (or shipper) reports; a run the service asked to stop
        and that did not complete ends Stopped, with the service's reason. A failure of
        the `infrastructure` (the worker's launch, the worker stopped) is tried again
        where the job's retry strategy allows (`retry_run`): the run is then returned
        waiting for its next attempt."""
        current = self._storage.get_run(job, run)
        if current.awaits_attempt or (attempt is not None and attempt != current.attempt):
            raise RunAwaitsAttempt(
                f"run {run!r} is in its attempt {current.attempt}"
                + (", which no worker has begun" if current.awaits_attempt else "")
                + f": attempt {attempt or current.attempt - 1} has ended, and its end is not "
                "the run's",
                run=run,
                attempt=current.attempt,
            )
        if status is not RunStatus.COMPLETED:
            asked = current
            if asked.stop_reason is not None and asked.status is RunStatus.IN_PROGRESS:
                status, reason = RunStatus.STOPPED, asked.stop_reason
            elif (
                infrastructure
                and asked.status is RunStatus.IN_PROGRESS
                and may_retry(search_of(job), asked)
            ):
                why = reason or f"the attempt ended {status.value}"
                self._storage.retry_run(job, asked, why, datetime.now(UTC))
                # A job that starts no more (stopped, a criterion met) ends it at once.
                self.after_end(job)
                return self._storage.get_run(job, run)
        ended = self._ingestor.complete(job, run, status, reason)
        self.after_end(job)
        return ended

    def after_points(self, job: Job, run: str, added: int = 1) -> str | None:
        """Apply early stopping after `added` new objective points of a running run;
        returns the reason if the run is now asked to stop."""
        search = search_of(job)
        if search is None:
            return None
        hyperband = search.strategy is SearchStrategy.HYPERBAND
        if not hyperband and search.early_stopping is not EarlyStopping.AUTO:
            return None
        # The median rule needs the run's curve and its earlier runs' only; Hyperband
        # compares it with every run of its bracket.
        curves = self._storage.objective_curves(job, None if hyperband else run)
        mine = next((c for c in curves if c.run == run), None)
        if mine is None or mine.status is not RunStatus.IN_PROGRESS or mine.search_index is None:
            return None
        if hyperband:
            maximum = search.max_resource()
            assert maximum is not None  # the search requires it
            verdict = hyperband_rule(
                mine.search_index,
                mine.points,
                [
                    (c.search_index, c.points)
                    for c in curves
                    if c.search_index is not None and c.run != mine.run
                ],
                _maximize(job),
                search.hyperband.min_resource,
                maximum,
                added=added,
            )
        else:
            verdict = median_rule(mine.points, _earlier(curves, mine), _maximize(job))
        if verdict is None:
            return None
        if self._storage.request_stop(job, run, verdict.reason, StopCause.EARLY_STOPPING):
            log.info("run %s of job %s: %s", run, job.name, verdict.reason)
        return verdict.reason

    def median_curve(self, job: Job) -> list[MedianPoint]:
        """The median of the runs' running averages at each step: what the median rule
        compares a run's value against."""
        curves = [
            c for c in self._storage.objective_curves(job) if c.status is not RunStatus.FAILED
        ]
        steps = sorted({step for curve in curves for step, _ in curve.points})
        return median_curve([c.points for c in curves], steps)

    # Jobs.

    def stop_job(self, job: Job) -> JobState:
        """Stop a job: no more runs; running ones are asked to stop; Stopped once none is
        left. Stopping a stopping or stopped job changes nothing.

        Raises: JobEnded if it has completed or failed.
        """
        state = self._storage.job_state(job)
        if state.status in (JobStatus.COMPLETED, JobStatus.FAILED):
            raise JobEnded(job.name, state.status.value)
        if state.status is JobStatus.IN_PROGRESS:
            self._storage.set_job_state(
                job,
                [JobStatus.IN_PROGRESS],
                JobState(JobStatus.STOPPING, completion=state.completion),
            )
        self._storage.request_stop(job, None, JOB_STOPPED_REASON, StopCause.JOB_STOPPED)
        self.after_end(job)
        return self._storage.job_state(job)

    def after_end(self, job: Job) -> JobState:
        """Move the job on after one of its runs ended: record a completion criterion it
        meets, and end it once it starts no more runs and none is running."""
        state = self._storage.job_state(job)
        if state.status in ENDED_JOB_STATUSES:
            return state
        search = search_of(job)
        if search is None and state.status is JobStatus.IN_PROGRESS:
            return state  # a job that watches runs ends only when stopped
        runs = self._storage.job_runs(job)
        if state.status is JobStatus.STOPPING or state.completion is not None:
            runs = self._end_awaiting(job, runs)
        running = any(run.status is RunStatus.IN_PROGRESS for run in runs)
        now = datetime.now(UTC)
        if state.status is JobStatus.STOPPING:
            if not running:
                self._storage.set_job_state(
                    job,
                    [JobStatus.STOPPING],
                    JobState(JobStatus.STOPPED, completion=state.completion, ended_at=now),
                )
            return self._state_after(job)
        assert search is not None  # checked above for a job in progress
        if state.completion is None:
            criterion = completion(search, _ended(runs), _maximize(job), job.objective_metric)
            started = sum(1 for run in runs if run.search_index is not None)
            if criterion is not None:
                state = JobState(
                    state.status, completion=(criterion.name, criterion.detail), completed_at=now
                )
            elif started >= runs_to_start(search, self.parent_trials(search)) and not running:
                detail = f"all {started} runs the search may start have ended"
                state = JobState(
                    state.status, completion=("MaxNumberOfTrainingJobs", detail), completed_at=now
                )
        if state.completion is not None and any(run.awaits_attempt for run in runs):
            runs = self._end_awaiting(job, runs)
            running = any(run.status is RunStatus.IN_PROGRESS for run in runs)
        if state.completion is not None and not running:
            state = _final(state, runs, now)
        self._storage.set_job_state(job, [JobStatus.IN_PROGRESS], state)
        return self._state_after(job)

    def _state_after(self, job: Job) -> JobState:
        """The job's state after `after_end` moved it on; an end is told to its webhooks
        (once, however many processes see it end)."""
        state = self._storage.job_state(job)
        record_job_end(self._storage, job, state)
        return state

    def _end_awaiting(self, job: Job, runs: Sequence[Run]) -> list[Run]:
        """End the runs that wait for their next attempt of a job that starts no more
        (stopped, or a completion criterion met): Stopped if the job was stopped (the
        stop was asked of them too), else Failed as their last attempt failed. The job's
        runs as they are after."""
        ended = False
        for run in runs:
            if not run.awaits_attempt:
                continue
            found = self._storage.get_run(job, run.name)
            status = RunStatus.FAILED if found.stop_reason is None else RunStatus.STOPPED
            reason = found.stop_reason or (found.attempts[-1].reason if found.attempts else None)
            try:
                self._ingestor.complete(job, run.name, status, reason)
                ended = True
            except (RunNotFound, RunEnded):
                continue  # ended, or deleted, meanwhile
        return list(self._storage.job_runs(job)) if ended else list(runs)


def _final(state: JobState, runs: Sequence[Run], now: datetime) -> JobState:
    """The search is done: Completed, or Failed if no run gave an objective value."""
    counted = qualifying_statuses(include_in_progress=False)
    if runs and not any(r.status in counted and r.objective_value is not None for r in runs):
        reason = f"none of the {len(runs)} runs reported a value of the objective metric"
        return JobState(JobStatus.FAILED, reason, state.completion, state.completed_at, now)
    return JobState(JobStatus.COMPLETED, None, state.completion, state.completed_at, now)


def _trial(run: Run) -> Trial:
    """A run as the search is told it: its value counts once it completed or stopped."""
    counted = qualifying_statuses(include_in_progress=False)
    return Trial(
        run.hyperparameters,
        TrialOutcome(
            run.status is not RunStatus.IN_PROGRESS,
            run.objective_value if run.status in counted else None,
        ),
    )


def _ended(runs: Sequence[Run]) -> list[EndedRun]:
    counted = qualifying_statuses(include_in_progress=False)
    ended = [run for run in runs if run.ended_at is not None]
    ended.sort(key=lambda run: (run.ended_at, run.id))
    return [
        EndedRun(run.name, run.objective_value if run.status in counted else None) for run in ended
    ]


def _earlier(
    curves: Sequence[ObjectiveCurve], mine: ObjectiveCurve
) -> list[Sequence[tuple[int, float]]]:
    """The curves the median rule compares a run with (`earlier_curves`, as the run's
    page explains it)."""
    return [c.points for c in earlier_curves(curves, mine)]


def _maximize(job: Job) -> bool:
    return job.objective_type is ObjectiveType.MAXIMIZE


def _gpus_wanted(need: GpuNeed, worker: str, total: int) -> str:
    return (
        f"{WAITING_FOR_GPUS}{max(need.gpus, 1)} GPU{'s' if need.gpus > 1 else ''}: each run "
        f"holds {need.words()}, and the last worker that asked ({worker}) has {total}"
    )
