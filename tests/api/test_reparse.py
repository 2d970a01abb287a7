"""POST /v1/jobs/{job}/reparse: a regex fixed after the runs, over HTTP."""

from __future__ import annotations

import time

TYPO = [{"Name": "loss", "Regex": "Los = (.*?);"}]
FIXED = [
    {"Name": "loss", "Regex": "Loss = (.*?);"},
    {"Name": "acc", "Regex": r"acc=([0-9.]+)"},
]
LOG = "epoch 1 Loss = 0.5; acc=0.7\nepoch 2 Loss = 0.25; acc=0.9\n"


def wait_until_done(api, job: str) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        progress = api.get(f"/v1/jobs/{job}/reparse").json()
        if progress["done"]:
            return progress
        time.sleep(0.05)
    raise AssertionError(f"the re-parse of {job} did not finish: {progress}")


def test_a_typo_fixed_after_the_runs_gives_them_their_points(api, make_job, make_run):
    make_job(definitions=TYPO)
    make_run(name="a", log=LOG, status="Completed")
    make_run(name="b", log=LOG)
    assert api.get("/v1/jobs/gan/best").status_code == 404

    response = api.post("/v1/jobs/gan/reparse", json={"MetricDefinitions": FIXED})

    assert response.status_code == 202, response.text
    assert response.json()["definitions_version"] == 2
    assert wait_until_done(api, "gan") == {
        "job": "gan",
        "definitions_version": 2,
        "runs": 2,
        "runs_reparsed": 2,
        "done": True,
    }
    best = api.get("/v1/jobs/gan/best").json()
    assert (best["name"], best["objective"]["value"]) == ("a", 0.25)
    series = api.get("/v1/jobs/gan/runs/b/metrics/acc").json()
    assert [(p["step"], p["value"]) for p in series["points"]] == [(1, 0.7), (2, 0.9)]
    # Run b goes on with the new definitions.
    api.post("/v1/jobs/gan/runs/b/logs", content=b"epoch 3 Loss = 0.125; acc=0.95\n")
    assert api.get("/v1/jobs/gan/runs/b").json()["objective"]["value"] == 0.125


def test_the_old_definitions_stay_in_the_jobs_history(api, make_job):
    make_job(definitions=TYPO)
    api.post(
        "/v1/jobs/gan/reparse",
        json={
            "metric_definitions": FIXED,
            "objective": {"metric_name": "acc", "type": "Maximize"},
        },
    )

    job = api.get("/v1/jobs/gan").json()
    assert (job["definitions_version"], job["objective"]["metric_name"]) == (2, "acc")
    versions = api.get("/v1/jobs/gan/definitions").json()["versions"]
    assert [
        (v["version"], v["objective"]["metric_name"], [d["regex"] for d in v["metric_definitions"]])
        for v in versions
    ] == [(1, "loss", ["Los = (.*?);"]), (2, "acc", ["Loss = (.*?);", r"acc=([0-9.]+)"])]
    assert versions[0]["replaced_at"] is not None and versions[1]["replaced_at"] is None


def test_a_bad_reparse_is_a_422_and_changes_nothing(api, make_job):
    make_job(definitions=TYPO)

    missing_objective = api.post(
        "/v1/jobs/gan/reparse", json={"metric_definitions": [{"Name": "acc", "Regex": "a=(.*)"}]}
    )
    bad_regex = api.post(
        "/v1/jobs/gan/reparse", json={"metric_definitions": [{"Name": "loss", "Regex": "(("}]}
    )

    assert (missing_objective.status_code, missing_objective.json()["error"]) == (
        422,
        "invalid_objective",
    )
    assert (bad_regex.status_code, bad_regex.json()["error"]) == (422, "invalid_metric_definition")
    assert api.get("/v1/jobs/gan").json()["definitions_version"] == 1
    assert api.post("/v1/jobs/nope/reparse", json={"metric_definitions": FIXED}).status_code == 404


def test_a_run_says_whether_an_unmatched_metrics_text_occurs(api, make_job, make_run):
    make_job(definitions=[*TYPO, {"Name": "acc", "Regex": r"acc=([a-z]+)"}])
    make_run(name="a", log=LOG)

    diagnostics = {
        d["metric_name"]: (d["log_format"], d["points"], d["hint"])
        for d in api.get("/v1/jobs/gan/runs/a").json()["diagnostics"]
    }

    assert diagnostics == {
        "loss": ("text", 0, "`Los = ` occurs in no line"),
        "acc": ("text", 0, "`acc=` occurs in 2 lines, but the regex matched none"),
    }


def test_a_definition_may_set_its_own_log_format(api, make_job):
    job = make_job(
        definitions=[
            {"Name": "loss", "Regex": "Loss = (.*?);"},
            {"Name": "auc", "Regex": r"#011auc:(\S+)", "LogFormat": "cloudwatch"},
        ]
    )

    assert [(d["name"], d["log_format"]) for d in job["metric_definitions"]] == [
        ("loss", None),
        ("auc", "cloudwatch"),
    ]
