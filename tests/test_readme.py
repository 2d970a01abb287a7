"""The README answers as written: its curl walk-through runs against a live service, and
its boto3 and SageMaker SDK (v2, v3) scripts against a live service, a worker and moto's
S3 server (their blocks marked `<!-- readme-sdk: ... -->`; see tests/sdk/harness.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.sagemaker.conftest import sagemaker_client
from tests.sdk.harness import (
    README_BUCKET,
    README_FILES,
    SDK3_PYTHON,
    accuracy,
    model_files,
    model_json,
    user_folder,
)

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
_BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)
# Fields whose values change from one run to the next; only their presence is checked.
_VARYING = {"created_at", "ended_at", "timestamp"}


def section(title: str) -> str:
    start = README.index(f"## {title}")
    end = README.find("\n## ", start + 1)
    return README[start : end if end >= 0 else None]


def walk_through() -> list[tuple[str, Any]]:
    """(shell command, expected JSON) pairs, in order."""
    blocks = _BLOCK.findall(section("Walk-through with curl"))
    pairs = []
    for (kind, command), (result_kind, result) in zip(blocks[::2], blocks[1::2], strict=True):
        assert (kind, result_kind) == ("sh", "json"), (kind, result_kind)
        pairs.append((command, json.loads(result)))
    return pairs


def assert_shown(shown: Any, actual: Any, where: str = "$") -> None:
    """Every field the README shows is in the response with that value."""
    if isinstance(shown, dict):
        assert isinstance(actual, dict), where
        for key, value in shown.items():
            assert key in actual, f"{where}.{key} missing"
            if key not in _VARYING:
                assert_shown(value, actual[key], f"{where}.{key}")
    elif isinstance(shown, list):
        assert isinstance(actual, list) and len(actual) == len(shown), where
        for i, (item, got) in enumerate(zip(shown, actual, strict=True)):
            assert_shown(item, got, f"{where}[{i}]")
    else:
        assert shown == actual, f"{where}: README shows {shown!r}, the service says {actual!r}"


def test_the_first_two_commands_are_make_demo_and_make_test():
    quick_start = _BLOCK.findall(section("Quick start"))[0][1]
    commands = [line.split("#")[0].strip() for line in quick_start.splitlines() if line.strip()]
    assert commands[:2] == ["make demo", "make test"]


def test_ci_runs_the_readme_test_command():
    assert "\nmake test\n" in (ROOT / ".ci" / "run").read_text()


def test_the_curl_walk_through_answers_as_written(service):
    pairs = walk_through()
    assert len(pairs) == 6
    host = service.url.removeprefix("http://")
    for command, expected in pairs:
        done = subprocess.run(
            ["bash", "-c", command.replace("localhost:8000", host)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert_shown(expected, json.loads(done.stdout), command.splitlines()[0])


def test_the_boto3_script_runs_as_written(service, tmp_path):
    script = README_FILES["tune_boto3.py"]
    worker = subprocess.Popen(
        # The script's code folder lies in its working folder, which the worker shares.
        [
            sys.executable,
            "-m",
            "app",
            "worker",
            "--url",
            service.url,
            "--poll",
            "0.2",
            "--data-root",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script.replace("http://127.0.0.1:8000", service.url)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=180,
        )
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    assert done.returncode == 0, done.stderr
    status, name_and_value = done.stdout.splitlines()
    assert status == "Completed 4"
    name, value = name_and_value.split()
    assert re.fullmatch(r"toy-amt-00[1-4]-[0-9a-f]{8}", name)
    assert 0 < float(value) <= 1


def printed(out: str, word: str) -> list[list[str]]:
    """The words after `word` on each line of `out` that starts with it."""
    return [line.split()[1:] for line in out.splitlines() if line.split()[:1] == [word]]


def test_the_sdk_v2_script_runs_as_written(service, s3, tmp_path):
    with user_folder(service.url, s3, tmp_path / "user") as user:
        out = user.run("tune_v2.py")

    ((best,),) = printed(out, "best")
    # A line per training job, AMT's names: {tuning job}-00N-{8 hex digits}.
    rows = re.findall(r"^(\S+-00\d-[0-9a-f]{8}) (\S+) (\S+) (\S+)$", out, re.M)
    assert len(rows) == 3, out
    assert {status for _, status, _, _ in rows} == {"Completed"}
    for name, _, lr, value in rows:  # sorted by name: {tuning job}-001-..., -002-, -003-
        assert float(value) == accuracy(float(lr)), (name, lr, value)
    assert [name.rsplit("-", 2)[1] for name, *_ in rows] == ["001", "002", "003"]
    assert best == max(rows, key=lambda row: float(row[3]))[0]
    model = f"s3://{README_BUCKET}/{best}/output/model.tar.gz"
    assert printed(out, "model") == [[model]]
    best_lr = float(next(row[2] for row in rows if row[0] == best))
    assert model_files(s3, model)["model.json"] == model_json(best_lr)


def test_the_sdk_v3_script_runs_as_written(service, s3, tmp_path):
    with user_folder(service.url, s3, tmp_path / "user") as user:
        out = user.run("tune_v3.py", python=SDK3_PYTHON)

    ((trained, status),) = printed(out, "trained")
    assert re.fullmatch(r"toy-v3-\d{14}", trained), trained  # base_job_name and a timestamp
    assert status == "Completed"
    # ModelTrainer's default output path: s3://{default bucket}/{base_job_name}.
    model = f"s3://{README_BUCKET}/toy-v3/{trained}/output/model.tar.gz"
    assert printed(out, "model") == [[model]]
    assert model_files(s3, model)["model.json"] == model_json(0.02)

    ((best, value),) = printed(out, "best")
    described = sagemaker_client(service.url).describe_training_job(TrainingJobName=best)
    assert described["TrainingJobStatus"] == "Completed"
    lr = float(described["HyperParameters"]["lr"])
    assert float(value) == accuracy(lr)
    best_model = f"s3://{README_BUCKET}/toy-v3/{best}/output/model.tar.gz"
    assert described["ModelArtifacts"] == {"S3ModelArtifacts": best_model}
    assert model_files(s3, best_model)["model.json"] == model_json(lr)


def test_the_pipe_example_posts_a_trainers_output(service):
    (shown,) = re.findall(r"a pipe \(`([^`]+)`", section("Walk-through with curl"))
    assert shown == "trainer 2>&1 | curl -X POST -T - URL"
    assert (
        service.client.post(
            "/v1/jobs",
            json={
                "name": "piped",
                "objective": {"MetricName": "loss", "Type": "Minimize"},
                "metric_definitions": [{"Name": "loss", "Regex": "loss=(.*?);"}],
            },
        ).status_code
        == 201
    )
    assert service.client.post("/v1/jobs/piped/runs", json={}).status_code == 201
    url = f"{service.url}/v1/jobs/piped/runs/run-0001/logs"
    trainer = "printf 'loss=0.5;\\n'; sleep 0.2; printf 'loss=0.25;\\n'"
    command = shown.replace("trainer", f"( {trainer} )").replace("URL", f"'{url}'")
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)
    assert json.loads(done.stdout) == {
        "stream": "stdout",
        "next_offset": 21,
        "lines": 2,
        "points": 2,
    }


def test_the_api_table_lists_every_route(tmp_path):
    from app.config import Settings
    from app.main import create_app

    table = section("HTTP API (v1)")
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/routes.db"))
    try:
        routes = [
            (method.upper(), path)
            for path, operations in app.openapi()["paths"].items()
            for method in operations
        ]
    finally:
        app.state.storage.close()
    assert len(routes) == 36  # every operation of the API
    missing = [
        f"{method} {path}"
        for method, path in routes
        if re.search(rf"`{method} {re.escape(path)}[`?]", table) is None
    ]
    assert missing == []
