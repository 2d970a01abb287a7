"""DELETE /v1/jobs/{job} and DELETE /v1/jobs/{job}/runs/{run}: all their data goes."""

from __future__ import annotations

from sqlalchemy import create_engine, func, select

from app.storage.schema import chunks, points, run_metrics, runs, streams

LOG = "Loss = 0.5;\nLoss = 0.25;\n"


def rows(service, table):
    engine = create_engine(service.settings.database_url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(table)).scalar_one()
    engine.dispose()
    return count


def test_deleting_a_job_takes_its_runs_points_and_logs(service, api, make_job, make_run):
    make_job()
    make_run(log=LOG, status="Completed")
    make_run(log=LOG)
    assert [rows(service, t) for t in (runs, streams, run_metrics, points, chunks)] == [
        2,
        2,
        2,
        4,
        2,
    ]

    assert api.delete("/v1/jobs/gan").status_code == 204

    assert api.get("/v1/jobs/gan").status_code == 404
    assert [rows(service, t) for t in (runs, streams, run_metrics, points, chunks)] == [0] * 5
    assert api.delete("/v1/jobs/gan").json()["error"] == "job_not_found"
    # The name is free again, and the new job starts empty.
    make_job()
    assert api.get("/v1/jobs/gan").json()["run_counts"]["Completed"] == 0


def test_deleting_a_run_takes_its_data_and_frees_its_name(api, make_job, make_run, post_log):
    make_job()
    make_run(log=LOG, status="Completed")
    make_run(log="Loss = 0.1;\n", status="Completed")

    assert api.delete("/v1/jobs/gan/runs/run-0002").status_code == 204

    assert api.get("/v1/jobs/gan/runs/run-0002").status_code == 404
    assert api.get("/v1/jobs/gan/best").json()["name"] == "run-0001"
    # A new run of that name starts from nothing, though this process saw the old one.
    make_run(name="run-0002")
    answer = post_log("run-0002", "Loss = 0.3;\n")
    assert answer.json() == {"stream": "stdout", "next_offset": 12, "lines": 1, "points": 1}
    assert api.delete("/v1/jobs/gan/runs/nope").json()["error"] == "run_not_found"


def test_only_an_admin_may_delete(start_service):
    admin, reader = "admin-token-0123456789", "read-token-0123456789"
    service = start_service(api_tokens=f"admin:{admin},read:{reader}")
    body = {
        "name": "gan",
        "objective": {"MetricName": "loss", "Type": "Minimize"},
        "metric_definitions": [{"Name": "loss", "Regex": "Loss = (.*?);"}],
    }
    as_admin = {"Authorization": f"Bearer {admin}"}
    assert service.client.post("/v1/jobs", json=body, headers=as_admin).status_code == 201
    refused = service.client.delete("/v1/jobs/gan", headers={"Authorization": f"Bearer {reader}"})
    assert refused.status_code == 403
    assert service.client.delete("/v1/jobs/gan", headers=as_admin).status_code == 204
