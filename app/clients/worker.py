"""`logmetrics worker`: runs the runs a tuning job's search hands out, on any machine.

A worker holds up to `parallel` slots. Each slot asks the service for a lease, runs the
lease's command through the shipper (hyperparameters as SageMaker delivers them), sends
a heartbeat every quarter of the lease, stops the command when the service asks (early
stopping, a stopped job) or when the run's maximum runtime passes, and reports the end.

A training job's S3 goes through one `ObjectStore` per worker, whose downloads are cached
under the worker's cache folder (`--cache-dir`); requirements.txt environments are kept
there too, each for the runs of one job (`job_cache_dir`). Its inputs are downloaded
before the command starts (app/clients/script_mode.py), and, when it ends Completed or
Stopped with an output path, its model and output folders, if not empty, are uploaded
as `<S3OutputPath>/<run>/output/model.tar.gz` and `output.tar.gz` before the run is
completed, so the service never names a model that is not there yet. Its checkpoints, if
it has a CheckpointConfig, are uploaded however it ended.

A run that ends Failed, in any mode, with text in its folder's `output/failure` (which
the SageMaker training toolkit, the SDK's drivers and a container's own program write
on error) fails with that text as its reason, after `AlgorithmError: ` as SageMaker
shows it; otherwise with the last line of its stderr.

A job is a tenant's code, running as the worker's user: it must learn nothing of the
worker's credentials and touch nothing of the worker's files. Its command inherits no
secret (`--secret-env`, every `LOGMETRICS_*`, and every `AWS_*` where the worker has
`--s3-root` roots, since the roots mean nothing if the job holds the worker's AWS keys);
`logmetrics worker` makes itself non-dumpable so the job cannot read them from its /proc
either (`protect_environment`, which does not hold against a job running as root). A
model, output or checkpoints folder the job replaced by a symlink (to the worker's
~/.aws, say), or that lies under one, is not uploaded: the run fails saying why. The
run's folder is removed afterwards even where the job made parts of it unwritable.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import shutil
import socket
import stat
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from app.clients.client import ServiceClient, ServiceError, ServiceUnavailable
from app.clients.gpus import GpuSlots, Placement
from app.clients.objects import ObjectStore, ObjectStoreError
from app.clients.opt_ml import failure_reason
from app.clients.requirements import job_cache_dir
from app.clients.script_mode import Launch, launch
from app.clients.sharing import Sharing
from app.clients.shipper import Shipped, StopSignal, ship_run
from app.clients.shipper.process import Echo
from app.clients.toolkit import RunFolders
from app.clients.training_job import TrainingJob, Unrunnable

__all__ = ["Worker", "WorkerSettings", "default_cache_dir", "default_worker_name"]

log = logging.getLogger("logmetrics.worker")
# A heartbeat refused with one of these means the run's lease is not this worker's.
_NOT_HELD = ("lease_held", "not_leased", "run_awaits_attempt")

MAX_RUNTIME_REASON = "MaxRuntimeExceeded: the run ran longer than {seconds} s"
WORKER_STOPPED_REASON = "the worker was stopped"
# How SageMaker names a failure the training program itself reports in output/failure.
ALGORITHM_ERROR = "AlgorithmError: "
# The most a run's failure reason may hold (the service's limit, SageMaker's too).
_REASON_CHARACTERS = 1024
# The worker's S3 credentials and settings: withheld from jobs where it has S3 roots.
_AWS_VARIABLES = "AWS_*"
SYMLINKED_FOLDER_REASON = (
    "cannot upload the {what}: its folder ({folder}) is a symlink or lies under one; "
    "the worker uploads only the run's own folders"
)


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/logmetrics`, or `~/.cache/logmetrics`."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "logmetrics"


@dataclass(frozen=True)
class WorkerSettings:
    """`jobs`: only these jobs (None: any). `exit_when_idle`: exit once no job has a run
    for this worker and none of its runs is going on. `poll_seconds`: how often an idle
    slot asks again. `stop_grace`: from SIGTERM to SIGKILL of a command being stopped.
    `secret_env`: variables of the worker (names or patterns such as `AWS_*`) that hold
    secrets, withheld from every command besides the `LOGMETRICS_*` ones (and the `AWS_*`
    ones where `sharing` has S3 roots: `withheld_env`). `sharing`: what of this
    machine's disk a training job may use (`--data-root`; nothing by default).
    `cache_dir`: downloads from S3 (its `s3` folder, for every run of this worker) and
    requirements.txt environments (its `jobs/<job>/venvs`, for the runs of that job) are
    kept there (None: the default). `gpus`: see `app.clients.gpus`."""

    name: str
    jobs: tuple[str, ...] | None = None
    parallel: int = 1
    exit_when_idle: bool = False
    poll_seconds: float = 2.0
    stop_grace: float = 10.0
    give_up_after: float = 3600.0
    # Training images this worker can run, each as a command (`--image NAME=COMMAND`).
    images: Mapping[str, str] = field(default_factory=dict)
    secret_env: tuple[str, ...] = ()
    sharing: Sharing = field(default_factory=Sharing)
    cache_dir: Path | None = None
    # The GPUs this worker hands out (`--gpus`), each run its own; None: it does not count
    # GPUs, and every run sees all of the machine's.
    gpus: tuple[str, ...] | None = None

    @property
    def withheld_env(self) -> tuple[str, ...]:
        """The variables withheld from every command besides `LOGMETRICS_*`: `secret_env`,
        and `AWS_*` where `sharing` has S3 roots (a job holding the worker's AWS keys
        could reach whatever they reach, and the roots would keep nothing out)."""
        if self.sharing.s3_roots and _AWS_VARIABLES not in self.secret_env:
            return (*self.secret_env, _AWS_VARIABLES)
        return self.secret_env


class Worker:
    """Run `Worker.run()` in one thread; `stop()` from another (or a signal handler)."""

    def __init__(
        self,
        client: ServiceClient,
        settings: WorkerSettings,
        echo: Callable[[str], Echo] | None = None,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self._client = client
        self.settings = settings
        self._echo = echo
        self._report = report or (lambda text: log.info("%s", text))
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._running: dict[str, StopSignal] = {}  # run key -> its stop signal
        self.finished: list[Shipped] = []
        self.failure: str | None = None  # why the worker stopped of itself, if it did
        self._cache_dir = settings.cache_dir or default_cache_dir()
        self._store = ObjectStore(self._cache_dir / "s3")
        self._gpus = GpuSlots(settings.gpus) if settings.gpus is not None else None

    def run(self) -> None:
        """Work until stopped, or (with `exit_when_idle`, or named jobs that have all
        ended) until there is no more work."""
        slots = [
            threading.Thread(target=self._slot, name=f"logmetrics-worker-{i}", daemon=True)
            for i in range(self.settings.parallel)
        ]
        for slot in slots:
            slot.start()
        for slot in slots:
            slot.join()

    def stop(self, reason: str = WORKER_STOPPED_REASON) -> None:
        """Take no more runs, and stop the running ones (they end Stopped)."""
        self._closing.set()
        with self._lock:
            for signal in self._running.values():
                signal.set(reason, infrastructure=reason == WORKER_STOPPED_REASON)

    def _slot(self) -> None:
        backoff = 0.2
        request: str | None = None
        while not self._closing.is_set():
            # One id per request, kept while it is sent again: a lease whose answer was
            # lost (the service died as it answered) is answered again, not leaked.
            request = request or uuid.uuid4().hex
            try:
                answer, placement = self._lease(request)
            except ServiceUnavailable as exc:
                log.warning("logmetrics worker: %s; retrying in %.1f s", exc, backoff)
                self._closing.wait(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            except ServiceError as exc:  # a token that may not lease, say: asking again won't help
                self.failure = f"the service refused to hand out runs: {exc}"
                self.stop()
                return
            backoff = 0.2
            request = None
            lease = answer["lease"]
            if lease is not None:
                self._execute(lease, placement)
                continue
            if self._done(answer["jobs_in_progress"]):
                return
            self._closing.wait(self.settings.poll_seconds)

    def _lease(self, request: str) -> tuple[dict[str, Any], Placement | str | None]:
        """Ask for a run; and where this worker counts GPUs, give it its own: the answer,
        and the run's GPUs (or why they could not be given; None without counting).
        Offer and placement happen under one lock, so no two slots offer one GPU."""
        jobs = list(self.settings.jobs) if self.settings.jobs is not None else None
        if self._gpus is None:
            return self._client.lease(self.settings.name, jobs, request_id=request), None
        with self._gpus.lock:
            answer = self._client.lease(
                self.settings.name, jobs, gpus=self._gpus.offer(), request_id=request
            )
            lease = answer["lease"]
            if lease is None:
                return answer, None
            try:
                placement: Placement | str = self._gpus.place(
                    _key(lease),
                    lease["job"],
                    lease.get("gpus_per_run", 0),
                    lease.get("runs_per_gpu", 1),
                )
            except ValueError as exc:
                placement = f"the worker could not give the run its GPUs: {exc}"
            return answer, placement

    def _done(self, jobs_in_progress: int) -> bool:
        with self._lock:
            busy = bool(self._running)
        if busy:
            return False
        if self.settings.exit_when_idle:
            return True
        # Named jobs that have all ended will never have work again.
        return self.settings.jobs is not None and jobs_in_progress == 0

    def _execute(self, lease: dict[str, Any], placement: Placement | str | None) -> None:
        job, run = lease["job"], lease["run"]
        key = _key(lease)
        stop = StopSignal()
        with self._lock:
            self._running[key] = stop
        if self._closing.is_set():
            stop.set(WORKER_STOPPED_REASON, infrastructure=True)
        token = lease.get("ingest_token")
        # Its own client: the run's token, and its attempt in every heartbeat and end.
        client = self._client.with_token(token, lease.get("attempt"))
        beating = threading.Thread(
            target=self._heartbeat,
            args=(
                client,
                lease,
                stop,
                placement.devices if isinstance(placement, Placement) else None,
            ),
            name=f"logmetrics-heartbeat-{run}",
            daemon=True,
        )
        held = f" on GPUs {','.join(placement.devices)}" if _holds_gpus(placement) else ""
        self._report(f"worker: {run} of {job} started{held}: {_brief(lease['hyperparameters'])}")
        workdir = Path(tempfile.mkdtemp(prefix=f"logmetrics-{run}-"))
        training_job = TrainingJob.from_lease(lease)
        if isinstance(placement, Placement):
            training_job = dataclasses.replace(training_job, gpus=placement.devices)
        beating.start()
        try:
            how = (
                placement if isinstance(placement, str) else self._how(lease, training_job, workdir)
            )
            if isinstance(how, str):
                shipped = self._refuse(client, lease, how)
            else:
                shipped = ship_run(
                    client,
                    {"name": job, "environment": lease["environment"]},
                    {"name": run, "hyperparameters": lease["hyperparameters"]},
                    how.command,
                    environment={
                        **how.environment,
                        **(placement.environment() if isinstance(placement, Placement) else {}),
                    },
                    give_up_after=self.settings.give_up_after,
                    echo=self._echo,
                    stop=stop,
                    stop_grace=self.settings.stop_grace,
                    # The worker alone decides how a command ends: a Ctrl-C meant for it
                    # must not kill the runs before it has told the service.
                    new_session=True,
                    cwd=how.cwd,
                    secret_env=self.settings.withheld_env,
                    config_dir=how.config_dir,
                    # A training job's outputs go to S3 before the service hears it ended.
                    finishing=functools.partial(self._finish, training_job, RunFolders(workdir)),
                )
        except (ServiceError, ServiceUnavailable) as exc:
            log.error("logmetrics worker: %s of %s: %s", run, job, exc)
            shipped = Shipped(run, "Failed", 1, str(exc))
        finally:
            _remove(workdir)
            if self._gpus is not None:
                self._gpus.release(key)
            with self._lock:
                del self._running[key]
            stop.set("")  # ends the heartbeat
            beating.join()
            client.close()
        self.finished.append(shipped)
        why = shipped.failure or shipped.reason
        self._report(f"worker: {run} of {job} {shipped.status}" + (f": {why}" if why else ""))

    def _how(self, lease: dict[str, Any], job: TrainingJob, workdir: Path) -> Launch | str:
        """The command to run, its inputs in place, or why none can run."""
        if lease["command"] is not None:
            return Launch(list(lease["command"]), {}, None)
        try:
            return launch(
                lease["hyperparameters"],
                lease.get("training_image"),
                job,
                self.settings.images,
                workdir,
                lease["environment"],
                self.settings.sharing,
                store=self._store,
                # Only the runs of one job share its environments: a job's code can
                # change the environment it runs in.
                cache_dir=job_cache_dir(self._cache_dir, lease["job"]),
                secret_env=self.settings.withheld_env,
            )
        except Unrunnable as exc:
            return str(exc)

    def _finish(
        self, job: TrainingJob, folders: RunFolders, status: str, reason: str | None
    ) -> tuple[str, str | None]:
        """How a run that ended with `status` ends: a failed one's reason is what it wrote
        to output/failure, if anything; then its outputs are uploaded (`_upload`)."""
        if status == "Failed":
            written = failure_reason(folders)
            if written is not None:
                reason = (ALGORITHM_ERROR + written)[:_REASON_CHARACTERS]
        return self._upload(job, folders, status, reason)

    def _upload(
        self, job: TrainingJob, folders: RunFolders, status: str, reason: str | None
    ) -> tuple[str, str | None]:
        """Upload what a run that ended with `status` leaves, as SageMaker does: its
        checkpoints however it ended, its model and output (each unless empty) unless it
        failed. How the run ends: as it would have, or Failed with why an upload failed;
        a folder that is a symlink, or lies under one, is refused before anything is
        uploaded (it would upload whatever of the worker's the job pointed it at)."""
        uploads: list[tuple[str, Callable[[], None]]] = []
        wanted = []
        if job.checkpoint is not None:
            wanted.append(("checkpoints", folders.checkpoints))
        if job.output_path is not None and status in ("Completed", "Stopped"):
            wanted += [("model", folders.model), ("output", folders.output_data)]
        for what, folder in wanted:
            if _symlinked(folders.root, folder):
                shown = folder.relative_to(folders.root).as_posix()
                refused = SYMLINKED_FOLDER_REASON.format(what=what, folder=shown)
                if status == "Failed":  # the run's own reason says more; nothing is sent
                    log.error("logmetrics worker: %s: %s", job.name, refused)
                    return status, reason
                return "Failed", refused
        if job.checkpoint is not None and folders.checkpoints.is_dir():
            checkpoints = functools.partial(
                self._store.upload_folder, folders.checkpoints, job.checkpoint.uri
            )
            uploads.append(("checkpoints", checkpoints))
        if job.output_path is not None and status in ("Completed", "Stopped"):
            prefix = f"{job.output_path.rstrip('/')}/{job.name}/output"
            for what, folder, uri in (
                ("model", folders.model, f"{prefix}/model.tar.gz"),
                ("output", folders.output_data, f"{prefix}/output.tar.gz"),
            ):
                # An empty folder is not uploaded (SageMaker would upload an empty archive):
                # a program that writes no model then needs no S3 on its worker.
                if folder.is_dir() and any(folder.iterdir()):
                    archive = functools.partial(self._store.upload_archive, folder, uri)
                    uploads.append((what, archive))
        for what, send in uploads:
            try:
                send()
            except ObjectStoreError as exc:
                if status == "Failed":  # the run's own reason says more
                    log.error("logmetrics worker: %s of %s: %s", what, job.name, exc)
                    continue
                return "Failed", f"cannot upload the {what}: {exc}"
        return status, reason

    def _refuse(self, client: ServiceClient, lease: dict[str, Any], reason: str) -> Shipped:
        """End a run this worker cannot run at once: Failed, with what it lacks, a failure
        of its launch, not of its code (the service tries it again, maybe on a worker that
        can, where the job's retry strategy allows)."""
        ended = client.complete_run(
            lease["job"], lease["run"], "Failed", reason, infrastructure_failure=True
        )
        return Shipped(lease["run"], ended["status"], 1, reason=ended.get("failure_reason"))

    def _heartbeat(
        self,
        client: ServiceClient,
        lease: dict[str, Any],
        stop: StopSignal,
        gpus: tuple[str, ...] | None,
    ) -> None:
        """Beat every quarter of the lease until the run ends, saying which GPUs it holds
        (`gpus`, where this worker counts them: then the first beat is at once, so even a
        short run's page shows them); set `stop` when the service asks, when the service
        has ended the run, or at the maximum runtime."""
        interval = max(0.05, float(lease["lease_seconds"]) / 4)
        limit = lease.get("max_runtime_seconds")
        deadline = time.monotonic() + limit if limit else None
        wait = 0.0 if gpus is not None else interval
        while not stop.wait(
            wait if deadline is None else min(wait, max(0.0, deadline - time.monotonic()))
        ):
            wait = interval
            if deadline is not None and time.monotonic() >= deadline:
                stop.set(MAX_RUNTIME_REASON.format(seconds=limit))
                return
            try:
                answer = client.heartbeat(lease["job"], lease["run"], self.settings.name, gpus)
            except ServiceUnavailable as exc:
                log.warning("logmetrics worker: heartbeat of %s: %s", lease["run"], exc)
                continue
            except ServiceError as exc:
                if exc.status == 404 or exc.body.get("error") in _NOT_HELD:
                    # Deleted, or another worker's: nothing the command does counts now.
                    stop.set(f"the run is no longer this worker's: {exc}")
                    return
                log.warning("logmetrics worker: heartbeat of %s refused: %s", lease["run"], exc)
                continue
            if answer.get("stop_requested"):
                stop.set(answer["stop_requested"])
            elif answer.get("status") != "InProgress":
                stop.set(f"the service ended the run ({answer.get('status')})")


def _symlinked(root: Path, folder: Path) -> bool:
    """Whether `folder`, below `root`, is a symlink or lies under one below `root`."""
    path = root
    for part in folder.relative_to(root).parts:
        path = path / part
        if path.is_symlink():
            return True
    return False


def _remove(workdir: Path) -> None:
    """Remove a run's folder, whatever the job did to it: a folder it made unwritable or
    unreadable (chmod 500, 000) is given back to its owner, the worker, and removal
    tried again; what still cannot go is logged, not raised."""

    def retry(function: Callable[..., Any], path: str, _error: Any) -> None:
        try:
            for folder in (os.path.dirname(path), path):
                if os.path.isdir(folder) and not os.path.islink(folder):
                    os.chmod(folder, stat.S_IRWXU)
            if os.path.isdir(path) and not os.path.islink(path):
                # Readable again, its contents are removed afresh (rmtree skipped them).
                shutil.rmtree(path, onerror=keep_going)
            else:
                function(path)
        except OSError as exc:
            log.error("logmetrics worker: cannot remove %s: %s", path, exc)

    def keep_going(_function: Callable[..., Any], path: str, error: Any) -> None:
        log.error("logmetrics worker: cannot remove %s: %s", path, error[1])

    shutil.rmtree(workdir, onerror=retry)


def _key(lease: dict[str, Any]) -> str:
    """The run's key among this worker's runs."""
    return f"{lease['job']}/{lease['run']}"


def _holds_gpus(placement: Placement | str | None) -> TypeGuard[Placement]:
    return isinstance(placement, Placement) and bool(placement.devices)


def _brief(hyperparameters: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in hyperparameters.items() if not k.startswith("_"))
