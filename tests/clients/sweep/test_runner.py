"""A sweep against a live service: the service picks, a local worker runs, a report."""

import sys
import textwrap

from app.clients.client import ServiceClient
from app.clients.sweep import Sweep, SweepSpec, format_report

TRAINER = textwrap.dedent(
    """
    import json, os
    hps = json.loads(os.environ["SM_HPS"])
    lr, optimizer = float(hps["lr"]), hps["optimizer"]
    for epoch in range(3):
        loss = abs(lr - 0.01) * 100 + (0 if optimizer == "adam" else 1) + 1 / (epoch + 1)
        print(f"epoch={epoch}; loss={loss:.4f};", flush=True)
    """
)


def test_a_grid_sweep_runs_every_set_and_reports_the_best(service, capfd):
    spec = SweepSpec.model_validate(
        {
            "name": "toy",
            "objective": {"MetricName": "loss", "Type": "Minimize"},
            "metric_definitions": [{"Name": "loss", "Regex": r"loss=(\S+);"}],
            "search": {
                "command": [sys.executable, "-c", TRAINER],
                "strategy": "Grid",
                "resource_limits": {"MaxParallelTrainingJobs": 2},
                "parameter_ranges": {
                    "CategoricalParameterRanges": [
                        {"Name": "optimizer", "Values": ["sgd", "adam"]},
                        {"Name": "lr", "Values": ["0.1", "0.01"]},
                    ]
                },
            },
        }
    )
    client = ServiceClient(service.url)
    result = Sweep(client, spec, poll_seconds=0.1).run()
    client.close()
    ranked = [
        (
            r["name"],
            r["status"],
            r["hyperparameters"]["optimizer"],
            r["hyperparameters"]["lr"],
            r["objective"]["value"],
        )
        for r in result.leaderboard
    ]
    # Runs are named in the order the grid hands them out.
    assert ranked == [
        ("run-0004", "Completed", "adam", "0.01", 0.3333),
        ("run-0002", "Completed", "sgd", "0.01", 1.3333),
        ("run-0003", "Completed", "adam", "0.1", 9.3333),
        ("run-0001", "Completed", "sgd", "0.1", 10.3333),
    ]
    assert result.job["status"] == "Completed"
    assert result.best is not None and result.best["name"] == "run-0004"
    report = format_report(result, ["optimizer", "lr"])
    assert "Best run: run-0004 with loss = 0.3333" in report
    assert "hyperparameters: optimizer=adam, lr=0.01" in report
    assert "Runs: 4 started, 4 completed, 0 stopped (0 early), 0 failed." in report
    assert (
        "Job Completed: MaxNumberOfTrainingJobs (all 4 runs the search may start have ended)."
        in report
    )
    shown = capfd.readouterr().out
    assert "[run-0004] epoch=2; loss=0.3333;" in shown  # prefixed, in parallel
