"""GPU slots: what a run wants (`gpu_need`), how a worker hands its GPUs out
(`GpuSlots`), and real workers given fake GPU lists running searches and a SageMaker
training job, each run seeing only its own GPUs."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.clients.gpus import GpuSlots, Placement, parse_gpus
from app.protocol.search import SearchSpec
from app.tuning.gpus import INSTANCE_GPUS, GpuNeed, GpuOffer, gpu_need
from tests.tuning.conftest import search_job_body

# AWS's own table, as the SageMaker SDK v2 ships it (found, not imported: importing v2 warns).
_SDK = importlib.util.find_spec("sagemaker")
assert _SDK is not None and _SDK.origin is not None
SDK_GPU_INFO = Path(_SDK.origin).parent / "image_uri_config" / "instance_gpu_info.json"


def _search(**fields) -> SearchSpec:
    return SearchSpec.model_validate({"command": ["true"], "strategy": "Grid", **fields})


def _sagemaker_search(instance_type: str, count: int = 1) -> SearchSpec:
    resources = {"InstanceType": instance_type, "InstanceCount": count, "VolumeSizeInGB": 5}
    return _search(sagemaker={"TrainingJobDefinition": {"ResourceConfig": resources}})


def test_the_instance_table_agrees_with_the_gpu_counts_aws_ships_in_the_sagemaker_sdk():
    published = json.loads(SDK_GPU_INFO.read_text())["us-east-1"]
    both = sorted(set(published) & set(INSTANCE_GPUS))
    assert len(both) >= 20
    assert {t: INSTANCE_GPUS[t] for t in both} == {t: published[t]["Count"] for t in both}


@pytest.mark.parametrize(
    ("search", "need"),
    [
        (_sagemaker_search("ml.p3.8xlarge"), GpuNeed(4)),
        (_sagemaker_search("ml.g5.12xlarge", count=2), GpuNeed(8)),
        (_sagemaker_search("ml.m5.large"), GpuNeed(0)),
        (_sagemaker_search("ml.trn1.32xlarge"), GpuNeed(0)),
        (_search(), GpuNeed(0)),
        (_search(resources={"gpus_per_run": 2}), GpuNeed(2)),
        (_search(resources={"GpusPerRun": 1, "RunsPerGpu": 3}), GpuNeed(1, 3)),
        # Given, the job's own figure wins over its instance type's.
        (
            _sagemaker_search("ml.p3.16xlarge").model_copy(
                update={"resources": _search(resources={"gpus_per_run": 1}).resources}
            ),
            GpuNeed(1),
        ),
    ],
)
def test_what_a_run_wants(search, need):
    assert gpu_need(search) == need


def test_runs_share_a_gpu_only_one_gpu_at_a_time():
    with pytest.raises(ValueError, match="only with gpus_per_run 1"):
        _search(resources={"gpus_per_run": 2, "runs_per_gpu": 2})


@pytest.mark.parametrize(
    ("offer", "job", "need", "places"),
    [
        (GpuOffer(total=2, free=2), "a", GpuNeed(2), True),
        (GpuOffer(total=2, free=1), "a", GpuNeed(2), False),
        (GpuOffer(total=0, free=0), "a", GpuNeed(0), True),
        (GpuOffer(total=1, free=0, shared={"a": 1}), "a", GpuNeed(1, 2), True),
        (GpuOffer(total=1, free=0, shared={"a": 1}), "b", GpuNeed(1, 2), False),
        (GpuOffer(total=1, free=0, shared={"a": 0}), "a", GpuNeed(1, 2), False),
    ],
)
def test_whether_an_offer_places_a_run(offer, job, need, places):
    assert offer.places(job, need) is places


def test_slots_hand_out_whole_gpus_and_take_them_back():
    slots = GpuSlots(["0", "1", "2"])
    assert slots.place("a/r1", "a", 2, 1) == Placement(("0", "1"))
    assert slots.offer() == {"total": 3, "free": 1, "shared": {}}
    with pytest.raises(ValueError, match="a/r2 wants 2 GPUs; 1 are free"):
        slots.place("a/r2", "a", 2, 1)
    assert slots.place("a/r3", "a", 0, 1) == Placement(())
    slots.release("a/r1")
    assert slots.offer() == {"total": 3, "free": 3, "shared": {}}
    assert slots.place("a/r4", "a", 3, 1) == Placement(("0", "1", "2"))


def test_slots_pack_one_jobs_runs_on_a_gpu_and_free_it_with_the_last():
    slots = GpuSlots(["0", "1"])
    assert slots.place("a/r1", "a", 1, 2) == Placement(("0",))
    assert slots.offer() == {"total": 2, "free": 1, "shared": {"a": 1}}
    assert slots.place("a/r2", "a", 1, 2) == Placement(("0",))  # shares GPU 0
    assert slots.place("b/r1", "b", 1, 2) == Placement(("1",))  # another job: its own GPU
    assert slots.offer() == {"total": 2, "free": 0, "shared": {"a": 0, "b": 1}}
    slots.release("a/r1")
    assert slots.offer() == {"total": 2, "free": 0, "shared": {"a": 1, "b": 1}}
    slots.release("a/r2")
    assert slots.offer() == {"total": 2, "free": 1, "shared": {"b": 1}}


def test_a_run_without_gpus_sees_none_and_one_with_sees_only_its_own():
    assert Placement(()).environment() == {
        "CUDA_VISIBLE_DEVICES": "",
        "NVIDIA_VISIBLE_DEVICES": "void",
    }
    assert Placement(("1", "3")).environment() == {
        "CUDA_VISIBLE_DEVICES": "1,3",
        "NVIDIA_VISIBLE_DEVICES": "1,3",
    }


@pytest.mark.parametrize(
    ("given", "devices"), [("none", ()), ("0,1", ("0", "1")), ("GPU-5e0b,2", ("GPU-5e0b", "2"))]
)
def test_the_gpus_option(given, devices):
    assert parse_gpus(given) == devices


@pytest.mark.parametrize("given", ["0,,1", "1,1", ""])
def test_the_gpus_option_refuses_a_list_it_cannot_read(given):
    with pytest.raises(ValueError, match="--gpus"):
        parse_gpus(given)


def test_all_finds_no_gpu_on_a_machine_without_nvidias_driver():
    assert parse_gpus("all") == ()


# A trainer that notes its GPUs and how long it ran, and reports one value.
TRAINER = textwrap.dedent(
    """
    import json, os, sys, time
    notes, pause = sys.argv[1], float(sys.argv[2])
    started = time.time()
    lr = float(json.loads(os.environ["SM_HPS"])["lr"])
    print(f"acc={1 - lr};", flush=True)
    time.sleep(pause)
    with open(notes, "a") as f:
        note = {"run": os.environ["LOGMETRICS_RUN"], "start": started, "end": time.time(),
                "gpus": os.environ.get("CUDA_VISIBLE_DEVICES")}
        f.write(json.dumps(note) + "\\n")
    """
)


def _gpu_search(tmp_path, name, runs, parallel, **resources):
    script = tmp_path / "trainer.py"
    script.write_text(TRAINER)
    body = search_job_body(
        name,
        resource_limits={
            "max_number_of_training_jobs": runs,
            "max_parallel_training_jobs": parallel,
        },
    )
    body["search"]["command"] = [sys.executable, str(script), str(tmp_path / "notes"), "0.6"]
    body["search"]["resources"] = resources
    return body


def run_worker(url, *args):
    done = subprocess.run(
        [sys.executable, "-m", "app", "worker", "--url", url, "--poll", "0.1", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def _notes(tmp_path):
    return [json.loads(line) for line in (tmp_path / "notes").read_text().splitlines()]


def _overlapping(notes):
    """Pairs of runs that ran at the same time."""
    return [
        (a, b)
        for i, a in enumerate(notes)
        for b in notes[i + 1 :]
        if a["start"] < b["end"] and b["start"] < a["end"]
    ]


def test_parallel_runs_each_see_only_their_own_gpu(api, service, tmp_path):
    api.post("/v1/jobs", json=_gpu_search(tmp_path, "tune", 4, 4, gpus_per_run=1))

    output = run_worker(service.url, "--job", "tune", "--parallel", "4", "--gpus", "0,1")

    notes = _notes(tmp_path)
    assert sorted(note["gpus"] for note in notes) == ["0", "0", "1", "1"]
    overlapping = _overlapping(notes)
    assert overlapping, "two runs should have run at once, on the two GPUs"
    assert all(a["gpus"] != b["gpus"] for a, b in overlapping)
    assert "started on GPUs 0:" in output and "started on GPUs 1:" in output
    # Each run's first heartbeat said which GPUs it held; /v1 and the pages show them.
    runs = api.get("/v1/jobs/tune/runs").json()["runs"]
    assert {run["name"]: run["gpus"] for run in runs} == {
        note["run"]: [note["gpus"]] for note in notes
    }


def test_a_job_that_packs_runs_shares_one_gpu_between_two_at_a_time(api, service, tmp_path):
    body = _gpu_search(tmp_path, "packed", 4, 4, gpus_per_run=1, runs_per_gpu=2)
    api.post("/v1/jobs", json=body)

    run_worker(service.url, "--job", "packed", "--parallel", "4", "--gpus", "7")

    notes = _notes(tmp_path)
    assert [note["gpus"] for note in notes] == ["7"] * 4
    # Never three at once: each overlapping pair's time holds no third run.
    for a, b in _overlapping(notes):
        start, end = max(a["start"], b["start"]), min(a["end"], b["end"])
        assert not [c for c in notes if c not in (a, b) and c["start"] < end and start < c["end"]]


def test_a_run_that_wants_no_gpu_sees_none_of_a_counting_workers(api, service, tmp_path):
    api.post("/v1/jobs", json=_gpu_search(tmp_path, "cpu", 1, 1))

    run_worker(service.url, "--job", "cpu", "--gpus", "0,1")

    assert [note["gpus"] for note in _notes(tmp_path)] == [""]
    assert [run["gpus"] for run in api.get("/v1/jobs/cpu/runs").json()["runs"]] == [[]]


def test_a_job_that_wants_more_gpus_than_the_worker_has_is_told_so(api, service, tmp_path):
    api.post("/v1/jobs", json=_gpu_search(tmp_path, "big", 2, 1, gpus_per_run=4))

    run_worker(service.url, "--job", "big", "--gpus", "0,1", "--exit-when-idle", "--name", "w2")

    job = api.get("/v1/jobs/big").json()
    assert (job["status"], job["status_reason"]) == (
        "InProgress",
        "waiting for a worker with 4 GPUs: each run holds 4 GPUs, and the last worker that "
        "asked (w2) has 2",
    )
    assert api.get("/v1/jobs/big/runs").json()["runs"] == []

    # A worker with enough GPUs takes its runs, and the reason goes.
    run_worker(service.url, "--job", "big", "--gpus", "0,1,2,3")
    job = api.get("/v1/jobs/big").json()
    assert (job["status"], job["status_reason"]) == ("Completed", None)
    assert sorted(note["gpus"] for note in _notes(tmp_path)) == ["0,1,2,3", "0,1,2,3"]
