"""The reference sweep (what `make demo` runs), shrunk, with the real trainer."""

import os
import sys
from pathlib import Path

import pytest

from app.clients.client import ServiceClient
from app.clients.sweep import Sweep, format_report, load_spec

SPEC = Path(__file__).resolve().parents[3] / "trainer" / "sweep.yaml"


@pytest.mark.slow
def test_the_reference_sweep_finds_a_best_run(service, monkeypatch):
    spec = load_spec(SPEC)
    search = spec.search
    assert (search.strategy, search.early_stopping) == ("Bayesian", "Auto")
    limits = search.resource_limits.model_copy(update={"max_number_of_training_jobs": 2})
    search = search.model_copy(
        update={
            "resource_limits": limits,
            "static_hyperparameters": {**search.static_hyperparameters, "epochs": 2},
        }
    )
    spec = spec.model_copy(update={"search": search})
    # The spec runs `python -m trainer`: this interpreter's, as `make demo` arranges.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    client = ServiceClient(service.url)
    result = Sweep(client, spec, poll_seconds=0.1).run()
    client.close()
    assert sorted(r["status"] for r in result.leaderboard) == ["Completed", "Completed"]
    assert result.best is not None
    metrics = {m["metric_name"]: m["value"] for m in result.best["final_metrics"]}
    assert metrics["epoch"] == 2
    assert 0.5 < metrics["val_accuracy"] <= 1
    assert set(metrics) == {
        "epoch",
        "train_loss",
        "val_loss",
        "val_accuracy",
        "val_f1",
        "val_precision",
        "val_recall",
        "val_roc_auc",
        "lr",
    }
    assert result.best["objective"]["value"] == metrics["val_accuracy"]
    assert "Best run: " in format_report(result, search.parameter_ranges.names())
