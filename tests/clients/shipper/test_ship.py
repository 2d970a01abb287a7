"""`logmetrics run` against a live service: delivery, pass-through, statuses, outages."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import httpx
import pytest

from tests.clients.shipper.conftest import logmetrics

LOSS = [{"Name": "loss", "Regex": r"loss=(\S+);"}]


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def create_job(url: str, **fields) -> None:
    body = {
        "name": "toy",
        "objective": {"MetricName": "loss", "Type": "Minimize"},
        "metric_definitions": LOSS,
        **fields,
    }
    assert httpx.post(f"{url}/v1/jobs", json=body).status_code == 201


def get(url: str, path: str) -> httpx.Response:
    return httpx.get(f"{url}/v1/jobs/toy{path}")


def ship(url: str, command: list[str], *options: str, cwd=None, **kwargs):
    return subprocess.run(
        logmetrics("run", "--url", url, "--job", "toy", *options, "--", *command),
        capture_output=True,
        timeout=120,
        cwd=cwd,
        **kwargs,
    )


def test_hyperparameters_and_the_jobs_environment_reach_the_command(service):
    create_job(service.url, environment={"SM_LOG_LEVEL": "10"})
    done = ship(
        service.url,
        python(
            """
            import json, os
            folder = os.environ["SM_INPUT_CONFIG_DIR"]
            print(open(os.path.join(folder, "hyperparameters.json")).read())
            print(os.environ["SM_HPS"])
            print(os.environ["SM_LOG_LEVEL"], os.environ["LOGMETRICS_RUN"])
            """
        ),
        "--hp",
        "lr=0.01",
        "--hp",
        "optimizer=adam",
        "--name",
        "first",
    )
    assert done.returncode == 0, done.stderr
    expected = {"lr": "0.01", "optimizer": "adam", "_tuning_objective_metric": "loss"}
    file_text, hps_text, rest = done.stdout.decode().splitlines()
    assert json.loads(file_text) == expected
    # SM_HPS decoded, as the training toolkit's: 0.01 a number, adam (no JSON) text.
    assert json.loads(hps_text) == {**expected, "lr": 0.01}
    assert rest == "10 first"
    assert done.stderr.decode().splitlines()[-1] == "logmetrics: run first Completed"


def test_output_passes_through_unchanged_and_is_stored_exactly(service):
    create_job(service.url)
    out = b"loss=0.5;\r\n\x00\xff binary \x1b[31mred\x1b[0m\rbar 50%\rloss=0.25;\n no newline"
    err = b"warning: \xe2\x9a\xa0 careful\n"
    done = ship(
        service.url,
        python(
            f"""
            import sys
            sys.stdout.buffer.write({out!r}); sys.stdout.flush()
            sys.stderr.buffer.write({err!r}); sys.stderr.flush()
            """
        ),
    )
    assert done.returncode == 0
    assert done.stdout == out
    assert done.stderr.startswith(err)
    assert get(service.url, "/runs/run-0001/logs?stream=stdout").content == out
    assert get(service.url, "/runs/run-0001/logs?stream=stderr").content == err
    run = get(service.url, "/runs/run-0001").json()
    assert run["status"] == "Completed"
    assert run["objective"]["value"] == 0.25


def test_a_failing_command_fails_the_run_with_its_last_stderr_line(service):
    create_job(service.url)
    done = ship(
        service.url,
        python(
            """
            import sys
            print("loss=0.9;")
            print("Traceback (most recent call last):", file=sys.stderr)
            print("ValueError: lr must be positive", file=sys.stderr)
            sys.exit(3)
            """
        ),
    )
    assert done.returncode == 3
    run = get(service.url, "/runs/run-0001").json()
    assert (run["status"], run["failure_reason"]) == ("Failed", "ValueError: lr must be positive")
    assert run["objective"]["status"] == "Failed"


def test_a_command_that_cannot_start_fails_the_run(service):
    create_job(service.url)
    done = ship(service.url, ["/nonexistent/trainer"])
    assert done.returncode == 127
    run = get(service.url, "/runs/run-0001").json()
    assert run["status"] == "Failed"
    assert run["failure_reason"] == "cannot run '/nonexistent/trainer': No such file or directory"


def test_ctrl_c_stops_the_command_and_the_run(service):
    create_job(service.url)
    command = python(
        """
        import time
        print("loss=0.7;", flush=True)
        while True:
            time.sleep(0.05)
        """
    )
    with subprocess.Popen(
        logmetrics("run", "--url", service.url, "--job", "toy", "--", *command),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None
        assert process.stdout.readline() == b"loss=0.7;\n"
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
    run = get(service.url, "/runs/run-0001").json()
    assert run["status"] == "Stopped"
    assert run["objective"]["value"] == 0.7


COUNT_TO_40 = python(
    """
    import time
    for i in range(40):
        print(f"step {i}: loss={i};", flush=True)
        time.sleep(0.1)
    """
)
COUNTED = "".join(f"step {i}: loss={i};\n" for i in range(40)).encode()


def wait_for_points(url: str, at_least: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = httpx.get(f"{url}/v1/jobs/toy/runs/run-0001")
        if response.status_code == 200 and any(
            m["points"] >= at_least for m in response.json()["diagnostics"]
        ):
            return
        time.sleep(0.05)
    pytest.fail(f"fewer than {at_least} points arrived")


def test_the_service_going_away_and_coming_back_loses_and_doubles_nothing(restartable):
    create_job(restartable.url)
    with subprocess.Popen(
        logmetrics("run", "--url", restartable.url, "--job", "toy", "--", *COUNT_TO_40),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        wait_for_points(restartable.url, 5)
        restartable.stop()
        time.sleep(1.5)  # the command goes on printing meanwhile
        restartable.start()
        stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert stdout == COUNTED
    assert b"did not answer" in stderr  # it did notice the outage
    assert get(restartable.url, "/runs/run-0001/logs?stream=stdout").content == COUNTED
    series = get(restartable.url, "/runs/run-0001/metrics/loss").json()["points"]
    assert [(p["step"], p["value"], p["line"]) for p in series] == [
        (i + 1, float(i), i + 1) for i in range(40)
    ]
    assert get(restartable.url, "/runs/run-0001").json()["status"] == "Completed"


def test_a_service_that_stays_away_is_given_up_on_and_the_output_saved(restartable, tmp_path):
    create_job(restartable.url)
    options = ["--url", restartable.url, "--job", "toy", "--give-up-after", "2"]
    with subprocess.Popen(
        logmetrics("run", *options, "--", *COUNT_TO_40),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    ) as process:
        wait_for_points(restartable.url, 1)
        restartable.stop()
        stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 1
    assert stdout == COUNTED  # the command itself ran to the end
    saved = tmp_path / "logmetrics-unsent-run-0001-stdout.log"
    assert b"unsent output saved to " + str(saved).encode() in stderr
    restartable.start()
    delivered = get(restartable.url, "/runs/run-0001/logs?stream=stdout").content
    assert delivered + saved.read_bytes() == COUNTED
    assert get(restartable.url, "/runs/run-0001").json()["status"] == "InProgress"


ADMIN = "admin-token-0123456789abcdef"


def test_with_access_control_the_shipper_ships_with_the_runs_own_token(restartable):
    restartable.stop()
    restartable.start(api_tokens=f"admin:{ADMIN}")
    admin = {"Authorization": f"Bearer {ADMIN}"}
    body = {
        "name": "toy",
        "objective": {"MetricName": "loss", "Type": "Minimize"},
        "metric_definitions": LOSS,
    }
    assert httpx.post(f"{restartable.url}/v1/jobs", json=body, headers=admin).status_code == 201
    options = ["--url", restartable.url, "--job", "toy", "--token", ADMIN]
    with subprocess.Popen(
        logmetrics("run", *options, "--", *COUNT_TO_40),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            run = httpx.get(f"{restartable.url}/v1/jobs/toy/runs/run-0001", headers=admin)
            if run.status_code == 200 and run.json()["diagnostics"][0]["points"] >= 3:
                break
            time.sleep(0.05)
        # The admin token the shipper started with stops working: what follows can only
        # be done with the run's own token.
        restartable.stop()
        restartable.start(api_tokens="admin:another-admin-token-0123456789")
        stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert stdout == COUNTED
    other = {"Authorization": "Bearer another-admin-token-0123456789"}
    run = httpx.get(f"{restartable.url}/v1/jobs/toy/runs/run-0001", headers=other).json()
    assert run["status"] == "Completed"
    log = httpx.get(f"{restartable.url}/v1/jobs/toy/runs/run-0001/logs", headers=other)
    assert log.content == COUNTED


def test_a_hyperparameter_that_is_not_utf8_is_refused_before_any_run(service):
    create_job(service.url)
    # argv bytes that are not UTF-8, as a shell passes them on.
    done = subprocess.run(
        [
            *logmetrics("run", "--url", service.url, "--job", "toy", "--hp"),
            b"lr=\xff\xfe",
            "--",
            sys.executable,
            "-c",
            "pass",
        ],
        capture_output=True,
        timeout=120,
    )

    assert done.returncode == 2
    assert "is not UTF-8 text" in done.stderr.decode()
    assert get(service.url, "/runs").json()["runs"] == []


def test_the_command_gets_neither_the_admin_token_nor_a_named_secret(start_service):
    admin = "admin-token-0123456789"
    service = start_service(api_tokens=f"admin:{admin}")
    headers = {"Authorization": f"Bearer {admin}"}
    body = {"name": "toy", "objective": {"MetricName": "loss", "Type": "Minimize"}}
    body["metric_definitions"] = LOSS
    assert httpx.post(f"{service.url}/v1/jobs", json=body, headers=headers).status_code == 201
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LOGMETRICS_")}
    environment.update(LOGMETRICS_TOKEN=admin, DEPLOY_KEY="deploy-key-0123", KEEP_ME="ordinary")

    done = ship(
        service.url,
        python("import json, os; print(json.dumps(sorted(os.environ)))"),
        *("--secret-env", "DEPLOY_KEY", "--name", "first"),
        env=environment,
    )

    assert done.returncode == 0, done.stderr  # the token in the environment was used...
    seen = json.loads(done.stdout)
    assert [name for name in ("LOGMETRICS_TOKEN", "DEPLOY_KEY") if name in seen] == []
    assert {"KEEP_ME", "LOGMETRICS_JOB", "LOGMETRICS_RUN", "SM_HPS"} <= set(seen)
    stored = httpx.get(
        f"{service.url}/v1/jobs/toy/runs/first/logs", params={"stream": "stdout"}, headers=headers
    )
    assert stored.content == done.stdout  # ...and the run's log holds no trace of it
