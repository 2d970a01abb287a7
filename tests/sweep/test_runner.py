"""A sweep against a live service: runs, the leaderboard, the best run."""

import sys
import textwrap

from app.client import ServiceClient
from app.sweep import SweepSpec, format_report, run_sweep

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
            "job": {
                "name": "toy",
                "objective": {"MetricName": "loss", "Type": "Minimize"},
                "metric_definitions": [{"Name": "loss", "Regex": r"loss=(\S+);"}],
            },
            "command": [sys.executable, "-c", TRAINER],
            "strategy": "grid",
            "max_parallel": 2,
            "parameter_ranges": {
                "CategoricalParameterRanges": [
                    {"Name": "optimizer", "Values": ["sgd", "adam"]},
                    {"Name": "lr", "Values": ["0.1", "0.01"]},
                ]
            },
        }
    )
    client = ServiceClient(service.url)
    result = run_sweep(client, spec)
    client.close()
    assert sorted(r.status for r in result.runs) == ["Completed"] * 4
    ranked = [
        (r["hyperparameters"]["optimizer"], r["hyperparameters"]["lr"], r["objective"]["value"])
        for r in result.leaderboard
    ]
    assert ranked == [
        ("adam", "0.01", 0.3333),
        ("sgd", "0.01", 1.3333),
        ("adam", "0.1", 9.3333),
        ("sgd", "0.1", 10.3333),
    ]
    assert result.best is not None
    assert result.best["hyperparameters"]["optimizer"] == "adam"
    report = format_report(result, ["optimizer", "lr"])
    assert f"Best run: {result.best['name']} with loss = 0.3333" in report
    assert "hyperparameters: optimizer=adam, lr=0.01" in report
    shown = capfd.readouterr().out
    assert f"[{result.best['name']}] epoch=2; loss=0.3333;" in shown  # prefixed, in parallel
