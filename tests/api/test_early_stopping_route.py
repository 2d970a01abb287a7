"""GET /v1/jobs/{job}/runs/{run}/early-stopping on runs the real tuner stopped (or not).

One service for the module (the tests only read): a search with the median rule whose
run-0006 the tuner stops at step 7, a Hyperband search with a run stopped at a rung, and a
job without early stopping. `stopped_search` also feeds the run page's browser test.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app.config import Settings
from app.tuning.stopping import median_reason_step
from tests.service import Service, running_service
from tests.tuning.conftest import search_job_body

JOB = "median"
STOPPED = "run-0006"
NOT_STOPPED = "run-0007"
# Five earlier runs: acc = base + 0.04 * step for steps 1 to 10, so their running averages
# at step s are base + 0.02 (s + 1) and the median of them 0.3 + 0.02 (s + 1).
BASES = (0.2, 0.25, 0.3, 0.35, 0.4)
# run-0006 keeps up until step 6 (0.46 >= 0.44), then falls to 0.41 < 0.46 at step 7.
STOPPED_VALUES = (0.30, 0.36, 0.40, 0.42, 0.45, 0.46, 0.41)
NOT_STOPPED_VALUES = (0.35, 0.40, 0.45, 0.50, 0.52, 0.55, 0.58, 0.60)
REASON = "stopped early at step 7: 0.41 < median 0.46 of 5 earlier runs' running averages"


def stopped_search(api: httpx.Client) -> None:
    """Make job `median`: five runs completed, run-0006 stopped by the tuner's median rule
    at step 7 (each point sent on its own, so the rule judges each), run-0007 not."""
    body = search_job_body(
        JOB,
        early_stopping="Auto",
        resource_limits={"max_number_of_training_jobs": 7, "max_parallel_training_jobs": 7},
    )
    assert api.post("/v1/jobs", json=body).status_code == 201, "job"
    runs = [api.post("/v1/leases", json={"worker": "w"}).json()["lease"]["run"] for _ in range(7)]
    assert runs[5:] == [STOPPED, NOT_STOPPED]

    def send(run: str, value: float) -> httpx.Response:
        response = api.post(f"/v1/jobs/{JOB}/runs/{run}/logs", content=f"acc={value};\n".encode())
        assert response.status_code == 200, response.text
        return response

    for run, base in zip(runs, BASES, strict=False):
        for step in range(1, 11):
            send(run, round(base + 0.04 * step, 4))
        api.post(f"/v1/jobs/{JOB}/runs/{run}/complete", json={"status": "Completed"})
    answers = [send(STOPPED, value).json() for value in STOPPED_VALUES]
    assert [a.get("stop_requested") for a in answers] == [None] * 6 + [REASON]
    for value in NOT_STOPPED_VALUES:
        assert "stop_requested" not in send(NOT_STOPPED, value).json()
    api.post(f"/v1/jobs/{JOB}/runs/{NOT_STOPPED}/complete", json={"status": "Completed"})
    # The worker's SIGTERM ends the command with an error: the run ends Stopped.
    api.post(f"/v1/jobs/{JOB}/runs/{STOPPED}/complete", json=_SIGTERM)


_SIGTERM = {"status": "Failed", "failure_reason": "exit code -15"}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    database = tmp_path_factory.mktemp("early-stopping") / "logmetrics.db"
    settings = Settings(database_url=f"sqlite:///{database}", sqlite_synchronous="NORMAL")
    with running_service(settings) as service:
        api = service.client
        stopped_search(api)
        _hyperband_search(api)
        assert api.post("/v1/jobs", json=_plain_job()).status_code == 201
        assert api.post("/v1/jobs/plain/runs", json={"name": "alone"}).status_code == 201
        yield service


def _hyperband_search(api: httpx.Client) -> None:
    # MinResource 1, MaxResource 9: runs 0, 3 and 6 share bracket 0, whose first rung is at
    # one objective point; run-0007 is the worst of the three there.
    body = search_job_body(
        "rungs",
        strategy="Hyperband",
        hyperband={"MinResource": 1, "MaxResource": 9},
        resource_limits={"max_number_of_training_jobs": 9, "max_parallel_training_jobs": 9},
    )
    assert api.post("/v1/jobs", json=body).status_code == 201
    runs = [api.post("/v1/leases", json={"worker": "w"}).json()["lease"]["run"] for _ in range(7)]
    for run, value in ((runs[0], 0.6), (runs[3], 0.9), (runs[6], 0.5)):
        api.post(f"/v1/jobs/rungs/runs/{run}/logs", content=f"acc={value};\n".encode())
    api.post("/v1/jobs/rungs/runs/run-0007/complete", json=_SIGTERM)


def _plain_job() -> dict[str, object]:
    body = search_job_body("plain")
    del body["search"]
    return body


def test_the_stop_step_is_the_one_in_the_stored_reason(service: Service) -> None:
    run = service.client.get(f"/v1/jobs/{JOB}/runs/{STOPPED}").json()
    assert (run["status"], run["failure_reason"]) == ("Stopped", REASON)

    found = service.client.get(f"/v1/jobs/{JOB}/runs/{STOPPED}/early-stopping").json()

    assert found["stopped_at_step"] == median_reason_step(run["failure_reason"]) == 7
    # The steps, recomputed from the curves, agree: the first worse point from the warm-up.
    fired = [s["step"] for s in found["steps"][found["warmup_points"] - 1 :] if s["worse"]]
    assert fired[0] == 7
    assert {k: v for k, v in found.items() if k != "steps"} == {
        "run": STOPPED,
        "metric_name": "acc",
        "objective_type": "Maximize",
        "rule": "median",
        "stopped_early": True,
        "reason": REASON,
        "min_runs": 3,
        "warmup_points": 4,
        "stopped_at_step": 7,
        "earlier_runs": ["run-0001", "run-0002", "run-0003", "run-0004", "run-0005"],
    }
    assert found["steps"][6] == {
        "step": 7,
        "value": 0.41,
        "running_average": pytest.approx(sum(STOPPED_VALUES) / 7),
        "median": pytest.approx(0.46),
        "runs": 5,
        "worse": True,
    }
    assert [s["worse"] for s in found["steps"]] == [True, False, False, False, False, False, True]


def test_a_run_not_stopped_shows_how_close_it_came(service: Service) -> None:
    found = service.client.get(f"/v1/jobs/{JOB}/runs/{NOT_STOPPED}/early-stopping").json()
    assert (found["rule"], found["stopped_early"], found["stopped_at_step"]) == (
        "median",
        False,
        None,
    )
    assert [s["step"] for s in found["steps"]] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert not any(s["worse"] for s in found["steps"])
    # Six earlier runs (the stopped one counts: it did not fail), all of them to step 7.
    assert [s["runs"] for s in found["steps"]] == [6] * 7 + [5]
    assert found["earlier_runs"] == [f"run-000{i}" for i in range(1, 7)]


def test_hyperband_gives_its_reason_and_no_median(service: Service) -> None:
    found = service.client.get("/v1/jobs/rungs/runs/run-0007/early-stopping").json()
    assert {k: found[k] for k in ("rule", "stopped_early", "stopped_at_step", "steps")} == {
        "rule": "hyperband",
        "stopped_early": True,
        "stopped_at_step": None,
        "steps": [],
    }
    assert found["reason"].startswith("stopped by Hyperband at resource 1 of 9")


def test_a_job_without_early_stopping_says_none_applies(service: Service) -> None:
    response = service.client.get("/v1/jobs/plain/runs/alone/early-stopping")
    assert response.status_code == 200
    assert response.json() == {
        "run": "alone",
        "metric_name": "acc",
        "objective_type": "Maximize",
        "rule": None,
        "stopped_early": False,
        "reason": None,
        "min_runs": 3,
        "warmup_points": 4,
        "stopped_at_step": None,
        "steps": [],
        "earlier_runs": [],
    }


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/v1/jobs/nope/runs/run-0001/early-stopping", "job_not_found"),
        (f"/v1/jobs/{JOB}/runs/nope/early-stopping", "run_not_found"),
    ],
)
def test_an_unknown_job_or_run_is_a_404(service: Service, path: str, code: str) -> None:
    response = service.client.get(path)
    assert response.status_code == 404
    assert response.json()["error"] == code
