"""A search whose answer is known, built through the API, for the analysis tests (the JSON
routes' and the job page's): `make_known_answer_job`.

A plain module (not a fixture file) so any test module may import it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["KnownJob", "accuracy", "known_answer_search", "make_known_answer_job"]


def accuracy(lr: float) -> float:
    """The objective the known answer decides, as a run prints it (6 decimals):
    `acc = 1 - |log10(lr) + 2.5| / 3`, which peaks at lr = 10^-2.5 and depends on nothing else."""
    return float(f"{1 - abs(math.log10(lr) + 2.5) / 3:.6f}")


def known_answer_search(name: str, runs: int) -> dict[str, Any]:
    """The job's body: maximize `acc`, a Random search (seed 7) of `runs` runs over `lr`
    (0.0001 to 0.1, Logarithmic), `momentum` (0.5 to 0.99, Linear) and `optimizer`
    (adam, sgd, rmsprop)."""
    return {
        "name": name,
        "objective": {"MetricName": "acc", "Type": "Maximize"},
        "metric_definitions": [
            {"Name": "acc", "Regex": r"acc=(\S+);"},
            {"Name": "loss", "Regex": r"loss=(\S+);"},
        ],
        "search": {
            "strategy": "Random",
            "command": ["true"],
            "random_seed": 7,
            "resource_limits": {
                "max_number_of_training_jobs": runs,
                "max_parallel_training_jobs": runs,
            },
            "parameter_ranges": {
                "ContinuousParameterRanges": [
                    {
                        "Name": "lr",
                        "MinValue": 0.0001,
                        "MaxValue": 0.1,
                        "ScalingType": "Logarithmic",
                    },
                    {"Name": "momentum", "MinValue": 0.5, "MaxValue": 0.99},
                ],
                "CategoricalParameterRanges": [
                    {"Name": "optimizer", "Values": ["adam", "sgd", "rmsprop"]}
                ],
            },
        },
    }


@dataclass(frozen=True)
class KnownJob:
    """What `make_known_answer_job` made: the job's name, every run's hyperparameters
    (as the search chose them, by run name), the completed runs' objective values and
    the failed runs' names, each in the order the runs were leased (= created)."""

    name: str
    hyperparameters: dict[str, dict[str, str]]
    values: dict[str, float]
    failed: tuple[str, ...]

    @property
    def best_run(self) -> str:
        return max(self.values, key=lambda run: self.values[run])


def make_known_answer_job(
    api: httpx.Client, name: str = "known", completed: int = 30, failed: int = 2
) -> KnownJob:
    """Make a job whose objective one hyperparameter decides, through the API.

    The search (`known_answer_search`) starts `completed + failed` runs, leased one after
    another by worker `w`. Each of the first `completed` logs three lines,
    `step=s; acc=<accuracy(lr) * s / 3>; loss=<1 - that>;` for s = 1, 2, 3 (so its last and
    objective value is `accuracy(lr)`, 6 decimals) and completes; the last `failed` log
    `step=1; acc=0.100000; loss=0.900000;` and fail ("out of memory"). So `lr` decides
    the objective and `momentum` and `optimizer` are noise; the failed runs' values do not
    count.

    Args:
        api: a client of a running service (tests/service.py) that may manage jobs.
        name: the job's name.
        completed: how many runs complete.
        failed: how many runs fail after them.

    Returns:
        The job's name, runs' hyperparameters, completed values and failed runs.
    """
    created = api.post("/v1/jobs", json=known_answer_search(name, completed + failed))
    assert created.status_code == 201, created.text
    hyperparameters: dict[str, dict[str, str]] = {}
    values: dict[str, float] = {}
    failures: list[str] = []
    for i in range(completed + failed):
        lease = api.post("/v1/leases", json={"worker": "w", "jobs": [name]}).json()["lease"]
        assert lease is not None, "the search gave no run"
        run = lease["run"]
        hyperparameters[run] = dict(lease["hyperparameters"])
        ended: dict[str, Any] = {"status": "Completed"}
        if i < completed:
            values[run] = accuracy(float(lease["hyperparameters"]["lr"]))
            log = "".join(
                f"step={s}; acc={values[run] * s / 3:.6f}; loss={1 - values[run] * s / 3:.6f};\n"
                for s in (1, 2, 3)
            )
        else:
            failures.append(run)
            log = "step=1; acc=0.100000; loss=0.900000;\n"
            ended = {"status": "Failed", "failure_reason": "out of memory"}
        posted = api.post(f"/v1/jobs/{name}/runs/{run}/logs", content=log.encode())
        assert posted.status_code == 200, posted.text
        done = api.post(f"/v1/jobs/{name}/runs/{run}/complete", json=ended)
        assert done.status_code == 200, done.text
    return KnownJob(name, hyperparameters, values, tuple(failures))
