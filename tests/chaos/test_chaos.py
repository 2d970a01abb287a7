"""Durable search, proven by crashes (issue 27).

A 12-run search, two real `logmetrics worker` processes of two slots each, and a trainer
that prints a known sequence of metric lines over a few seconds, so that chunks are in
flight whenever the service goes. During the search the service (a real `logmetrics
serve` child process) is SIGKILLed twice and restarted, once after an outage longer than
the lease (LOGMETRICS_LEASE_SECONDS=3, 6 s down); on PostgreSQL the database server is
restarted once as well. Then, each a literal check: the job ended Completed with exactly
its MaxNumberOfTrainingJobs runs; search indexes 0..11 each handed out once; every run
that started Completed (no run was lost to the outages); each run's stored points are
exactly the lines its program printed (none lost, none twice); the workers exited 0.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from app.clients.service_process import ServiceProcess
from app.storage import SqlStorage
from tests.postgres import PostgresUnavailable, fresh_database, postgres_server

pytestmark = pytest.mark.slow

RUNS = 12
LEASE_SECONDS = 3
LONG_OUTAGE = 6.0  # longer than the lease: the runs' leases lapse while no service runs
SHORT_OUTAGE = 1.0
LINES = 16  # each run prints this many metric lines, one every LINE_PAUSE seconds
LINE_PAUSE = 0.25

# The trainer notes that it started (with its pid, so none outlives the test) and every
# line it printed, then prints them over about four seconds.
TRAINER = textwrap.dedent(
    """
    import json, os, sys, time
    notes, lines, pause = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    run = os.environ["LOGMETRICS_RUN"]
    number = int(run.rsplit("-", 1)[1])
    with open(notes, "a") as f:
        f.write(json.dumps({"run": run, "pid": os.getpid(), "hps": os.environ["SM_HPS"]}) + "\\n")
    for step in range(1, lines + 1):
        line = f"epoch {step} acc={step / 100 + number / 10000:.4f};"
        print(line, flush=True)
        with open(notes, "a") as f:
            f.write(json.dumps({"run": run, "line": line}) + "\\n")
        time.sleep(pause)
    """
)

SEARCHES: dict[str, dict[str, Any]] = {
    "Random": {
        "strategy": "Random",
        "parameter_ranges": {
            "ContinuousParameterRanges": [{"Name": "lr", "MinValue": 0.001, "MaxValue": 0.1}]
        },
    },
    "Bayesian": {
        "strategy": "Bayesian",
        "parameter_ranges": {
            "ContinuousParameterRanges": [{"Name": "lr", "MinValue": 0.001, "MaxValue": 0.1}],
            "CategoricalParameterRanges": [{"Name": "opt", "Values": ["adam", "sgd"]}],
        },
    },
    # 3 x 4 = 12 combinations: each must be handed out exactly once.
    "Grid": {
        "strategy": "Grid",
        "parameter_ranges": {
            "CategoricalParameterRanges": [{"Name": "opt", "Values": ["adam", "sgd", "rms"]}],
            "IntegerParameterRanges": [{"Name": "batch", "MinValue": 1, "MaxValue": 4}],
        },
    },
}


@dataclass(frozen=True)
class Database:
    """The service's database; `restart` restarts its server (None: SQLite, no server)."""

    url: str
    restart: Callable[[], None] | None


@dataclass
class Figures:
    """What the search lived through, for the issue's note."""

    outages: list[str] = field(default_factory=list)
    runs: int = 0
    retries: int = 0  # runs started again after a failure (RetryStrategy): none exist yet
    sends_retried: int = 0  # the workers' requests answered by no service, then sent again
    duplicate_indexes: int = 0
    duplicate_points: int = 0


@dataclass(frozen=True)
class Outcome:
    """What the service holds at the end: the job, its runs, each run's points of `acc`
    as (step, value) and its stdout."""

    job: dict[str, Any]
    runs: list[dict[str, Any]]
    points: dict[str, list[tuple[int, float]]]
    logs: dict[str, bytes]


def _restartable(server_url: str) -> Callable[[], None]:
    """How to restart the PostgreSQL server of `server_url`: tests/postgres.py starts it
    with `pg_ctl`, which keeps its options, so `pg_ctl restart` brings it back as it was."""
    engine = create_engine(server_url)
    with engine.connect() as conn:
        data = Path(conn.execute(text("SHOW data_directory")).scalar_one())
    engine.dispose()
    pg_ctl = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))[-1]
    command = [str(pg_ctl), "-D", str(data), "-m", "fast", "-w", "-t", "60", "restart"]
    if os.geteuid() == 0:  # the server runs as postgres (initdb refuses root)
        command = ["runuser", "-u", "postgres", "--", *command]

    def restart() -> None:
        # The server started by pg_ctl keeps its stdout: a file, so no pipe is held open.
        with (data.parent / "restart.log").open("ab") as log:
            subprocess.run(command, check=True, stdout=log, stderr=subprocess.STDOUT)

    return restart


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database of the kind the test names; on PostgreSQL, on a server of the
    test's own, since it is restarted (the session's server is the other tests')."""
    if request.param == "sqlite":
        yield Database(f"sqlite:///{tmp_path / 'chaos.db'}", None)
        return
    if os.environ.get("LOGMETRICS_TEST_POSTGRES_URL"):
        pytest.skip("the PostgreSQL restart needs a server of the test's own")
    try:
        with postgres_server() as server_url:
            yield Database(fresh_database(server_url), _restartable(server_url))
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))


@pytest.fixture
def trainer(tmp_path: Path) -> Iterator[tuple[list[str], Path]]:
    """The trainer's command and its notes; no command it started outlives the test."""
    path = tmp_path / "trainer.py"
    path.write_text(TRAINER)
    notes = tmp_path / "notes.jsonl"
    yield [sys.executable, str(path), str(notes), str(LINES), str(LINE_PAUSE)], notes
    for note in _read_notes(notes):
        if "pid" in note:
            with contextlib.suppress(ProcessLookupError):
                os.kill(note["pid"], signal.SIGKILL)


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[[str, str], subprocess.Popen[bytes]]]:
    """Start `logmetrics worker --job chaos --parallel 2`; its output goes to a file."""
    started: list[subprocess.Popen[bytes]] = []

    def start(url: str, name: str) -> subprocess.Popen[bytes]:
        with (tmp_path / f"{name}.log").open("wb") as log:
            worker = subprocess.Popen(
                [
                    *(sys.executable, "-m", "app", "worker", "--url", url, "--job", "chaos"),
                    *("--parallel", "2", "--poll", "0.2", "--name", name),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=tmp_path,  # where a worker saves output it could not send
            )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def _read_notes(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def _started(notes: Path) -> list[str]:
    """The runs whose program started, in the order they started (once per start)."""
    return [note["run"] for note in _read_notes(notes) if "pid" in note]


def _wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _expected_line(run: str, step: int) -> str:
    """The trainer's line `step` of `run` (it prints these, and the test checks it did)."""
    number = int(run.rsplit("-", 1)[1])
    return f"epoch {step} acc={step / 100 + number / 10000:.4f};"


def _outage(service: ServiceProcess, seconds: float, environment: dict[str, str]) -> float:
    """SIGKILL the service, as a crash would; start it again `seconds` later. How long it
    did not answer: the pause and its start."""
    killed = time.monotonic()
    service.kill()
    time.sleep(seconds)
    service.start(environment)
    return time.monotonic() - killed


def _outcome(url: str) -> Outcome:
    with httpx.Client(base_url=url, timeout=30) as api:
        job = api.get("/v1/jobs/chaos").json()
        runs = api.get("/v1/jobs/chaos/runs", params={"sort_by": "name", "limit": 1000})
        names = [run["name"] for run in runs.json()["runs"]]
        points = {
            name: [
                (point["step"], point["value"])
                for point in api.get(
                    f"/v1/jobs/chaos/runs/{name}/metrics/acc", params={"limit": 100000}
                ).json()["points"]
            ]
            for name in names
        }
        logs = {
            name: api.get(f"/v1/jobs/chaos/runs/{name}/logs", params={"stream": "stdout"}).content
            for name in names
        }
    return Outcome(job, runs.json()["runs"], points, logs)


def _search_indexes(database_url: str) -> Counter[int | None]:
    """How many runs of the job hold each search index (the API does not show them)."""
    storage = SqlStorage(database_url)
    try:
        return Counter(run.search_index for run in storage.job_runs(storage.get_job("chaos")))
    finally:
        storage.close()


# Two gaps make a run fail under these outages, each seen by this test (about one run in
# five or ten), which the lead's changes to app/tuning/tuner.py and the worker close:
# Tuner.lease reaps at once, so a restarted service's first lease request ends the runs
# whose leases lapsed in the outage although their workers beat again a moment later
# (test_lapsed_leases.py shows it every time); and a lease whose answer the SIGKILL cut
# off leaves a run that no worker runs, which fails as worker lost (to be retried by the
# RetryStrategy, or handed back to the worker that asks again).
KNOWN_GAPS = pytest.mark.xfail(
    reason="Tuner.lease reaps at once after a restart; a lease whose answer was lost is "
    "not retried (see the comment above)",
    strict=False,
)


@KNOWN_GAPS
@pytest.mark.parametrize(
    ("strategy", "database"),
    [("Random", "sqlite"), ("Bayesian", "postgresql"), ("Grid", "sqlite")],
    ids=["random-sqlite", "bayesian-postgresql", "grid-sqlite"],
    indirect=["database"],
)
def test_a_search_survives_killed_services_and_a_database_restart(
    strategy: str,
    database: Database,
    trainer: tuple[list[str], Path],
    start_worker: Callable[[str, str], subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    command, notes = trainer
    environment = {**os.environ, "LOGMETRICS_LEASE_SECONDS": str(LEASE_SECONDS)}
    service = ServiceProcess(database.url, tmp_path / "service.log")
    service.start(environment)
    figures = Figures()
    job = {
        "name": "chaos",
        "objective": {"MetricName": "acc", "Type": "Maximize"},
        "metric_definitions": [{"Name": "acc", "Regex": r"acc=(\S+);"}],
        "search": {
            **SEARCHES[strategy],
            "command": command,
            "random_seed": 27,
            "resource_limits": {
                "max_number_of_training_jobs": RUNS,
                "max_parallel_training_jobs": 4,
            },
        },
    }
    try:
        created = httpx.post(f"{service.url}/v1/jobs", json=job, timeout=30)
        assert created.status_code == 201, created.text
        workers = [start_worker(service.url, name) for name in ("w1", "w2")]

        # Runs going on, lines in flight: the service is down for longer than a lease.
        _wait_for(lambda: len(_started(notes)) >= 3, 60, "three runs to start")
        down = _outage(service, LONG_OUTAGE, environment)
        figures.outages.append(f"service SIGKILLed, {down:.1f} s without an answer")
        if database.restart is not None:
            _wait_for(lambda: len(_started(notes)) >= 6, 60, "six runs to start")
            database.restart()
            figures.outages.append("PostgreSQL restarted (pg_ctl restart -m fast)")
        _wait_for(lambda: len(_started(notes)) >= 9, 60, "nine runs to start")
        down = _outage(service, SHORT_OUTAGE, environment)
        figures.outages.append(f"service SIGKILLed, {down:.1f} s without an answer")

        codes = [worker.wait(timeout=120) for worker in workers]
        outcome = _outcome(service.url)
    finally:
        service.stop()
    indexes = _search_indexes(database.url)
    outputs = {path.name: path.read_text() for path in sorted(tmp_path.glob("w*.log"))}
    names = [f"run-{i:04d}" for i in range(1, RUNS + 1)]
    printed: dict[str, list[str]] = {name: [] for name in names}
    for note in _read_notes(notes):
        if "line" in note:
            printed[note["run"]].append(note["line"])

    figures.runs = len(outcome.runs)
    figures.retries = 0  # no RetryStrategy yet: a run is never started again
    figures.sends_retried = sum(
        output.count("did not answer") + output.count("answered 5") for output in outputs.values()
    )
    figures.duplicate_indexes = sum(count - 1 for count in indexes.values())
    figures.duplicate_points = sum(len(p) - len(set(p)) for p in outcome.points.values())
    backend = "SQLite" if database.restart is None else "PostgreSQL"
    print(f"\n{strategy} on {backend}: {figures}")

    assert codes == [0, 0], outputs
    assert (outcome.job["status"], [run["name"] for run in outcome.runs]) == ("Completed", names)
    # Every run that started completed. Once the RetryStrategy lands, the place for "or
    # was retried per the strategy": a run Failed by the infrastructure is then followed
    # by its retry, which completed, and the retries are counted in `figures.retries`.
    assert [(run["name"], run["status"], run["failure_reason"]) for run in outcome.runs] == [
        (name, "Completed", None) for name in names
    ], outputs
    assert sorted(_started(notes)) == names  # each run's program started once
    assert sorted(indexes.items()) == [(index, 1) for index in range(RUNS)]
    for name in names:
        expected = [_expected_line(name, step) for step in range(1, LINES + 1)]
        assert printed[name] == expected
        assert outcome.points[name] == [
            (step, float(line.split("acc=")[1].rstrip(";")))
            for step, line in enumerate(expected, start=1)
        ], name
        assert outcome.logs[name] == "".join(f"{line}\n" for line in expected).encode(), name
    if strategy == "Grid":
        combinations = Counter(
            (run["hyperparameters"]["opt"], run["hyperparameters"]["batch"]) for run in outcome.runs
        )
        assert sorted(combinations.items()) == [
            ((opt, str(batch)), 1) for opt in ("adam", "rms", "sgd") for batch in range(1, 5)
        ]
