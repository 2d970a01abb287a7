"""What a training job cannot do to its worker: read its credentials, share an
environment with another job, publish the worker's files as its model, outlive its run,
or leave its run's folder behind. Real `logmetrics worker` (and `logmetrics run`)
processes against a live service; S3 is moto's server.

Root reads any process's /proc and removes any file, so where the tests run as root the
worker runs as an unprivileged user (`setpriv`, as tests/clients/test_opt_ml.py does),
as a worker serving tenants should: there the tests prove what they say."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sagemaker.conftest import sagemaker_client
from tests.sagemaker.test_s3_worker import s3_job, sourcedir, summary, wheel
from tests.tuning.conftest import search_job_body

REPOSITORY = Path(__file__).resolve().parents[2]
NOBODY = 65534
WORKER_TIMEOUT = 120  # generous: only a worker that hangs runs into it


@pytest.fixture
def unprivileged() -> list[str]:
    """The prefix that runs a command as an unprivileged user: none unless we are root."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv to become an unprivileged user")
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A folder an unprivileged user may write in (pytest's tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="hardening-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder)


def environment(**variables: str) -> dict[str, str]:
    """This process's environment without any LOGMETRICS_* of its own, plus `variables`."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("LOGMETRICS_")}
    return {**inherited, **variables}


def run_worker(url, *args, prefix=(), env=None):
    """Run `logmetrics worker` until it has nothing left (`--job` among `args`); its
    output."""
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "app", "worker", "--url", url, "--poll", "0.2", *args],
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT,
        cwd=REPOSITORY,
        env=env if env is not None else environment(),
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def runs_of(api, job="tune"):
    return api.get(f"/v1/jobs/{job}/runs", params={"sort_by": "name"}).json()["runs"]


def stdout_of(api, run, job="tune"):
    return api.get(f"/v1/jobs/{job}/runs/{run}/logs", params={"stream": "stdout"}).text


def alive(pid: int) -> bool:
    """Whether process `pid` exists and is no zombie (a zombie waits for a reaper that a
    container's first process may never be)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


# 1. A command cannot read the environment of the process that started it.

# What `cat` says of its parent's environment (the pid written as PARENT), nothing if
# it could read it. A shell command: an unprivileged user may not run this venv's Python,
# whose interpreter lies in root's home.
READ_PARENT = [
    "sh",
    "-c",
    'cat "/proc/$PPID/environ" 2>&1 >/dev/null | sed "s|/proc/[0-9]*/|/proc/PARENT/|"',
]
DENIED = "cat: /proc/PARENT/environ: Permission denied\n"


def test_a_workers_command_cannot_read_the_workers_environment(service, unprivileged, scratch):
    api = service.client
    body = search_job_body(
        command=READ_PARENT,
        resource_limits={"max_number_of_training_jobs": 1},
    )
    assert api.post("/v1/jobs", json=body).status_code == 201

    run_worker(
        service.url,
        *("--job", "tune", "--cache-dir", str(scratch / "cache")),
        prefix=unprivileged,
        env=environment(LOGMETRICS_TOKEN="admin-token-0123456789"),
    )

    (run,) = runs_of(api)
    assert run["status"] == "Completed", run
    assert stdout_of(api, run["name"]) == DENIED


def test_a_command_run_by_logmetrics_run_cannot_read_its_environment(
    service, make_job, unprivileged
):
    make_job("gan")

    logmetrics_run = [sys.executable, "-m", "app", "run", "--job", "gan", "--url", service.url]
    done = subprocess.run(
        [*unprivileged, *logmetrics_run, "--", *READ_PARENT],
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT,
        cwd=REPOSITORY,
        env=environment(LOGMETRICS_TOKEN="admin-token-0123456789"),
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout == DENIED


SHOW_AWS = "import json, os\nprint(json.dumps(sorted(k for k in os.environ if 'AWS' in k)))\n"
AWS = {
    "AWS_ACCESS_KEY_ID": "AKIA0123456789",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-0123456789",
    "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9",
}


@pytest.mark.parametrize(
    ("roots", "seen"),
    [
        # Without roots the worker's credentials reach the job, unless --secret-env says.
        ((), ["AWS_ACCESS_KEY_ID", "AWS_ENDPOINT_URL_S3", "AWS_SECRET_ACCESS_KEY"]),
        # With them the job may use only what they allow: none of the worker's keys.
        (("--s3-root", "s3://team-a/data"), []),
    ],
)
def test_with_s3_roots_a_command_sees_no_aws_variable(service, tmp_path, roots, seen):
    api = service.client
    body = search_job_body(
        command=[sys.executable, "-c", SHOW_AWS],
        resource_limits={"max_number_of_training_jobs": 1},
    )
    assert api.post("/v1/jobs", json=body).status_code == 201
    base = {k: v for k, v in environment().items() if "AWS" not in k}

    run_worker(
        service.url,
        *("--job", "tune", "--cache-dir", str(tmp_path / "cache"), *roots),
        env={**base, **AWS},
    )

    (run,) = runs_of(api)
    assert run["status"] == "Completed", run
    assert json.loads(stdout_of(api, run["name"])) == seen


# 2. requirements.txt environments are kept per job.

PRINT_PREFIX = "import sys, tinypkg\nprint(sys.prefix)\nprint(f'acc={tinypkg.VALUE};')\n"
REQUIREMENTS = b"--no-index\n./wheels/tinypkg-1.0-py3-none-any.whl\n"


def script_mode_body(name, code, runs=1):
    """A /v1 job whose runs run `code`'s train.py in script mode, `runs` of them."""
    return search_job_body(
        name,
        command=None,
        training_image="trainer:1",
        static_hyperparameters={
            "sagemaker_program": "train.py",
            "sagemaker_submit_directory": f"file://{code}",
        },
        resource_limits={"max_number_of_training_jobs": runs, "max_parallel_training_jobs": 1},
    )


def test_two_jobs_with_one_requirements_txt_get_two_environments_one_jobs_runs_one(
    service, tmp_path
):
    api = service.client
    code = tmp_path / "shared" / "code"
    (code / "wheels").mkdir(parents=True)
    (code / "train.py").write_text(PRINT_PREFIX)
    (code / "requirements.txt").write_bytes(REQUIREMENTS)
    whl = wheel("tinypkg", "1.0", "VALUE = 0.625\n")
    (code / "wheels" / "tinypkg-1.0-py3-none-any.whl").write_bytes(whl)
    for name, runs in [("tune-a", 2), ("tune-b", 1)]:
        assert api.post("/v1/jobs", json=script_mode_body(name, code, runs)).status_code == 201
    cache = tmp_path / "cache"
    digest = hashlib.sha256(REQUIREMENTS).hexdigest()

    for name in ("tune-a", "tune-b"):
        run_worker(
            service.url,
            *("--job", name, "--cache-dir", str(cache)),
            *("--data-root", str(tmp_path / "shared")),
        )

    assert sorted(p.name for p in (cache / "jobs").iterdir()) == ["tune-a", "tune-b"]
    for name in ("tune-a", "tune-b"):
        venvs = cache / "jobs" / name / "venvs"
        assert sorted(p.name for p in venvs.iterdir()) == [digest, f"{digest}.lock"]
    prefixes = {
        (job, run["name"]): stdout_of(api, run["name"], job).splitlines()[0]
        for job in ("tune-a", "tune-b")
        for run in runs_of(api, job)
    }
    assert prefixes == {
        ("tune-a", "run-0001"): str(cache / "jobs" / "tune-a" / "venvs" / digest),
        ("tune-a", "run-0002"): str(cache / "jobs" / "tune-a" / "venvs" / digest),
        ("tune-b", "run-0001"): str(cache / "jobs" / "tune-b" / "venvs" / digest),
    }


# 9. requirements.txt may not make pip read a file of the worker's.


def test_a_requirements_txt_naming_a_workers_file_fails_its_run_without_showing_it(
    service, tmp_path
):
    api = service.client
    secret = tmp_path / "worker-config"
    secret.write_text("TOPSECRET-0123456789\n")
    code = tmp_path / "shared" / "code"
    code.mkdir(parents=True)
    (code / "train.py").write_text("print('acc=1;')\n")
    (code / "requirements.txt").write_text(f"-r {secret}\n")
    assert api.post("/v1/jobs", json=script_mode_body("tune", code)).status_code == 201

    run_worker(
        service.url,
        *("--job", "tune", "--cache-dir", str(tmp_path / "cache")),
        *("--data-root", str(tmp_path / "shared")),
    )

    (run,) = runs_of(api)
    assert (run["status"], run["failure_reason"]) == (
        "Failed",
        f"requirements.txt, line 1: -r {str(secret)!r} names a file "
        "outside the submitted code; give a relative path inside it",
    )
    assert not (tmp_path / "cache" / "jobs").exists()  # pip never ran


# 5. A model, output or checkpoints folder that is a symlink is not uploaded.

# Replaces the folder `which` of the run's folder with a symlink to `target` (hyperparameters).
SYMLINK_FOLDER = textwrap.dedent(
    """
    import os, shutil
    which, target = os.environ["SM_HP_WHICH"], os.environ["SM_HP_TARGET"]
    run = os.path.dirname(os.environ["SM_MODEL_DIR"])
    shutil.rmtree(os.path.join(run, which))
    os.symlink(target, os.path.join(run, which))
    print("acc=0.5;")
    """
)


@pytest.mark.parametrize(
    ("which", "reason"),
    [
        ("model", "cannot upload the model: its folder (model) is a symlink"),
        # output -> ~/.aws: output/data, the folder uploaded, lies under the symlink.
        ("output", "cannot upload the output: its folder (output/data) is a symlink"),
        ("checkpoints", "cannot upload the checkpoints: its folder (checkpoints) is a symlink"),
    ],
)
def test_a_model_output_or_checkpoints_folder_made_a_symlink_is_not_uploaded(
    service, s3, tmp_path, which, reason
):
    secrets = tmp_path / "worker-home" / ".aws"
    (secrets / "data").mkdir(parents=True)
    (secrets / "credentials").write_text("aws_secret_access_key=WORKER")
    (secrets / "data" / "credentials").write_text("aws_secret_access_key=WORKER")
    bucket = s3.new_bucket()
    client = s3.client()
    client.put_object(
        Bucket=bucket,
        Key="toy/source/sourcedir.tar.gz",
        Body=sourcedir({"train.py": SYMLINK_FOLDER.encode()}),
    )
    client.put_object(Bucket=bucket, Key="data/train/part/numbers.txt", Body=b"1\n")
    request = s3_job(bucket)
    request["TrainingJobDefinition"]["StaticHyperParameters"].update(
        which=json.dumps(which), target=json.dumps(str(secrets))
    )
    request["TrainingJobDefinition"]["CheckpointConfig"] = {"S3Uri": f"s3://{bucket}/ckpt"}
    sagemaker = sagemaker_client(service.url)
    sagemaker.create_hyper_parameter_tuning_job(**request)

    run_worker(service.url, "--job", "toy", "--cache-dir", str(tmp_path / "cache"))

    found = summary(sagemaker)
    assert (found["TrainingJobStatus"], found["FailureReason"]) == (
        "Failed",
        f"{reason} or lies under one; the worker uploads only the run's own folders",
    )
    for prefix in ("models/", "ckpt/"):
        assert client.list_objects_v2(Bucket=bucket, Prefix=prefix)["KeyCount"] == 0


# 10. A command's whole process group ends with its run.

BACKGROUND = 'sleep 1000 & echo $! > {pids}; echo "acc=0.5;"; {then}'


@pytest.mark.parametrize(
    ("then", "limits", "status", "reason"),
    [
        # It exits at once, its background child holding its stdout.
        ("exit 0", {}, "Completed", None),
        # It waits for its child; its maximum runtime passes.
        (
            "wait",
            {"max_runtime_in_seconds": 1},
            "Stopped",
            "MaxRuntimeExceeded: the run ran longer than 1 s",
        ),
    ],
)
def test_a_commands_background_processes_end_with_its_run(
    service, tmp_path, then, limits, status, reason
):
    api = service.client
    pids = tmp_path / "pids"
    body = search_job_body(
        command=["sh", "-c", BACKGROUND.format(pids=pids, then=then)],
        resource_limits={"max_number_of_training_jobs": 1, **limits},
    )
    assert api.post("/v1/jobs", json=body).status_code == 201

    try:
        run_worker(service.url, "--job", "tune", "--cache-dir", str(tmp_path / "cache"))
        (run,) = runs_of(api)
        assert (run["status"], run["failure_reason"]) == (status, reason)
        assert not alive(int(pids.read_text()))
    finally:
        if pids.exists() and alive(int(pids.read_text())):
            os.kill(int(pids.read_text()), signal.SIGKILL)


def test_stopping_a_job_ends_its_commands_whole_process_group(service, tmp_path):
    api = service.client
    pids = tmp_path / "pids"
    body = search_job_body(
        command=["sh", "-c", BACKGROUND.format(pids=pids, then="wait")],
        resource_limits={"max_number_of_training_jobs": 1},
    )
    assert api.post("/v1/jobs", json=body).status_code == 201
    command = [sys.executable, "-m", "app", "worker", "--url", service.url, "--poll", "0.2"]
    worker = subprocess.Popen(
        [*command, "--job", "tune", "--cache-dir", str(tmp_path / "cache")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + WORKER_TIMEOUT
        while not (pids.exists() and pids.read_text().strip()) and worker.poll() is None:
            assert time.monotonic() < deadline, "the command never started"
            time.sleep(0.1)
        assert api.post("/v1/jobs/tune/stop").json()["status"] == "Stopping"
        _, stderr = worker.communicate(timeout=WORKER_TIMEOUT)
        assert worker.returncode == 0, stderr
        (run,) = runs_of(api)
        assert (run["status"], run["failure_reason"]) == ("Stopped", "the job was stopped")
        assert not alive(int(pids.read_text()))
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        if pids.exists() and pids.read_text().strip() and alive(int(pids.read_text())):
            os.kill(int(pids.read_text()), signal.SIGKILL)


# 11. A run's folder goes, whatever the job did to it.

# A training image's command that makes a folder of its model unwritable, data inside.
LOCK_FOLDER = (
    'mkdir -p "$SM_MODEL_DIR/locked/deeper" && echo data > "$SM_MODEL_DIR/locked/deeper/f" '
    '&& chmod 500 "$SM_MODEL_DIR/locked/deeper" "$SM_MODEL_DIR/locked" && echo "acc=0.5;"'
)


def test_a_run_folder_the_job_made_unwritable_is_removed(service, unprivileged, scratch):
    api = service.client
    runs_folder = scratch / "tmp"
    runs_folder.mkdir()
    runs_folder.chmod(0o777)
    body = search_job_body(
        command=None,
        training_image="trainer:1",
        resource_limits={"max_number_of_training_jobs": 1},
    )
    assert api.post("/v1/jobs", json=body).status_code == 201

    run_worker(
        service.url,
        *("--job", "tune", "--cache-dir", str(scratch / "cache")),
        *("--image", f"trainer:1=sh -c {LOCK_FOLDER!r}"),
        prefix=unprivileged,
        env=environment(TMPDIR=str(runs_folder)),
    )

    (run,) = runs_of(api)
    assert run["status"] == "Completed", run
    assert list(runs_folder.iterdir()) == []
