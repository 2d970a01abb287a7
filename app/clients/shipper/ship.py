"""`logmetrics run`: one training command as one run of a job."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from app.clients.client import ServiceClient, ServiceError, ServiceUnavailable
from app.clients.shipper.environment import inherited_environment
from app.clients.shipper.process import Echo, Outcome, run_command
from app.clients.shipper.sender import Sender, SenderSettings
from app.clients.shipper.spool import Spool
from app.clients.shipper.stop import StopSignal
from app.clients.toolkit import decoded_hyperparameters

__all__ = ["Finishing", "Shipped", "ship", "ship_run"]

log = logging.getLogger("logmetrics.shipper")
T = TypeVar("T")
# A run's ending, (status, reason), to how it ends: ship_run's `finishing`.
Finishing = Callable[[str, str | None], tuple[str, str | None]]


@dataclass(frozen=True)
class Shipped:
    """A finished run: its name and status, the command's exit code, and, if the logs
    could not all be delivered, why and where the rest was saved."""

    run: str
    status: str
    returncode: int
    failure: str | None = None
    saved: tuple[str, ...] = ()
    reason: str | None = None  # why the run failed or was stopped, as the service keeps it

    @property
    def exit_code(self) -> int:
        """The command's exit code, or 1 if it succeeded but its logs were not delivered."""
        return self.returncode or (1 if self.failure else 0)


def ship(
    client: ServiceClient,
    job: str,
    command: Sequence[str],
    *,
    name: str | None = None,
    hyperparameters: Mapping[str, str] | None = None,
    environment: Mapping[str, str] | None = None,
    settings: SenderSettings | None = None,
    give_up_after: float = 3600.0,
    spill_dir: str | None = None,
    echo: Callable[[str], Echo] | None = None,
    secret_env: Iterable[str] = (),
) -> Shipped:
    """Create a run, run `command` with the run's hyperparameters, ship its output, end it.

    Hyperparameters reach the command as SageMaker delivers them: a hyperparameters.json
    in a fresh `SM_INPUT_CONFIG_DIR`, and `SM_HPS`. The job's environment and `environment`
    are set for it too; this process's credentials are not (see `ship_run`). If the
    service asks the run to stop (its job was stopped), the command gets SIGTERM, then
    SIGKILL, and the run ends Stopped.

    Args:
        give_up_after: how long to keep retrying an unreachable service, before the
            command starts and again after it ends; unsent bytes are then saved to files.
        echo: given the run's name, how to show the command's output (default: as is).
        secret_env: more variables of this process the command must not inherit.
    """
    job_info = _retrying(lambda: client.get_job(job), give_up_after)
    run = _retrying(
        lambda: client.create_run(job, name, dict(hyperparameters or {})), give_up_after
    )
    # With access control on, everything after creating the run uses the run's own
    # token, which may only post its logs and complete it.
    token = run.get("ingest_token")
    run_client = client.with_token(token) if token else client
    try:
        return ship_run(
            run_client,
            job_info,
            run,
            command,
            environment=environment,
            settings=settings,
            give_up_after=give_up_after,
            spill_dir=spill_dir,
            echo=echo,
            secret_env=secret_env,
        )
    finally:
        if token:
            run_client.close()


def ship_run(
    client: ServiceClient,
    job: Mapping[str, Any],
    run: Mapping[str, Any],
    command: Sequence[str],
    *,
    environment: Mapping[str, str] | None = None,
    settings: SenderSettings | None = None,
    give_up_after: float = 3600.0,
    spill_dir: str | None = None,
    echo: Callable[[str], Echo] | None = None,
    stop: StopSignal | None = None,
    stop_grace: float = 10.0,
    new_session: bool = False,
    cwd: str | None = None,
    secret_env: Iterable[str] = (),
    config_dir: str | None = None,
    finishing: Finishing | None = None,
) -> Shipped:
    """Run `command` as the existing run `run` of `job` (each as the API shows it: a
    name, an environment, hyperparameters), ship its output, and end the run.

    The command inherits this process's environment without its credentials: every
    `LOGMETRICS_*` variable (the admin token above all) and those `secret_env` names are
    withheld. It holds no token of the service at all: this process ships its output.

    Args:
        stop: set to stop the command (SIGTERM, then SIGKILL after `stop_grace`): the
            run then ends Stopped with the signal's reason. The service's requests to
            stop, in its answers to chunks, set it too.
        secret_env: names (or shell patterns, `AWS_*`) of more variables that hold
            secrets of this process, withheld from the command.
        config_dir: the folder to write hyperparameters.json in (SM_INPUT_CONFIG_DIR),
            the caller's to remove; default a fresh one, removed at the end.
        finishing: called once the command has ended and its output is delivered, with
            the status and reason the run would end with, before the run is completed:
            what it returns is how the run ends (a model that could not be uploaded
            fails it, say). Not called when the command could not start, or its output
            could not all be delivered.
    """
    job_name, run_name = job["name"], run["name"]
    stop = stop or StopSignal()
    own_config = config_dir is None
    config_dir = config_dir or tempfile.mkdtemp(prefix="logmetrics-config-")
    try:
        child_environment = _environment(job, run, config_dir, environment or {}, secret_env)
        spools = {"stdout": Spool(spill_dir=spill_dir), "stderr": Spool(spill_dir=spill_dir)}
        sender = Sender(client, job_name, run_name, spools, settings, stop)
        sender.start()
        try:
            show = echo(run_name) if echo is not None else None
            outcome = run_command(
                command,
                child_environment,
                spools,
                sender.nudge,
                show,
                stop_grace,
                stop,
                new_session,
                cwd,
            )
        except OSError as exc:  # the command could not be started at all
            sender.finish(give_up_after)
            cannot = f"cannot run {command[0]!r}: {exc.strerror or exc}"
            _end(client, job_name, run_name, "Failed", cannot, give_up_after)
            return Shipped(run_name, "Failed", 127, cannot, reason=cannot)
        sender.finish(give_up_after)
        status, reason = _ending(outcome)
        if sender.failure is not None:
            saved = tuple(_save_unsent(spools, run_name))
            return Shipped(run_name, status, outcome.returncode, sender.failure, saved)
        if finishing is not None:
            status, reason = finishing(status, reason)
        # Stopped because its worker was: the machine's failure, not the code's.
        machine = status == "Stopped" and stop.infrastructure
        ended, kept_reason = _end(
            client, job_name, run_name, status, reason, give_up_after, machine
        )
        for spool in spools.values():
            spool.close()
        return Shipped(run_name, ended, outcome.returncode, reason=kept_reason)
    finally:
        if own_config:
            shutil.rmtree(config_dir, ignore_errors=True)


def _end(
    client: ServiceClient,
    job: str,
    run: str,
    status: str,
    reason: str | None,
    give_up_after: float,
    infrastructure: bool = False,
) -> tuple[str, str | None]:
    """Complete the run; the status and reason it ended with (the service's, if it
    ended it first: a run whose worker was declared lost, say; InProgress for a run the
    service tries again, `infrastructure` being its worker's failure, not its code's)."""
    try:
        ended = _retrying(
            lambda: client.complete_run(job, run, status, reason, infrastructure),
            give_up_after,
        )
    except ServiceError as exc:
        if exc.body.get("error") != "run_ended":
            raise
        return str(exc.body.get("status", status)), None
    return str(ended["status"]), ended.get("failure_reason")


def _ending(outcome: Outcome) -> tuple[str, str | None]:
    """The run's status and failure reason: Stopped on a stop request (with its reason),
    Ctrl-C or SIGTERM, Completed on exit code 0, else Failed with the last line the
    command wrote to stderr."""
    if outcome.stopped is not None:
        return "Stopped", outcome.stopped
    if outcome.interrupted:
        return "Stopped", None
    if outcome.returncode == 0:
        return "Completed", None
    return "Failed", outcome.last_stderr_line or f"exit code {outcome.returncode}"


def _environment(
    job: Mapping[str, Any],
    run: Mapping[str, Any],
    config_dir: str,
    extra: Mapping[str, str],
    secret_env: Iterable[str],
) -> dict[str, str]:
    hyperparameters = run["hyperparameters"]
    (Path(config_dir) / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    # The job's environment and `extra` come after: what the job's author sets is theirs.
    environment = inherited_environment(os.environ, secret_env)
    environment.setdefault("PYTHONUNBUFFERED", "1")  # a Python trainer's lines arrive live
    environment.update(job.get("environment", {}))
    # SM_HPS as the SageMaker training toolkit sets it, for every command: the values
    # JSON-decoded (hyperparameters.json keeps them as the text SageMaker sends).
    hps = json.dumps(decoded_hyperparameters(hyperparameters))
    environment.update({"SM_INPUT_CONFIG_DIR": config_dir, "SM_HPS": hps})
    environment.update(extra)
    environment.update({"LOGMETRICS_JOB": job["name"], "LOGMETRICS_RUN": run["name"]})
    return environment


def _retrying(call: Callable[[], T], give_up_after: float) -> T:
    deadline = time.monotonic() + give_up_after
    backoff = 0.2
    while True:
        try:
            return call()
        except ServiceUnavailable as exc:
            if time.monotonic() + backoff > deadline:
                raise
            log.warning("logmetrics: %s; retrying in %.1f s", exc, backoff)
            time.sleep(backoff)
            backoff = min(backoff * 2, 30.0)


def _save_unsent(spools: Mapping[str, Spool], run: str) -> list[str]:
    saved = []
    for stream, spool in spools.items():
        if spool.pending():
            path = os.path.abspath(f"logmetrics-unsent-{run}-{stream}.log")
            count = spool.save(path)
            saved.append(f"{path} ({count} bytes from offset {spool.base})")
        spool.close()
    return saved
