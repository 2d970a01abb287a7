"""The tuning service over HTTP: leases, early stopping from literal logs, completion
criteria, stopping a job, and runs whose worker was lost."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.service import running_service
from tests.tuning.conftest import search_job_body

# Three earlier runs' acc at steps 1 to 5; running averages at step 4: 0.65, 0.75, 0.85.
CURVES = [
    "acc=0.5;\nacc=0.6;\nacc=0.7;\nacc=0.8;\nacc=0.9;\n",
    "acc=0.6;\nacc=0.7;\nacc=0.8;\nacc=0.9;\nacc=0.95;\n",
    "acc=0.7;\nacc=0.8;\nacc=0.9;\nacc=1.0;\n",
]
REASON = "stopped early at step 4: 0.71 < median 0.75 of 3 earlier runs' running averages"


def test_a_lease_hands_out_a_run_with_what_the_worker_needs(api, make_search_job, lease):
    make_search_job(
        random_seed=4,
        static_hyperparameters={"epochs": 3},
        resource_limits={"max_number_of_training_jobs": 2, "max_runtime_in_seconds": 60},
        command=["python", "train.py"],
    )
    api.post("/v1/jobs", json=search_job_body("other"))  # leased from only on request

    answer = lease(jobs=["tune"])

    assert answer["jobs_in_progress"] == 1
    given = answer["lease"]
    assert given["job"] == "tune" and given["run"] == "run-0001"
    assert given["command"] == ["python", "train.py"]
    assert given["max_runtime_seconds"] == 60 and given["lease_seconds"] == 60
    assert given["ingest_token"] is None
    assert set(given["hyperparameters"]) == {"epochs", "lr", "_tuning_objective_metric"}
    assert given["hyperparameters"]["epochs"] == "3"
    run = api.get("/v1/jobs/tune/runs/run-0001").json()
    assert (run["status"], run["worker"]) == ("InProgress", "w")
    assert run["hyperparameters"] == given["hyperparameters"]


def test_random_runs_are_the_same_under_the_same_seed(api, make_search_job, lease):
    for name in ("first", "second"):
        make_search_job(name, random_seed=9)
    chosen = {}
    for name in ("first", "second"):
        chosen[name] = [lease(jobs=[name])["lease"]["hyperparameters"]["lr"] for _ in range(5)]
    assert chosen["first"] == chosen["second"]
    assert len(set(chosen["first"])) == 5


def test_no_more_than_max_parallel_runs_are_handed_out(api, make_search_job, lease):
    make_search_job(resource_limits={"MaxNumberOfTrainingJobs": 3, "MaxParallelTrainingJobs": 2})
    assert [lease()["lease"]["run"] for _ in range(2)] == ["run-0001", "run-0002"]
    assert lease() == {"lease": None, "jobs_in_progress": 1}

    api.post("/v1/jobs/tune/runs/run-0001/complete", json={"status": "Completed"})
    assert lease()["lease"]["run"] == "run-0003"
    assert lease()["lease"] is None  # the limit of 3 runs


def test_a_grid_hands_out_every_combination_once(api, make_search_job, lease):
    make_search_job(
        strategy="Grid",
        resource_limits={"max_parallel_training_jobs": 10},
        parameter_ranges={
            "CategoricalParameterRanges": [
                {"Name": "optimizer", "Values": ["adam", "sgd"]},
                {"Name": "loss", "Values": ["ce", "focal", "mse"]},
            ]
        },
    )
    given = [lease()["lease"]["hyperparameters"] for _ in range(7)[:6]]
    assert [(g["optimizer"], g["loss"]) for g in given] == [
        ("adam", "ce"),
        ("adam", "focal"),
        ("adam", "mse"),
        ("sgd", "ce"),
        ("sgd", "focal"),
        ("sgd", "mse"),
    ]
    assert lease()["lease"] is None


def test_a_search_job_takes_no_runs_made_by_hand(api, make_search_job):
    make_search_job()
    response = api.post("/v1/jobs/tune/runs", json={})
    assert response.status_code == 409
    assert response.json()["error"] == "search_starts_runs"


def test_a_bad_search_is_refused_with_the_reason(api):
    body = search_job_body(strategy="Hyperband", early_stopping="Auto")
    response = api.post("/v1/jobs", json=body)
    assert response.status_code == 422
    assert "early_stopping must be Off" in response.json()["message"]


def test_the_median_rule_stops_a_run_worse_than_the_earlier_ones(
    api, make_search_job, lease, post_log, complete_run
):
    make_search_job(early_stopping="Auto")
    runs = [lease()["lease"]["run"] for _ in range(5)]
    for run, log in zip(runs, CURVES, strict=False):
        assert "stop_requested" not in post_log(run, log, job="tune").json()
        assert complete_run(run, job="tune").status_code == 200
    worse, better = runs[3], runs[4]

    assert (
        "stop_requested"
        not in post_log(worse, "acc=0.5;\nacc=0.6;\nacc=0.65;\n", job="tune").json()
    )
    answer = post_log(worse, "acc=0.71;\n", job="tune").json()
    assert answer["stop_requested"] == REASON
    assert (
        "stop_requested"
        not in post_log(better, "acc=0.5;\nacc=0.6;\nacc=0.65;\nacc=0.76;\n", job="tune").json()
    )

    beat = api.post("/v1/jobs/tune/runs/run-0004/heartbeat", json={"worker": "w"}).json()
    assert beat == {"status": "InProgress", "stop_requested": REASON}
    # The worker's SIGTERM ended the command with an error: the run is Stopped anyway.
    ended = complete_run(worse, "Failed", job="tune", failure_reason="exit code -15").json()
    assert (ended["status"], ended["failure_reason"], ended["stopped_early"]) == (
        "Stopped",
        REASON,
        True,
    )
    assert ended["objective"] == {"metric_name": "acc", "value": 0.71, "status": "Succeeded"}
    job = api.get("/v1/jobs/tune").json()
    assert job["search_progress"] == {
        "started": 5,
        "max_runs": 5,
        "pending": 0,
        "leased": 1,
        "stopped_early": 1,
    }
    # Every run that did not fail, at each step at least 3 of them reached (not 5).
    median = api.get("/v1/jobs/tune/median").json()
    assert median == {
        "metric_name": "acc",
        "points": [
            {"step": 1, "median": 0.5, "runs": 5},
            {"step": 2, "median": pytest.approx(0.55), "runs": 5},
            {"step": 3, "median": pytest.approx(0.6), "runs": 5},
            {"step": 4, "median": pytest.approx(0.65), "runs": 5},
        ],
    }


def test_the_target_value_completes_the_job(api, make_search_job, lease, post_log, complete_run):
    make_search_job(
        completion_criteria={"TargetObjectiveMetricValue": 0.9},
        resource_limits={"max_number_of_training_jobs": 5, "max_parallel_training_jobs": 1},
    )
    for run, value in (("run-0001", 0.5), ("run-0002", 0.93)):
        assert lease()["lease"]["run"] == run
        post_log(run, f"acc={value};\n", job="tune")
        complete_run(run, job="tune")

    job = api.get("/v1/jobs/tune").json()
    assert job["status"] == "Completed"
    assert job["completion"]["criterion"] == "TargetObjectiveMetricValue"
    assert job["completion"]["detail"] == "run-0002 reached acc = 0.93 >= the target 0.9"
    assert job["ended_at"] is not None
    assert job["search_progress"]["pending"] == 0
    assert lease() == {"lease": None, "jobs_in_progress": 0}


def test_a_job_whose_runs_all_fail_fails(api, make_search_job, lease, complete_run):
    make_search_job(resource_limits={"max_number_of_training_jobs": 2})
    for _ in range(2):
        complete_run(lease()["lease"]["run"], "Failed", job="tune", failure_reason="OOM")
    job = api.get("/v1/jobs/tune").json()
    assert (job["status"], job["status_reason"]) == (
        "Failed",
        "none of the 2 runs reported a value of the objective metric",
    )
    assert job["training_job_status_counters"]["non_retryable_error"] == 2
    assert job["objective_status_counters"] == {"succeeded": 0, "pending": 0, "failed": 2}


def test_stopping_a_job_stops_its_runs_then_the_job(api, make_search_job, lease, complete_run):
    make_search_job()
    runs = [lease()["lease"]["run"] for _ in range(2)]

    stopped = api.post("/v1/jobs/tune/stop")
    assert stopped.status_code == 200
    assert stopped.json()["status"] == "Stopping"
    beat = api.post(f"/v1/jobs/tune/runs/{runs[0]}/heartbeat", json={"worker": "w"}).json()
    assert beat["stop_requested"] == "the job was stopped"
    assert lease()["lease"] is None

    for run in runs:
        ended = complete_run(run, "Stopped", job="tune").json()
        assert (ended["status"], ended["failure_reason"]) == ("Stopped", "the job was stopped")
    job = api.get("/v1/jobs/tune").json()
    assert job["status"] == "Stopped"
    assert api.post("/v1/jobs/tune/stop").json()["status"] == "Stopped"  # again: the same


def test_a_stopped_job_without_a_search_takes_no_new_runs(api, make_job, make_run):
    make_job()
    assert api.post("/v1/jobs/gan/stop").json()["status"] == "Stopped"
    response = api.post("/v1/jobs/gan/runs", json={})
    assert response.status_code == 409
    assert response.json() == {
        "error": "job_ended",
        "message": "job 'gan' has ended (Stopped)",
        "job": "gan",
        "status": "Stopped",
    }


def test_a_run_whose_worker_stops_beating_fails_as_worker_lost(start_service, make_search_job):
    # Two seconds of lease: `kept` is beaten every tenth of one, so it lapses only if a
    # loaded machine stalls this loop for two seconds (0.5 s did lapse under load once).
    service = start_service(lease_seconds=2)
    api = service.client
    assert api.post("/v1/jobs", json=search_job_body()).status_code == 201
    run = api.post("/v1/leases", json={"worker": "w"}).json()["lease"]["run"]
    kept = api.post("/v1/leases", json={"worker": "w2"}).json()["lease"]["run"]

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        api.post(f"/v1/jobs/tune/runs/{kept}/heartbeat", json={"worker": "w2"})
        found = api.get(f"/v1/jobs/tune/runs/{run}").json()
        if found["status"] != "InProgress":
            break
        time.sleep(0.1)
    assert (found["status"], found["failure_reason"]) == (
        "Failed",
        "worker lost: no heartbeat for 2 s",
    )
    assert api.get(f"/v1/jobs/tune/runs/{kept}").json()["status"] == "InProgress"


def test_two_services_on_one_database_hand_out_each_run_once(service_database_url):
    settings = {"database_url": service_database_url, "sqlite_synchronous": "NORMAL"}
    from app.config import Settings

    with (
        running_service(Settings(**settings)) as first,
        running_service(Settings(**settings)) as second,
    ):
        body = search_job_body(
            resource_limits={"max_number_of_training_jobs": 12, "max_parallel_training_jobs": 8}
        )
        assert first.client.post("/v1/jobs", json=body).status_code == 201

        # FastAPI builds a route's validation on its first request; two threads doing it
        # at once can race to a warning, which this suite turns into an error (500).
        for service in (first, second):
            warm_up = {"worker": "w", "jobs": ["none"]}
            assert service.client.post("/v1/leases", json=warm_up).json()["lease"] is None

        def ask(i):
            client = (first, second)[i % 2].client
            return client.post("/v1/leases", json={"worker": f"w{i}"}).json()["lease"]

        with ThreadPoolExecutor(16) as pool:
            leases = [given for given in pool.map(ask, range(16)) if given is not None]
        runs = first.client.get("/v1/jobs/tune/runs", params={"sort_by": "name"}).json()["runs"]

    assert sorted(given["run"] for given in leases) == [f"run-{i:04d}" for i in range(1, 9)]
    assert [run["name"] for run in runs] == [f"run-{i:04d}" for i in range(1, 9)]


def test_hyperband_stops_a_run_at_a_rung_where_it_is_not_among_the_best_third(
    api, make_search_job, lease, post_log
):
    # MinResource 1, MaxResource 9: runs 0, 3 and 6 (run-0001, -0004, -0007) share bracket
    # 0, whose rungs lie at 1 and 3 objective points.
    make_search_job(
        strategy="Hyperband",
        hyperband={"MinResource": 1, "MaxResource": 9},
        resource_limits={"max_number_of_training_jobs": 9, "max_parallel_training_jobs": 9},
    )
    runs = [lease()["lease"]["run"] for _ in range(7)]
    assert "stop_requested" not in post_log(runs[0], "acc=0.6;\n", job="tune").json()
    assert "stop_requested" not in post_log(runs[3], "acc=0.9;\n", job="tune").json()
    assert "stop_requested" not in post_log(runs[1], "acc=0.1;\n", job="tune").json()  # bracket 1

    answer = post_log(runs[6], "acc=0.5;\n", job="tune").json()

    assert answer["stop_requested"] == (
        "stopped by Hyperband at resource 1 of 9: 0.5 is not among the best 1 of 3 runs "
        "at this rung"
    )


def test_a_restarted_service_goes_on_with_the_search_where_it_was(database_url):
    from app.config import Settings

    settings = Settings(database_url=database_url, sqlite_synchronous="NORMAL")
    body = search_job_body(random_seed=5)
    given = []
    for _restart in range(2):
        with running_service(settings) as service:
            if not given:
                assert service.client.post("/v1/jobs", json=body).status_code == 201
            for _ in range(2):
                lease = service.client.post("/v1/leases", json={"worker": "w"}).json()["lease"]
                given.append((lease["run"], lease["hyperparameters"]["lr"]))
    with running_service(settings) as service:
        assert service.client.post("/v1/jobs", json={**body, "name": "again"}).status_code == 201
        uninterrupted = [
            service.client.post("/v1/leases", json={"worker": "w", "jobs": ["again"]}).json()[
                "lease"
            ]["hyperparameters"]["lr"]
            for _ in range(4)
        ]

    assert [run for run, _lr in given] == ["run-0001", "run-0002", "run-0003", "run-0004"]
    assert [lr for _run, lr in given] == uninterrupted


def test_a_heartbeat_from_a_worker_not_holding_the_lease_is_refused_naming_the_holder(
    api, make_search_job, lease
):
    make_search_job()
    run = lease("w")["lease"]["run"]

    refused = api.post(f"/v1/jobs/tune/runs/{run}/heartbeat", json={"worker": "w2"})

    assert refused.status_code == 409
    assert refused.json() == {
        "error": "lease_held",
        "message": f"run {run!r} is leased to worker 'w', not to 'w2'",
        "run": run,
        "worker": "w2",
        "holder": "w",
    }
    assert api.get(f"/v1/jobs/tune/runs/{run}").json()["worker"] == "w"
    beat = api.post(f"/v1/jobs/tune/runs/{run}/heartbeat", json={"worker": "w"})
    assert beat.json() == {"status": "InProgress", "stop_requested": None}


def test_a_heartbeat_cannot_give_a_lease_to_a_run_no_worker_leased(api, make_job, make_run):
    make_job()
    make_run(name="shipped")  # as `logmetrics run` makes one: no worker, no lease

    refused = api.post("/v1/jobs/gan/runs/shipped/heartbeat", json={"worker": "stray"})

    assert refused.status_code == 409
    assert refused.json() == {
        "error": "not_leased",
        "message": (
            "run 'shipped' has no lease: it was not started by a worker, so 'stray' cannot "
            "send its heartbeats"
        ),
        "run": "shipped",
        "worker": "stray",
    }
    assert api.get("/v1/jobs/gan/runs/shipped").json()["worker"] is None


def test_a_search_without_a_seed_draws_one_and_keeps_it(api, make_search_job, lease):
    # Every job without a seed proposed lr 0.0349257, 0.0758232, ... as seed 0 did.
    seeds, first_points = [], []
    for name in ("a", "b", "c"):
        created = make_search_job(name)
        seeds.append(created["search"]["random_seed"])
        assert api.get(f"/v1/jobs/{name}").json()["search"]["random_seed"] == seeds[-1]
        first_points.append(lease(jobs=[name])["lease"]["hyperparameters"]["lr"])
    given = make_search_job("given", random_seed=0)

    assert all(isinstance(seed, int) and 0 <= seed < 2**31 for seed in seeds)
    assert len(set(seeds)) == 3 and len(set(first_points)) == 3
    assert given["search"]["random_seed"] == 0
