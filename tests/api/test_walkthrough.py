"""The README's walk-through, as a client would do it: job, run, log, complete, best."""

from __future__ import annotations

from tests.samples import GAN_LINE


def test_the_gan_example_from_job_to_best_run(api):
    job = api.post(
        "/v1/jobs",
        json={
            "name": "gan",
            "objective": {"MetricName": "loss", "Type": "Minimize"},
            "metric_definitions": [
                {"Name": "loss", "Regex": "Loss = (.*?);"},
                {"Name": "ganloss", "Regex": "GAN_loss=(.*?);"},
                {"Name": "discloss", "Regex": "disc_train_loss=(.*?);"},
                {"Name": "disc-combined", "Regex": "disc-combined=(.*?);"},
            ],
        },
    )
    assert job.status_code == 201

    run = api.post("/v1/jobs/gan/runs", json={"hyperparameters": {"lr": 0.0002, "batch_size": 64}})
    assert (run.status_code, run.json()["name"], run.json()["hyperparameters"]) == (
        201,
        "run-0001",
        {"lr": "0.0002", "batch_size": "64", "_tuning_objective_metric": "loss"},
    )

    posted = api.post(
        "/v1/jobs/gan/runs/run-0001/logs",
        params={"stream": "stdout"},
        content=(GAN_LINE + "\n").encode(),
    )
    assert posted.json() == {"stream": "stdout", "next_offset": 190, "lines": 1, "points": 4}

    completed = api.post("/v1/jobs/gan/runs/run-0001/complete", json={"status": "Completed"})
    assert (completed.status_code, completed.json()["status"]) == (200, "Completed")

    best = api.get("/v1/jobs/gan/best")
    assert best.status_code == 200
    assert best.json()["name"] == "run-0001"
    assert best.json()["objective"] == {
        "metric_name": "loss",
        "value": 16.020744,
        "status": "Succeeded",
    }
    assert [(m["metric_name"], m["value"]) for m in best.json()["final_metrics"]] == [
        ("loss", 16.020744),
        ("ganloss", 0.138318),
        ("discloss", 1.374587),
        ("disc-combined", 0.0),
    ]
    assert api.get("/v1/jobs/gan").json()["best_run"] == {
        "name": "run-0001",
        "objective_value": 16.020744,
    }
