"""`logmetrics jobs`, `leaderboard`, `best`, `export`, and the HTTP exports under them."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pyarrow.parquet
import pytest

DEFINITIONS = [{"Name": "loss", "Regex": "loss=(\\S+);"}, {"Name": "acc", "Regex": "acc=(\\S+);"}]


@pytest.fixture
def job(api):
    body = {
        "name": "toy",
        "objective": {"MetricName": "loss", "Type": "Minimize"},
        "metric_definitions": DEFINITIONS,
    }
    assert api.post("/v1/jobs", json=body).status_code == 201
    for name, lr, log, status in (
        ("a", "0.1", "loss=0.5; acc=0.7;\nloss=0.4; acc=0.8;\n", "Completed"),
        ("b", "0.01", "loss=0.3; acc=0.9;\n", "Completed"),
        ("c", "0.5", "loss=0.1;\n", "Failed"),  # best value, but failed: unranked
        ("d", "0.2", "loss=0.2;\n", None),  # in progress: unranked
    ):
        api.post("/v1/jobs/toy/runs", json={"name": name, "hyperparameters": {"lr": lr}})
        api.post(f"/v1/jobs/toy/runs/{name}/logs", content=log.encode())
        if status:
            api.post(f"/v1/jobs/toy/runs/{name}/complete", json={"status": status})
    return "toy"


def cli(service, *args):
    done = subprocess.run(
        [sys.executable, "-m", "app", *args, "--url", service.url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stdout, done.stderr


def test_the_runs_export_ranks_as_best_does(api, job):
    answer = api.get("/v1/jobs/toy/export/runs", params={"format": "csv"})
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["rank"], r["run"], r["status"], r["objective_value"]) for r in rows] == [
        ("1", "b", "Completed", "0.3"),
        ("2", "a", "Completed", "0.4"),
        ("", "c", "Failed", "0.1"),
        ("", "d", "InProgress", "0.2"),
    ]
    assert (rows[1]["hp.lr"], rows[1]["final.acc"], rows[1]["final.loss"]) == ("0.1", "0.8", "0.4")
    assert api.get("/v1/jobs/toy/best").json()["name"] == rows[0]["run"]


def test_the_points_export_streams_every_point(api, job):
    answer = api.get("/v1/jobs/toy/export/points", params={"format": "jsonl"})
    assert answer.headers["content-type"] == "application/x-ndjson"
    points = [json.loads(line) for line in answer.text.splitlines()]
    assert [(p["run"], p["metric"], p["step"], p["value"]) for p in points] == [
        ("a", "loss", 1, 0.5),
        ("a", "loss", 2, 0.4),
        ("a", "acc", 1, 0.7),
        ("a", "acc", 2, 0.8),
        ("b", "loss", 1, 0.3),
        ("b", "acc", 1, 0.9),
        ("c", "loss", 1, 0.1),
        ("d", "loss", 1, 0.2),
    ]
    assert set(points[0]) == {"run", "metric", "step", "value", "timestamp", "stream", "line"}


def test_the_cli_lists_jobs_ranks_runs_and_names_the_best(service, job):
    code, out, _ = cli(service, "jobs")
    assert code == 0
    assert out.splitlines()[1].split() == ["toy", "InProgress", "Minimize", "loss", "4", "b", "0.3"]
    code, out, _ = cli(service, "leaderboard", "toy")
    assert [line.split()[:3] for line in out.splitlines()] == [
        ["#", "run", "status"],
        ["1", "b", "Completed"],
        ["2", "a", "Completed"],
        ["c", "Failed", "0.1"],
        ["d", "InProgress", "0.2"],
    ]
    code, out, _ = cli(service, "best", "toy")
    assert (code, out.splitlines()[0]) == (0, "b: loss = 0.3")
    assert out.splitlines()[1] == "hyperparameters: lr=0.01"


def test_the_cli_exports_csv_jsonl_and_parquet(service, job, tmp_path):
    code, out, _ = cli(service, "export", "toy", "--what", "points", "--format", "csv")
    assert code == 0 and out.splitlines()[0] == "run,metric,step,value,timestamp,stream,line"
    assert len(out.splitlines()) == 9
    target = tmp_path / "runs.parquet"
    code, _, err = cli(service, "export", "toy", "--format", "parquet", "--output", str(target))
    assert code == 0, err
    table = pyarrow.parquet.read_table(target)
    assert table.column("run").to_pylist() == ["b", "a", "c", "d"]
    assert table.column("objective_value").to_pylist() == [0.3, 0.4, 0.1, 0.2]


def test_the_cli_says_when_there_is_no_job_or_no_best_run(service, api):
    api.post(
        "/v1/jobs",
        json={
            "name": "empty",
            "objective": {"MetricName": "loss", "Type": "Minimize"},
            "metric_definitions": DEFINITIONS,
        },
    )
    code, out, _ = cli(service, "best", "empty")
    assert code == 1 and "has a value of its objective metric" in out
    code, _, err = cli(service, "leaderboard", "nope")
    assert code == 1 and "job 'nope' does not exist" in err


def test_reparse_gives_a_job_new_definitions_from_a_file_and_waits(service, api, job, tmp_path):
    fixed = tmp_path / "definitions.json"
    # As SageMaker's AlgorithmSpecification holds them; acc now also takes `acc=0.7` at
    # the end of a line without its `;`.
    fixed.write_text(
        json.dumps(
            {
                "MetricDefinitions": [
                    {"Name": "loss", "Regex": "loss=(\\S+);"},
                    {"Name": "acc", "Regex": "acc=([0-9.]+)"},
                ]
            }
        )
    )

    code, out, err = cli(
        service, "reparse", "toy", "--definitions", str(fixed), "--objective-metric", "acc"
    )

    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "job 'toy' has definitions version 2; re-parsing its 4 runs",
        "re-parsed 4 of 4 runs",
    ]
    job = api.get("/v1/jobs/toy").json()
    assert (job["objective"]["metric_name"], job["objective"]["type"]) == ("acc", "Minimize")
    best = api.get("/v1/jobs/toy/best").json()
    assert (best["name"], best["objective"]["value"]) == ("a", 0.8)


def test_reparse_with_a_file_of_no_definitions_says_so(service, job, tmp_path):
    empty = tmp_path / "nothing.json"
    empty.write_text('{"name": "x"}')

    code, _out, err = cli(service, "reparse", "toy", "--definitions", str(empty))

    assert code == 1
    assert "holds no list of metric definitions" in err
