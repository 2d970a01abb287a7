"""The reference sweep (what `make demo` runs), shrunk, with the real trainer."""

import os
import sys
from pathlib import Path

import pytest

from app.client import ServiceClient
from app.sweep import format_report, load_spec, run_sweep

SPEC = Path(__file__).resolve().parents[2] / "trainer" / "sweep.yaml"


@pytest.mark.slow
def test_the_reference_sweep_finds_a_best_run(service, monkeypatch):
    spec = load_spec(SPEC)
    spec = spec.model_copy(
        update={
            "max_runs": 2,
            "static_hyperparameters": {**spec.static_hyperparameters, "epochs": 2},
        }
    )
    # The spec runs `python -m trainer`: this interpreter's, as `make demo` arranges.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    client = ServiceClient(service.url)
    result = run_sweep(client, spec)
    client.close()
    assert [r.status for r in result.runs] == ["Completed", "Completed"]
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
    assert "Best run: " in format_report(result, spec.parameter_ranges.names())
