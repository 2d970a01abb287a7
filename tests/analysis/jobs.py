"""A search whose answer is known, built through the API, for the analysis tests (the JSON
routes' and the job page's): `make_known_answer_job`.

A plain module (not a fixture file) so any test module may import it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from app.protocol.search import SearchSpec
from app.records import MetricDefinition, Point, RunStatus, StreamState
from app.storage import Storage
from app.storage.records import JobSpec
from tests.storage.factories import chunk

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
                "max_parallel_training_jobs": min(runs, 100),  # AMT's most
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
    api: httpx.Client | Storage, name: str = "known", completed: int = 30, failed: int = 2
) -> KnownJob:
    """Make a job whose objective one hyperparameter decides, through the API or straight
    into a storage.

    Given a Storage, the runs' hyperparameters are chosen here, not by the search: run i
    (1-based) of the completed ones has `lr = 10 ** (-4 + 3 (i - 1) / (completed - 1))`
    (6 significant digits, 0.0001 to 0.1 evenly on the log scale), and `momentum` and
    `optimizer` drawn by `random.Random(7)` (`uniform(0.5, 0.99)`, 6 decimals, then
    `choice` of the three); each completed run has one point `acc = accuracy(lr)` and
    `loss = 1 - acc`; the failed ones have lr 0.001, momentum 0.9, adam and acc 0.1.

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
    if isinstance(api, Storage):
        return _into_storage(api, name, completed, failed)
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


def _into_storage(storage: Storage, name: str, completed: int, failed: int) -> KnownJob:
    body = known_answer_search(name, completed + failed)
    job = storage.create_job(
        JobSpec(
            name=name,
            objective_metric="acc",
            objective_type="Maximize",
            objective_strategy="latest",
            log_format="text",
            metric_definitions=tuple(
                MetricDefinition(d["Name"], d["Regex"]) for d in body["metric_definitions"]
            ),
            environment={},
            search=_stored_search(body["search"]),
        )
    )
    draw = random.Random(7)
    hyperparameters: dict[str, dict[str, str]] = {}
    values: dict[str, float] = {}
    failures: list[str] = []
    for i in range(completed + failed):
        if i < completed:
            share = i / (completed - 1) if completed > 1 else 0
            hp = {
                "lr": f"{10 ** (-4 + 3 * share):.6g}",
                "momentum": f"{draw.uniform(0.5, 0.99):.6f}",
                "optimizer": draw.choice(["adam", "sgd", "rmsprop"]),
            }
            acc = accuracy(float(hp["lr"]))
        else:
            hp, acc = {"lr": "0.001", "momentum": "0.9", "optimizer": "adam"}, 0.1
        run = storage.create_run(job, None, hp)
        line = f"acc={acc:.6f}; loss={1 - acc:.6f};\n".encode()
        points = [Point("acc", acc, None, 1, 0), Point("loss", round(1 - acc, 6), None, 1, 0)]
        state = StreamState(next_offset=len(line), lines=1)
        storage.append_chunk(job, run, chunk(line, state, points))
        hyperparameters[run.name] = hp
        status = RunStatus.COMPLETED if i < completed else RunStatus.FAILED
        reason = None if i < completed else "out of memory"
        if i < completed:
            values[run.name] = acc
        else:
            failures.append(run.name)
        storage.complete_run(
            job, storage.get_run(job, run.name), status, reason, datetime.now(UTC), ()
        )
    return KnownJob(name, hyperparameters, values, tuple(failures))


def _stored_search(search: dict[str, Any]) -> dict[str, Any]:
    """The search as the service stores it (`SearchSpec.model_dump()`)."""
    return SearchSpec.model_validate(search).model_dump(mode="json")
