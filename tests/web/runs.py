"""Realistic runs for the browser tests: logs as the reference trainer prints them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import httpx

OBJECTIVE = "val_accuracy"


@dataclass(frozen=True)
class RunSpec:
    name: str
    optimizer: str
    lr: float
    quality: float  # the accuracy the run tends to
    epochs: int = 8
    status: str | None = "Completed"  # None: left in progress
    failure_reason: str | None = None


SWEEP = (
    RunSpec("run-0001", "adamw", 0.00718505, 0.972),
    RunSpec("run-0002", "adam", 0.00223471, 0.975),
    RunSpec("run-0003", "adam", 0.000582966, 0.947),
    RunSpec("run-0004", "sgd", 0.0147652, 0.969),
    RunSpec("run-0005", "adam", 0.00652591, 0.983),
    RunSpec(
        "run-0006",
        "sgd",
        0.0291,
        0.41,
        epochs=3,
        status="Failed",
        failure_reason="CUDA out of memory",
    ),
    RunSpec("run-0007", "adamw", 0.0012, 0.96, epochs=4, status=None),
)


def epoch_line(epoch: int, spec: RunSpec, when: str = "2026-11-23 01:51:36,725") -> str:
    accuracy = spec.quality - (spec.quality - 0.5) * math.exp(-epoch / 2)
    loss = 1.6 * math.exp(-epoch / 3) + (1 - spec.quality)
    lr = spec.lr * (0.5 + 0.5 * math.cos(math.pi * epoch / (spec.epochs + 1)))
    return (
        f"{when} INFO epoch={epoch}; train_loss={loss * 0.8:.6f}; val_loss={loss:.6f}; "
        f"val_accuracy={accuracy:.6f}; val_f1={accuracy - 0.002:.6f}; lr={lr:.6g};"
    )


def trainer_log(spec: RunSpec, epochs: range | None = None) -> str:
    """A run's stdout: a start line, one line per epoch, a last line when it ended."""
    lines = [
        f'2026-11-23 01:51:30,001 INFO starting on cpu with hyperparameters {{"lr": {spec.lr}, '
        f'"optimizer": "{spec.optimizer}"}}'
    ]
    for epoch in epochs or range(1, spec.epochs + 1):
        lines.append(epoch_line(epoch, spec))
        if epoch == 2:
            # The trainer's own warning: `nan` is captured by val_loss's regex and rejected.
            lines.append("2026-11-23 01:51:37,002 WARNING probe batch val_loss=nan; skipped")
    if spec.status == "Completed":
        lines.append(f"2026-11-23 01:51:40,000 INFO finished {spec.epochs} epochs in 4.03 s")
    return "\n".join(lines) + "\n"


def create_sweep(api: httpx.Client, job: str = "sweep", runs: tuple[RunSpec, ...] = SWEEP) -> None:
    """A job on the reference-trainer preset maximizing val_accuracy, and its runs."""
    created = api.post(
        "/v1/jobs",
        json={
            "name": job,
            "objective": {"MetricName": OBJECTIVE, "Type": "Maximize"},
            "metric_definitions": "reference-trainer",
            "environment": {"SM_LOG_LEVEL": "20"},
        },
    )
    assert created.status_code == 201, created.text
    for spec in runs:
        start_run(api, job, spec)
        post(api, job, spec.name, trainer_log(spec))
        if spec.status is not None:
            body: dict[str, Any] = {"status": spec.status}
            if spec.failure_reason:
                body["failure_reason"] = spec.failure_reason
            ended = api.post(f"/v1/jobs/{job}/runs/{spec.name}/complete", json=body)
            assert ended.status_code == 200, ended.text


def start_run(api: httpx.Client, job: str, spec: RunSpec) -> None:
    hyperparameters = {
        "optimizer": spec.optimizer,
        "lr": spec.lr,
        "epochs": 8,
        "task": "classification",
    }
    response = api.post(
        f"/v1/jobs/{job}/runs", json={"name": spec.name, "hyperparameters": hyperparameters}
    )
    assert response.status_code == 201, response.text


def post(api: httpx.Client, job: str, run: str, text: str | bytes, stream: str = "stdout") -> None:
    content = text.encode() if isinstance(text, str) else text
    response = api.post(
        f"/v1/jobs/{job}/runs/{run}/logs", params={"stream": stream}, content=content
    )
    assert response.status_code == 200, response.text
