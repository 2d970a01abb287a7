"""GET /v1/jobs/{job}/history, /parallel-coordinates and /importance through a real service.

One service for the module (the tests only read), with access control on: the known-answer
search of `tests/analysis/jobs.py` (30 completed runs whose `acc` lr alone decides, 2
failed) made with the admin token, a job without a search whose runs differ in `seed`, and
an empty job. Every read goes through the read token.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from app.config import Settings
from tests.analysis.jobs import KnownJob, make_known_answer_job
from tests.service import running_service

ADMIN = "admin-token-0123456789abcdef"
READER = "read-token-0123456789abcdef"


@dataclass(frozen=True)
class Served:
    reader: httpx.Client
    known: KnownJob


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    database = tmp_path_factory.mktemp("analysis-routes") / "logmetrics.db"
    settings = Settings(
        database_url=f"sqlite:///{database}",
        sqlite_synchronous="NORMAL",
        api_tokens=f"admin:{ADMIN},read:{READER}",
    )
    with running_service(settings) as service:
        admin = service.client
        admin.headers["Authorization"] = f"Bearer {ADMIN}"
        known = make_known_answer_job(admin)
        _plain_job(admin)
        with httpx.Client(
            base_url=service.url, headers={"Authorization": f"Bearer {READER}"}, timeout=60
        ) as reader:
            yield Served(reader, known)


def _plain_job(api: httpx.Client) -> None:
    """Job `plain` (minimize `loss`, no search): runs a, b (seeds 1, 2; b better), c
    in progress; job `empty` with no runs."""
    for name in ("plain", "empty"):
        body = {
            "name": name,
            "objective": {"MetricName": "loss", "Type": "Minimize"},
            "metric_definitions": [{"Name": "loss", "Regex": r"loss=(\S+);"}],
        }
        assert api.post("/v1/jobs", json=body).status_code == 201
    for run, seed, loss in (("a", 1, 0.5), ("b", 2, 0.25), ("c", 3, 0.125)):
        body = {"name": run, "hyperparameters": {"seed": seed, "epochs": 10}}
        assert api.post("/v1/jobs/plain/runs", json=body).status_code == 201
        logged = api.post(f"/v1/jobs/plain/runs/{run}/logs", content=f"loss={loss};\n".encode())
        assert logged.status_code == 200, logged.text
        if run != "c":
            done = api.post(f"/v1/jobs/plain/runs/{run}/complete", json={"status": "Completed"})
            assert done.status_code == 200


def test_history_of_the_known_search(served: Served) -> None:
    body = served.reader.get("/v1/jobs/known/history").json()

    known = served.known
    names = list(known.hyperparameters)
    assert [r["name"] for r in body["runs"]] == names
    assert [r["index"] for r in body["runs"]] == list(range(1, 33))
    assert (body["metric_name"], body["objective_type"], body["best_run"]) == (
        "acc",
        "Maximize",
        known.best_run,
    )
    values = [known.values.get(name) for name in names]
    assert [r["objective_value"] for r in body["runs"]] == values
    assert [r["status"] for r in body["runs"]] == ["Completed"] * 30 + ["Failed"] * 2
    # The runs ended in creation order here: by time and by index agree.
    best = [max(v for v in values[: i + 1] if v is not None) for i in range(32)]
    assert [r["best_by_index"] for r in body["runs"]] == best
    assert [r["best_by_time"] for r in body["runs"]] == best
    new_best = [values[i] is not None and (i == 0 or best[i] > best[i - 1]) for i in range(32)]
    assert [r["new_best"] for r in body["runs"]] == new_best
    first = body["runs"][0]
    assert first["created_at"].endswith("Z") and first["ended_at"].endswith("Z")


def test_history_of_a_job_without_a_search(served: Served) -> None:
    body = served.reader.get("/v1/jobs/plain/history").json()

    assert body["best_run"] == "b"
    assert [
        (r["name"], r["status"], r["objective_value"], r["best_by_index"], r["new_best"])
        for r in body["runs"]
    ] == [
        ("a", "Completed", 0.5, 0.5, True),
        ("b", "Completed", 0.25, 0.25, True),
        ("c", "InProgress", None, 0.25, False),
    ]
    assert body["runs"][2]["ended_at"] is None and body["runs"][2]["best_by_time"] is None


def test_parallel_coordinates_of_the_known_search(served: Served) -> None:
    body = served.reader.get("/v1/jobs/known/parallel-coordinates").json()

    known = served.known
    lrs = [float(hp["lr"]) for hp in known.hyperparameters.values()]
    momenta = [float(hp["momentum"]) for hp in known.hyperparameters.values()]
    accs = [*known.values.values(), 0.1, 0.1]  # the failed runs' values are shown too
    assert body["dimensions"] == [
        {
            "key": "hyperparameter:optimizer",
            "name": "optimizer",
            "kind": "hyperparameter",
            "scale": "categorical",
            "categories": ["adam", "sgd", "rmsprop"],
            "min": None,
            "max": None,
            "objective": False,
        },
        {
            "key": "hyperparameter:lr",
            "name": "lr",
            "kind": "hyperparameter",
            "scale": "log",
            "categories": None,
            "min": min(lrs),
            "max": max(lrs),
            "objective": False,
        },
        {
            "key": "hyperparameter:momentum",
            "name": "momentum",
            "kind": "hyperparameter",
            "scale": "linear",
            "categories": None,
            "min": min(momenta),
            "max": max(momenta),
            "objective": False,
        },
        {
            "key": "metric:acc",
            "name": "acc",
            "kind": "metric",
            "scale": "linear",
            "categories": None,
            "min": min(accs),
            "max": max(accs),
            "objective": True,
        },
    ]
    first = next(iter(known.hyperparameters.items()))
    assert body["runs"][0] == {
        "name": first[0],
        "status": "Completed",
        "objective_value": known.values[first[0]],
        "values": [
            first[1]["optimizer"],
            float(first[1]["lr"]),
            float(first[1]["momentum"]),
            known.values[first[0]],
        ],
    }
    assert [r["objective_value"] for r in body["runs"][-2:]] == [None, None]
    assert body["available"] == [
        "hyperparameter:optimizer",
        "hyperparameter:lr",
        "hyperparameter:momentum",
        "metric:acc",
        "metric:loss",
    ]


def test_asked_dimensions(served: Served) -> None:
    response = served.reader.get(
        "/v1/jobs/known/parallel-coordinates",
        params=[("dimension", "metric:loss"), ("dimension", "hyperparameter:lr")],
    )

    body = response.json()
    assert [d["key"] for d in body["dimensions"]] == [
        "metric:loss",
        "hyperparameter:lr",
        "metric:acc",
    ]
    run = body["runs"][0]["name"]
    acc = served.known.values[run]
    assert body["runs"][0]["values"] == [
        round(1 - acc, 6),
        float(served.known.hyperparameters[run]["lr"]),
        acc,
    ]


def test_parallel_coordinates_of_a_job_without_a_search(served: Served) -> None:
    body = served.reader.get("/v1/jobs/plain/parallel-coordinates").json()

    assert [(d["key"], d["scale"], d["min"], d["max"]) for d in body["dimensions"]] == [
        ("hyperparameter:seed", "linear", 1.0, 3.0),
        ("metric:loss", "linear", 0.125, 0.5),
    ]
    # The running run's objective is its last value so far, on the axis, not coloured.
    assert [(r["name"], r["objective_value"], r["values"]) for r in body["runs"]] == [
        ("a", 0.5, [1.0, 0.5]),
        ("b", 0.25, [2.0, 0.25]),
        ("c", None, [3.0, 0.125]),
    ]
    assert body["available"] == ["hyperparameter:seed", "metric:loss"]


@pytest.mark.parametrize("evaluator", ["fanova", "ped-anova"])
def test_importance_ranks_lr_first(served: Served, evaluator: str) -> None:
    body = served.reader.get("/v1/jobs/known/importance", params={"evaluator": evaluator}).json()

    assert body["importances"][0]["name"] == "lr"
    assert sorted(row["name"] for row in body["importances"]) == ["lr", "momentum", "optimizer"]
    assert body["importances"][0]["importance"] > 0.5
    assert sum(row["importance"] for row in body["importances"]) == pytest.approx(1)
    assert {k: v for k, v in body.items() if k != "importances"} == {
        "metric_name": "acc",
        "evaluator": evaluator,
        "runs": 30,
        "minimum_runs": 20,
        "warning": None,
    }


def test_importance_by_default_is_fanova_and_the_same_on_reload(served: Served) -> None:
    first = served.reader.get("/v1/jobs/known/importance").json()
    again = served.reader.get("/v1/jobs/known/importance").json()
    assert first["evaluator"] == "fanova"
    assert again == first


def test_importance_with_too_few_runs_or_none(served: Served) -> None:
    plain = served.reader.get("/v1/jobs/plain/importance").json()
    assert plain == {
        "metric_name": "loss",
        "evaluator": "fanova",
        "runs": 2,
        "minimum_runs": 20,
        "warning": "Only 2 finished runs (fewer than 20): the ranking may be noise; "
        "left out, never varied: epochs.",
        "importances": [{"name": "seed", "importance": 1.0}],
    }
    empty = served.reader.get("/v1/jobs/empty/importance").json()
    assert (empty["runs"], empty["importances"], empty["warning"]) == (
        0,
        [],
        "No finished run with a value yet.",
    )


@pytest.mark.parametrize("path", ["history", "parallel-coordinates", "importance"])
def test_an_unknown_job_is_a_404(served: Served, path: str) -> None:
    response = served.reader.get(f"/v1/jobs/nope/{path}")
    assert response.status_code == 404
    assert response.json()["error"] == "job_not_found"


def test_an_unknown_dimension_is_a_422_naming_the_available_keys(served: Served) -> None:
    response = served.reader.get(
        "/v1/jobs/plain/parallel-coordinates", params={"dimension": "hyperparameter:lr"}
    )
    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid_input",
        "message": "unknown dimension 'hyperparameter:lr'; available: hyperparameter:seed, "
        "metric:loss",
        "available": ["hyperparameter:seed", "metric:loss"],
    }


def test_an_unknown_evaluator_is_a_422(served: Served) -> None:
    response = served.reader.get("/v1/jobs/known/importance", params={"evaluator": "shap"})
    assert response.status_code == 422
    assert "fanova" in response.text and "ped-anova" in response.text


def test_no_token_may_not_read(served: Served) -> None:
    response = httpx.get(f"{served.reader.base_url}/v1/jobs/known/history")
    assert response.status_code == 401
