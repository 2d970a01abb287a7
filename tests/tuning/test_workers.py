"""Real worker processes against a live service: sharing a job's runs, losing a
worker, the maximum runtime, stopping a job, and interrupting a sweep."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.tuning.conftest import search_job_body

# A trainer that notes when it starts and ends, reports one value, and takes a while.
TRAINER = textwrap.dedent(
    """
    import json, os, signal, sys, time
    notes, pause = sys.argv[1], float(sys.argv[2])
    if len(sys.argv) > 3 and sys.argv[3] == "ignore-term":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    run = os.environ["LOGMETRICS_RUN"]
    with open(notes, "a") as f:
        f.write(json.dumps({"run": run, "start": time.time(), "pid": os.getpid()}) + "\\n")
    lr = float(json.loads(os.environ["SM_HPS"])["lr"])
    print(f"acc={1 - lr};", flush=True)
    time.sleep(pause)
    with open(notes, "a") as f:
        f.write(json.dumps({"run": run, "end": time.time()}) + "\\n")
    """
)


@pytest.fixture
def trainer(tmp_path):
    path = tmp_path / "trainer.py"
    path.write_text(TRAINER)
    notes = tmp_path / "notes.jsonl"

    def command(pause, *extra):
        return [sys.executable, str(path), str(notes), str(pause), *extra]

    yield command, notes
    for note in read_notes(notes):  # no command outlives its test
        if "pid" in note:
            with contextlib.suppress(ProcessLookupError):
                os.kill(note["pid"], signal.SIGKILL)


def read_notes(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def wait_for(check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out")


def runs_of(api, job="tune", headers=None):
    params = {"sort_by": "name", "limit": 1000}
    return api.get(f"/v1/jobs/{job}/runs", params=params, headers=headers).json()["runs"]


def test_three_workers_share_a_job_within_its_parallel_limit(service, trainer, start_worker):
    command, notes = trainer
    api = service.client
    limits = {"max_number_of_training_jobs": 6, "max_parallel_training_jobs": 2}
    body = search_job_body(command=command(1.0), resource_limits=limits)
    assert api.post("/v1/jobs", json=body).status_code == 201

    workers = [start_worker(service.url, "--job", "tune", "--name", f"w{i}") for i in range(3)]
    codes = [worker.wait(timeout=120) for worker in workers]

    assert codes == [0, 0, 0], [w.output() for w in workers]
    runs = runs_of(api)
    assert [(r["name"], r["status"]) for r in runs] == [
        (f"run-{i:04d}", "Completed") for i in range(1, 7)
    ]
    assert len({r["worker"] for r in runs}) >= 2
    events = read_notes(notes)
    assert sorted(e["run"] for e in events if "start" in e) == [r["name"] for r in runs]
    timeline = sorted(
        [(e["start"], 1) for e in events if "start" in e]
        + [(e["end"], -1) for e in events if "end" in e]
    )
    running = peak = 0
    for _, change in timeline:
        running += change
        peak = max(peak, running)
    assert peak == 2
    assert api.get("/v1/jobs/tune").json()["status"] == "Completed"


def test_a_killed_worker_leaves_a_run_that_fails_as_worker_lost(
    start_service, trainer, start_worker
):
    command, notes = trainer
    service = start_service(lease_seconds=1.0)
    api = service.client
    assert api.post("/v1/jobs", json=search_job_body(command=command(60))).status_code == 201
    worker = start_worker(service.url, "--job", "tune")
    wait_for(lambda: read_notes(notes))

    worker.send_signal(signal.SIGKILL)
    worker.wait()

    run = wait_for(lambda: next((r for r in runs_of(api) if r["status"] != "InProgress"), None), 15)
    assert (run["name"], run["status"], run["failure_reason"]) == (
        "run-0001",
        "Failed",
        "worker lost: no heartbeat for 1 s",
    )


def test_a_worker_stops_the_command_of_a_run_deleted_under_it(start_service, trainer, start_worker):
    command, notes = trainer
    service = start_service(lease_seconds=1.0)
    api = service.client
    assert api.post("/v1/jobs", json=search_job_body(command=command(60))).status_code == 201
    start_worker(service.url, "--job", "tune", "--stop-grace", "0.5")
    (started,) = wait_for(lambda: read_notes(notes))

    assert api.delete(f"/v1/jobs/tune/runs/{started['run']}").status_code == 204

    def gone():
        try:
            os.kill(started["pid"], 0)
        except ProcessLookupError:
            return True
        return False

    # The next heartbeat is a 404: the command is stopped, not left to run its 60 s.
    assert wait_for(gone, 20)


def test_a_run_past_its_maximum_runtime_is_stopped(service, trainer, start_worker):
    command, notes = trainer
    api = service.client
    limits = {"max_number_of_training_jobs": 1, "max_runtime_in_seconds": 1}
    body = search_job_body(command=command(60), resource_limits=limits)
    assert api.post("/v1/jobs", json=body).status_code == 201

    worker = start_worker(service.url, "--job", "tune")
    assert worker.wait(timeout=60) == 0, worker.output()

    (run,) = runs_of(api)
    assert (run["status"], run["failure_reason"]) == (
        "Stopped",
        "MaxRuntimeExceeded: the run ran longer than 1 s",
    )
    assert run["objective"]["status"] == "Succeeded"  # its value counts, as AMT's does
    assert api.get("/v1/jobs/tune").json()["status"] == "Completed"
    assert not any("end" in note for note in read_notes(notes))


def test_stopping_a_job_ends_its_commands_even_one_that_ignores_sigterm(
    service, trainer, start_worker
):
    command, notes = trainer
    api = service.client
    limits = {"max_number_of_training_jobs": 4, "max_parallel_training_jobs": 2}
    body = search_job_body(command=command(60, "ignore-term"), resource_limits=limits)
    assert api.post("/v1/jobs", json=body).status_code == 201
    worker = start_worker(service.url, "--job", "tune", "--parallel", "2", "--stop-grace", "0.5")
    wait_for(lambda: len(read_notes(notes)) == 2)

    assert api.post("/v1/jobs/tune/stop").json()["status"] == "Stopping"
    assert worker.wait(timeout=30) == 0, worker.output()

    assert [(r["status"], r["failure_reason"]) for r in runs_of(api)] == [
        ("Stopped", "the job was stopped")
    ] * 2
    assert api.get("/v1/jobs/tune").json()["status"] == "Stopped"
    for note in read_notes(notes):  # SIGKILLed after the grace
        with pytest.raises(ProcessLookupError):
            os.kill(note["pid"], 0)


def test_an_idle_worker_exits_when_asked_to(service, start_worker):
    worker = start_worker(service.url, "--exit-when-idle")
    assert worker.wait(timeout=30) == 0


SWEEP = """
name: toy
objective: {{MetricName: acc, Type: Maximize}}
metric_definitions: [{{Name: acc, Regex: "acc=(\\\\S+);"}}]
search:
  strategy: Random
  command: {command}
  resource_limits: {{MaxNumberOfTrainingJobs: 4, MaxParallelTrainingJobs: 2}}
  parameter_ranges:
    ContinuousParameterRanges: [{{Name: lr, MinValue: 0.001, MaxValue: 0.1}}]
"""


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_sweep_stops_its_job_cleanly(service, trainer, tmp_path, signum, code):
    command, notes = trainer
    spec = tmp_path / "sweep.yaml"
    spec.write_text(SWEEP.format(command=json.dumps(command(60))))
    sweep = subprocess.Popen(
        [sys.executable, "-m", "app", "sweep", str(spec), "--url", service.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: len(read_notes(notes)) == 2)

    sweep.send_signal(signum)
    out, err = sweep.communicate(timeout=60)

    assert sweep.returncode == code, err
    assert "Traceback" not in err
    assert "sweep: interrupted; stopping job toy" in err
    assert "\nLeaderboard of toy (best first):\n" in out
    assert "Job Stopped." in out
    api = service.client
    assert [(r["name"], r["status"], r["failure_reason"]) for r in runs_of(api, "toy")] == [
        ("run-0001", "Stopped", "the job was stopped"),
        ("run-0002", "Stopped", "the job was stopped"),
    ]
    assert api.get("/v1/jobs/toy").json()["status"] == "Stopped"


def test_a_met_target_completes_the_job_and_the_worker_leaves(service, trainer, start_worker):
    command, _notes = trainer
    api = service.client
    body = search_job_body(
        command=command(0),
        completion_criteria={"TargetObjectiveMetricValue": 0.5},  # acc = 1 - lr > 0.9
        resource_limits={"max_number_of_training_jobs": 5},
    )
    assert api.post("/v1/jobs", json=body).status_code == 201

    worker = start_worker(service.url, "--job", "tune")
    assert worker.wait(timeout=60) == 0, worker.output()

    job = api.get("/v1/jobs/tune").json()
    assert (job["status"], job["completion"]["criterion"]) == (
        "Completed",
        "TargetObjectiveMetricValue",
    )
    assert [r["name"] for r in runs_of(api)] == ["run-0001"]


def test_with_access_control_a_worker_needs_an_admin_token(start_service, trainer, start_worker):
    command, _notes = trainer
    admin, reader = "admin-token-0123456789", "read-token-0123456789"
    service = start_service(api_tokens=f"admin:{admin},read:{reader}")
    headers = {"Authorization": f"Bearer {admin}"}
    limits = {"max_number_of_training_jobs": 2}
    body = search_job_body(command=command(0), resource_limits=limits)
    assert service.client.post("/v1/jobs", json=body, headers=headers).status_code == 201

    refused = start_worker(service.url, "--job", "tune", "--token", reader)
    assert refused.wait(timeout=30) == 1
    assert "logmetrics: the service refused to hand out runs: 403" in refused.output()
    worker = start_worker(service.url, "--job", "tune", "--token", admin)
    assert worker.wait(timeout=60) == 0, worker.output()

    runs = service.client.get("/v1/jobs/tune/runs", headers=headers).json()["runs"]
    assert [r["status"] for r in runs] == ["Completed", "Completed"]


# What a training command sees of its worker: what a run needs, and none of its secrets.

ADMIN = "admin-token-0123456789"
WORKER_SECRETS = {
    "LOGMETRICS_TOKEN": ADMIN,
    "LOGMETRICS_DATABASE_URL": "postgresql+psycopg://logmetrics:db-password-0123@db/logmetrics",
    "CLOUD_API_KEY": "cloud-key-0123456789",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-0123456789",
}
SHOW_ENVIRONMENT = "import json, os\nprint(json.dumps(dict(os.environ)))\n"


def worker_environment(**variables):
    """This process's environment without any LOGMETRICS_* of its own, plus `variables`."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("LOGMETRICS_")}
    return {**inherited, "KEEP_ME": "ordinary", **variables}


def assert_the_run_saw_only_what_it_needs(api):
    headers = {"Authorization": f"Bearer {ADMIN}"}
    (run,) = api.get("/v1/jobs/tune/runs?sort_by=name", headers=headers).json()["runs"]
    assert run["status"] == "Completed", run
    logged = api.get(
        f"/v1/jobs/tune/runs/{run['name']}/logs", params={"stream": "stdout"}, headers=headers
    ).text
    seen = json.loads(logged)
    assert sorted(set(WORKER_SECRETS) & set(seen)) == []
    for secret in WORKER_SECRETS.values():
        assert secret not in logged
    assert seen["KEEP_ME"] == "ordinary"  # what is no secret passes: PATH, CUDA_*, ...
    assert seen["SM_LOG_LEVEL"] == "20"  # the job's environment
    assert (seen["LOGMETRICS_JOB"], seen["LOGMETRICS_RUN"]) == ("tune", run["name"])
    # SM_HPS holds the values decoded, as the training toolkit's does.
    assert json.loads(seen["SM_HPS"])["lr"] == json.loads(run["hyperparameters"]["lr"])
    # A config folder of the run's own: a plain command's is the shipper's fresh one, a
    # script-mode program's its run folder's input/config, as /opt/ml/input/config is laid.
    config = Path(seen["SM_INPUT_CONFIG_DIR"])
    assert config.name.startswith("logmetrics-config-") or (
        config.parts[-2:] == ("input", "config")
        and config.parent.parent.name.startswith(f"logmetrics-{run['name']}-")
    ), config
    assert seen["PYTHONUNBUFFERED"] == "1"
    return seen


def test_a_command_gets_none_of_its_workers_secrets(start_service, start_worker):
    service = start_service(api_tokens=f"admin:{ADMIN}")
    headers = {"Authorization": f"Bearer {ADMIN}"}
    body = search_job_body(
        command=[sys.executable, "-c", SHOW_ENVIRONMENT],
        resource_limits={"max_number_of_training_jobs": 1},
    )
    body["environment"] = {"SM_LOG_LEVEL": "20"}
    assert service.client.post("/v1/jobs", json=body, headers=headers).status_code == 201

    worker = start_worker(
        service.url,
        *("--job", "tune", "--secret-env", "CLOUD_API_KEY", "--secret-env", "AWS_*"),
        env=worker_environment(**WORKER_SECRETS),
    )
    assert worker.wait(timeout=60) == 0, worker.output()

    assert_the_run_saw_only_what_it_needs(service.client)


def test_a_script_mode_program_gets_none_of_its_workers_secrets(
    start_service, start_worker, tmp_path
):
    service = start_service(api_tokens=f"admin:{ADMIN}")
    headers = {"Authorization": f"Bearer {ADMIN}"}
    code = tmp_path / "shared" / "code"
    code.mkdir(parents=True)
    (code / "train.py").write_text(SHOW_ENVIRONMENT)
    body = search_job_body(
        command=None,
        training_image="trainer:1",
        static_hyperparameters={
            "sagemaker_program": "train.py",
            "sagemaker_submit_directory": f"file://{code}",
        },
        resource_limits={"max_number_of_training_jobs": 1},
    )
    body["environment"] = {"SM_LOG_LEVEL": "20"}
    assert service.client.post("/v1/jobs", json=body, headers=headers).status_code == 201

    worker = start_worker(
        service.url,
        *("--job", "tune", "--data-root", str(tmp_path / "shared")),
        *("--secret-env", "CLOUD_API_KEY", "--secret-env", "AWS_*"),
        env=worker_environment(**WORKER_SECRETS),
    )
    assert worker.wait(timeout=60) == 0, worker.output()

    seen = assert_the_run_saw_only_what_it_needs(service.client)
    assert Path(seen["SM_MODULE_DIR"]).name == "code"  # it did run in script mode


def test_a_worker_reads_its_token_from_a_file_and_shows_it_nowhere(
    start_service, start_worker, tmp_path
):
    service = start_service(api_tokens=f"admin:{ADMIN}")
    headers = {"Authorization": f"Bearer {ADMIN}"}
    body = search_job_body(
        command=[sys.executable, "-c", "import time; time.sleep(1); print('acc=0.5;')"],
        resource_limits={"max_number_of_training_jobs": 1},
    )
    assert service.client.post("/v1/jobs", json=body, headers=headers).status_code == 201
    token_file = tmp_path / "admin-token"
    token_file.write_text(f"  {ADMIN}  \nsecond line ignored\n")

    worker = start_worker(
        service.url, "--job", "tune", "--token-file", str(token_file), env=worker_environment()
    )
    # Read while the worker is surely alive: its run is going on.
    wait_for(lambda: runs_of(service.client, headers=headers))
    argv = Path(f"/proc/{worker.pid}/cmdline").read_bytes().split(b"\0")
    assert worker.wait(timeout=60) == 0, worker.output()

    assert b"--token-file" in argv
    assert not any(ADMIN.encode() in part for part in argv)
    runs = service.client.get("/v1/jobs/tune/runs?sort_by=name", headers=headers).json()["runs"]
    assert [r["status"] for r in runs] == ["Completed"]
