"""Durable search, proven by crashes (issue 27).

A 12-run search (Random on SQLite, Bayesian on PostgreSQL, Grid and Hyperband on
SQLite), two real `logmetrics worker` processes of two slots each, and a trainer that
prints a known sequence of metric lines over four seconds, so that chunks are in flight
whenever the service goes. During the search the service (a real `logmetrics serve`
child process) is SIGKILLed twice and restarted, once after an outage longer than the
lease (LOGMETRICS_LEASE_SECONDS=3, 6 s down before its start); a worker is SIGKILLed
with its runs and another started; on PostgreSQL the test's own database server is
restarted once as well. Then, each a literal check: the workers left exited 0; the job
ended Completed with exactly its MaxNumberOfTrainingJobs runs; search indexes 0..11
each handed out once (Grid: its 12 combinations each once); every run Completed
(Hyperband: or Stopped at a rung of its bracket), in its first attempt or in one its
RetryStrategy allowed, each earlier attempt ended as worker lost on the killed worker
(whose runs were each tried again); each run's stored points and stdout are exactly the
lines its program printed in its last attempt (none lost, none twice). The figures for
the issue's note are printed (`pytest -s`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
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

from app.clients.service_process import ServiceProcess
from app.storage import SqlStorage
from tests.chaos.pg_control import private_postgres

pytestmark = pytest.mark.slow

RUNS = 12
LEASE_SECONDS = 3
LONG_OUTAGE = 6.0  # longer than the lease: the runs' leases lapse while no service runs
SHORT_OUTAGE = 1.0
RETRIES = 2  # the search's RetryStrategy.MaximumRetryAttempts
WORKER_LOST = f"worker lost: no heartbeat for {LEASE_SECONDS} s"
LINES = 16  # each run prints this many metric lines, one every LINE_PAUSE seconds
LINE_PAUSE = 0.25

# The trainer notes that it started (with its pid, so none outlives the test), and each
# line it prints, over about four seconds, as its pid's.
TRAINER = textwrap.dedent(
    """
    import json, os, signal, sys, time
    notes, lines, pause = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    # A stop (SIGTERM) ends the loop between lines: each line printed is noted.
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    run = os.environ["LOGMETRICS_RUN"]
    number = int(run.rsplit("-", 1)[1])
    with open(notes, "a") as f:
        f.write(json.dumps({"run": run, "start": os.getpid(), "hps": os.environ["SM_HPS"]}) + "\\n")
    for step in range(1, lines + 1):
        if stopping:
            break
        line = f"epoch {step} acc={step / 100 + (100 - number) / 10000:.4f};"
        print(line, flush=True)
        with open(notes, "a") as f:
            f.write(json.dumps({"run": run, "pid": os.getpid(), "line": line}) + "\\n")
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
    # Later runs do worse at every step, so that runs reaching a rung after three of
    # their bracket's are stopped there.
    "Hyperband": {
        "strategy": "Hyperband",
        "hyperband": {"min_resource": 1, "max_resource": LINES},
        "parameter_ranges": {
            "ContinuousParameterRanges": [{"Name": "lr", "MinValue": 0.001, "MaxValue": 0.1}]
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
    """What the service holds at the end: the job, its runs, each run's earlier attempts
    (those tried again), its points of `acc` as (step, value), and its stdout."""

    job: dict[str, Any]
    runs: list[dict[str, Any]]
    attempts: dict[str, list[dict[str, Any]]]
    points: dict[str, list[tuple[int, float]]]
    logs: dict[str, bytes]


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database of the kind the test names; on PostgreSQL, on a server of the
    test's own, since it is restarted (the session's server is the other tests')."""
    if request.param == "sqlite":
        yield Database(f"sqlite:///{tmp_path / 'chaos.db'}", None)
        return
    with private_postgres() as (url, server):
        yield Database(url, server.restart)


@pytest.fixture
def trainer(tmp_path: Path) -> Iterator[tuple[list[str], Path]]:
    """The trainer's command and its notes; no command it started outlives the test."""
    path = tmp_path / "trainer.py"
    path.write_text(TRAINER)
    notes = tmp_path / "notes.jsonl"
    yield [sys.executable, str(path), str(notes), str(LINES), str(LINE_PAUSE)], notes
    for note in _read_notes(notes):
        if "start" in note:
            with contextlib.suppress(ProcessLookupError):
                os.kill(note["start"], signal.SIGKILL)


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
    return [note["run"] for note in _read_notes(notes) if "start" in note]


def _running(log: Path) -> set[str]:
    """The runs a worker's output says it started and has not reported ended."""
    output = log.read_text() if log.exists() else ""
    started = set(re.findall(r"^worker: (run-\d+) of chaos started", output, re.MULTILINE))
    ended = set(
        re.findall(r"^worker: (run-\d+) of chaos (?:Completed|Failed|Stopped)", output, re.M)
    )
    return started - ended


def _printed(notes: Path) -> dict[str, list[str]]:
    """The lines each run's program printed, in its last attempt (its last start)."""
    last: dict[str, int] = {}
    lines: dict[int, list[str]] = {}
    for note in _read_notes(notes):
        if "start" in note:
            last[note["run"]] = note["start"]
        else:
            lines.setdefault(note["pid"], []).append(note["line"])
    return {run: lines.get(pid, []) for run, pid in last.items()}


def _wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _expected_line(run: str, step: int) -> str:
    """The trainer's line `step` of `run` (it prints these, and the test checks it did)."""
    number = int(run.rsplit("-", 1)[1])
    return f"epoch {step} acc={step / 100 + (100 - number) / 10000:.4f};"


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
        attempts = {
            name: api.get(f"/v1/jobs/chaos/runs/{name}").json()["attempts"] for name in names
        }
    return Outcome(job, runs.json()["runs"], attempts, points, logs)


def _search_indexes(database_url: str) -> list[tuple[str, int | None]]:
    """Each run's search index (the API does not show them), runs oldest first."""
    storage = SqlStorage(database_url)
    try:
        return [(run.name, run.search_index) for run in storage.job_runs(storage.get_job("chaos"))]
    finally:
        storage.close()


def _rungs(index: int) -> list[int]:
    """The Hyperband rungs of the run of search index `index` (min_resource 1, max_resource
    LINES, eta 3, as the README says): its bracket is the index modulo the brackets' count,
    and bracket b's rungs lie at 3 ** (b + k) below LINES."""
    brackets = 1
    while 3**brackets < LINES:
        brackets += 1
    bracket = index % brackets
    return [3**k for k in range(bracket, brackets) if 3**k < LINES]


def _ending(strategy: str, run: dict[str, Any], index: int | None) -> tuple[str, str | None]:
    """How the run should have ended: Completed; or, in a Hyperband search, Stopped at a
    rung of its bracket, as its reason says (the rule itself is app/tuning/stopping's)."""
    if strategy != "Hyperband" or run["status"] != "Stopped" or index is None:
        return "Completed", None
    found = re.fullmatch(
        rf"stopped by Hyperband at resource (\d+) of {LINES}: \S+ is not among the best \d+ "
        r"of \d+ runs at this rung",
        run["failure_reason"] or "",
    )
    if found is None or int(found[1]) not in _rungs(index):
        return "Completed", None  # not a rung's stop: the assertion shows the reason
    return "Stopped", run["failure_reason"]


@pytest.mark.parametrize(
    ("strategy", "database"),
    [("Random", "sqlite"), ("Bayesian", "postgresql"), ("Grid", "sqlite"), ("Hyperband", "sqlite")],
    ids=["random-sqlite", "bayesian-postgresql", "grid-sqlite", "hyperband-sqlite"],
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
            # A run whose worker is lost (its lease lapsed, or the answer that leased it
            # never arrived) is tried again, as AMT's RetryStrategy does.
            "retry_strategy": {"maximum_retry_attempts": RETRIES},
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
        # A worker killed with its runs: they are lost, and tried again elsewhere.
        _wait_for(lambda: bool(_running(tmp_path / "w2.log")), 60, "w2 to run a run")
        workers[1].kill()
        workers[1].wait()
        lost = _running(tmp_path / "w2.log")
        figures.outages.append(f"worker w2 SIGKILLed with {len(lost)} runs in progress")
        workers.append(start_worker(service.url, "w3"))
        if database.restart is not None:
            _wait_for(lambda: len(_started(notes)) >= 7, 60, "seven runs to start")
            database.restart()
            figures.outages.append("PostgreSQL restarted (pg_ctl restart -m fast)")
        _wait_for(lambda: len(_started(notes)) >= 10, 60, "ten runs to start")
        down = _outage(service, SHORT_OUTAGE, environment)
        figures.outages.append(f"service SIGKILLed, {down:.1f} s without an answer")

        codes = [worker.wait(timeout=120) for worker in (workers[0], workers[2])]
        outcome = _outcome(service.url)
    finally:
        service.stop()
    indexes = _search_indexes(database.url)
    outputs = {path.name: path.read_text() for path in sorted(tmp_path.glob("w*.log"))}
    names = [f"run-{i:04d}" for i in range(1, RUNS + 1)]
    printed = _printed(notes)
    started = Counter(_started(notes))

    figures.runs = len(outcome.runs)
    figures.retries = sum(len(attempts) for attempts in outcome.attempts.values())
    figures.sends_retried = sum(
        output.count("did not answer") + output.count("answered 5") for output in outputs.values()
    )
    figures.duplicate_indexes = RUNS - len({index for _, index in indexes})
    figures.duplicate_points = sum(len(p) - len(set(p)) for p in outcome.points.values())
    backend = "SQLite" if database.restart is None else "PostgreSQL"
    print(f"\n{strategy} on {backend}: {figures}")

    assert codes == [0, 0], outputs
    assert (outcome.job["status"], [run["name"] for run in outcome.runs]) == ("Completed", names)
    # Every run completed (or, in Hyperband, stopped at a rung), in its first attempt or,
    # its worker lost in an outage, in one the retry strategy allowed: each earlier
    # attempt ended as worker lost. Its program ran at most once an attempt (never, for an
    # attempt whose lease's answer the SIGKILL cut off), and at least once.
    index_of = dict(indexes)
    assert [(run["name"], run["status"], run["failure_reason"]) for run in outcome.runs] == [
        (run["name"], *_ending(strategy, run, index_of.get(run["name"]))) for run in outcome.runs
    ], outputs
    assert [
        (run["name"], run["attempt"], [a["reason"] for a in outcome.attempts[run["name"]]])
        for run in outcome.runs
    ] == [
        (
            run["name"],
            run["attempt"],
            [WORKER_LOST] * (run["attempt"] - 1),
        )
        for run in outcome.runs
    ]
    assert all(run["attempt"] <= 1 + RETRIES for run in outcome.runs)
    # The runs w2 held when it was killed were tried again (any other a retry has in its
    # history was lost by w2 too: leased to it as it died).
    retried = {name for name, attempts in outcome.attempts.items() if attempts}
    assert lost <= retried
    assert {a["worker"] for name in retried for a in outcome.attempts[name]} == {"w2"}
    assert all(1 <= started[run["name"]] <= run["attempt"] for run in outcome.runs), started
    assert sorted(index for _, index in indexes) == list(range(RUNS))
    for run in outcome.runs:
        name = run["name"]
        expected = [_expected_line(name, step) for step in range(1, LINES + 1)]
        if run["status"] == "Stopped":  # at a rung: it printed at least that many lines
            rung = re.search(r"at resource (\d+)", run["failure_reason"])
            assert rung is not None
            expected = expected[: max(len(printed[name]), int(rung[1]))]
        assert printed[name] == expected
        assert outcome.points[name] == [
            (step, float(line.split("acc=")[1].rstrip(";")))
            for step, line in enumerate(expected, start=1)
        ], name
        assert outcome.logs[name] == "".join(f"{line}\n" for line in expected).encode(), name
    # Hyperband judges every rung a chunk's lines pass (a second's lines, or a backlog
    # after an outage): the later runs, worse at every step, are stopped at one.
    if strategy == "Hyperband":
        assert any(run["status"] == "Stopped" for run in outcome.runs)
    if strategy == "Grid":
        combinations = Counter(
            (run["hyperparameters"]["opt"], run["hyperparameters"]["batch"]) for run in outcome.runs
        )
        assert sorted(combinations.items()) == [
            ((opt, str(batch)), 1) for opt in ("adam", "rms", "sgd") for batch in range(1, 5)
        ]
