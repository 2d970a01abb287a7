"""boto3 against logmetrics: SageMaker's tuning operations, run by real workers."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.sagemaker.conftest import sagemaker_client, tuning_request

# The training script of script mode: arguments as the SageMaker toolkit passes them.
TRAIN = textwrap.dedent(
    """
    import argparse, os
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--_tuning_objective_metric")
    args = parser.parse_args()
    assert os.environ["SM_HP_LR"] == str(args.lr) or float(os.environ["SM_HP_LR"]) == args.lr
    assert os.path.isdir(os.environ["SM_MODEL_DIR"])
    if "SM_CHANNEL_TRAIN" in os.environ:
        print("rows:", open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "rows.csv")).read())
    for epoch in range(1, args.epochs + 1):
        print(f"epoch {epoch}: acc={1 - args.lr / epoch:.6f};", flush=True)
    """
)


def code_folder(tmp_path):
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "train.py").write_text(TRAIN)
    return folder


def script_mode(request, folder):
    static = request["TrainingJobDefinition"]["StaticHyperParameters"]
    # JSON-encoded, as the SageMaker SDK sends them.
    static["sagemaker_program"] = '"train.py"'
    static["sagemaker_submit_directory"] = f'"file://{folder}"'
    return request


def run_worker(url, *args, timeout=120):
    done = subprocess.run(
        [sys.executable, "-m", "app", "worker", "--url", url, "--poll", "0.2", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_a_script_mode_tuning_job_runs_and_reports_its_best_training_job(
    service, sagemaker, tmp_path
):
    request = script_mode(tuning_request(), code_folder(tmp_path))
    data = tmp_path / "data"
    data.mkdir()
    (data / "rows.csv").write_text("1,2\n")
    request["TrainingJobDefinition"]["InputDataConfig"] = [
        {
            "ChannelName": "train",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": f"file://{data}",
                }
            },
        }
    ]
    created = sagemaker.create_hyper_parameter_tuning_job(**request)
    assert created["HyperParameterTuningJobArn"] == (
        "arn:aws:sagemaker:eu-west-1:123456789012:hyper-parameter-tuning-job/toy"
    )
    described = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="toy")
    assert "BestTrainingJob" not in described  # omitted, not null, until one succeeds
    config = request["HyperParameterTuningJobConfig"]
    assert described["HyperParameterTuningJobConfig"] == {
        **config,
        # As AMT shows them: the defaults, and every kind of range.
        "TrainingJobEarlyStoppingType": "Off",
        "ParameterRanges": {
            "IntegerParameterRanges": [],
            "CategoricalParameterRanges": [],
            **config["ParameterRanges"],
        },
    }
    definition = request["TrainingJobDefinition"]
    assert described["TrainingJobDefinition"] == {
        **definition,
        # As AMT shows it, the objective among the static hyperparameters.
        "StaticHyperParameters": {
            **definition["StaticHyperParameters"],
            "_tuning_objective_metric": "acc",
        },
    }

    # The code folder and the channel lie under tmp_path, which the worker must share.
    run_worker(service.url, "--job", "toy", "--data-root", str(tmp_path))

    described = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="toy")
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["TrainingJobStatusCounters"] == {
        "Completed": 3,
        "InProgress": 0,
        "RetryableError": 0,
        "NonRetryableError": 0,
        "Stopped": 0,
    }
    assert described["ObjectiveStatusCounters"] == {"Succeeded": 3, "Pending": 0, "Failed": 0}
    jobs = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="toy",
        SortBy="FinalObjectiveMetricValue",
        SortOrder="Descending",
    )["TrainingJobSummaries"]
    assert [j["TrainingJobName"] for j in jobs] == sorted(
        (j["TrainingJobName"] for j in jobs),
        key=lambda name: (
            -next(
                x["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
                for x in jobs
                if x["TrainingJobName"] == name
            )
        ),
    )
    for job in jobs:
        assert re.fullmatch(r"toy-00[123]-[0-9a-f]{8}", job["TrainingJobName"])
        lr = float(job["TunedHyperParameters"]["lr"])
        assert set(job["TunedHyperParameters"]) == {"lr"}
        # The script's last line: acc = 1 - lr / 2, the final objective as in AMT.
        assert job["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == pytest.approx(
            1 - lr / 2, abs=1e-6
        )
    best = described["BestTrainingJob"]
    assert best["TrainingJobName"] == jobs[0]["TrainingJobName"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"] == {
        "Type": "Maximize",
        "MetricName": "acc",
        "Value": jobs[0]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"],
    }

    training = sagemaker.describe_training_job(TrainingJobName=best["TrainingJobName"])
    assert (training["TrainingJobStatus"], training["SecondaryStatus"]) == (
        "Completed",
        "Completed",
    )
    assert training["TuningJobArn"] == created["HyperParameterTuningJobArn"]
    assert [
        (t["Status"], t.get("StatusMessage")) for t in training["SecondaryStatusTransitions"]
    ] == [
        ("Training", "Training image download completed. Training in progress."),
        ("Completed", "Training job completed"),
    ]
    assert training["HyperParameters"]["sagemaker_program"] == '"train.py"'
    assert {m["MetricName"]: m["Value"] for m in training["FinalMetricDataList"]} == {
        "acc": best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    }
    log = service.client.get(f"/v1/jobs/toy/runs/{best['TrainingJobName']}/logs").text
    assert log.startswith("rows: 1,2\n")  # the file:// channel, read through SM_CHANNEL_TRAIN
    assert training["AlgorithmSpecification"]["MetricDefinitions"] == [
        {"Name": "acc", "Regex": "acc=([0-9.]+);"}
    ]


def test_listing_sorts_filters_and_pages(service, sagemaker):
    for name in ("b-job", "a-job", "c-job"):
        sagemaker.create_hyper_parameter_tuning_job(**tuning_request(name))
    sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="c-job")

    def names(**params):
        answer = sagemaker.list_hyper_parameter_tuning_jobs(**params)
        return [
            s["HyperParameterTuningJobName"] for s in answer["HyperParameterTuningJobSummaries"]
        ], answer.get("NextToken")

    assert names(SortBy="Name", SortOrder="Ascending") == (["a-job", "b-job", "c-job"], None)
    assert names(SortBy="CreationTime")[0] == ["c-job", "a-job", "b-job"]  # newest first
    assert names(StatusEquals="Stopped")[0] == ["c-job"]
    assert names(NameContains="b-")[0] == ["b-job"]
    first, token = names(SortBy="Name", SortOrder="Ascending", MaxResults=2)
    assert (first, token is not None) == (["a-job", "b-job"], True)
    assert names(SortBy="Name", SortOrder="Ascending", MaxResults=2, NextToken=token) == (
        ["c-job"],
        None,
    )


def test_stopping_a_tuning_job_stops_it(service, sagemaker):
    sagemaker.create_hyper_parameter_tuning_job(**tuning_request())
    sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="toy")
    status = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="toy")
    assert status["HyperParameterTuningJobStatus"] == "Stopped"


def error_of(call, **params):
    with pytest.raises(ClientError) as failed:
        call(**params)
    error = failed.value.response["Error"]
    return (
        failed.value.response["ResponseMetadata"]["HTTPStatusCode"],
        error["Code"],
        error["Message"],
    )


def test_each_error_code(service, sagemaker):
    sagemaker.create_hyper_parameter_tuning_job(**tuning_request())
    assert error_of(sagemaker.create_hyper_parameter_tuning_job, **tuning_request()) == (
        400,
        "ResourceInUse",
        "Hyperparameter tuning job 'toy' already exists.",
    )
    assert error_of(
        sagemaker.describe_hyper_parameter_tuning_job, HyperParameterTuningJobName="nope"
    ) == (400, "ResourceNotFound", "Amazon SageMaker can't find a tuning job with name nope")
    assert error_of(sagemaker.describe_training_job, TrainingJobName="nope") == (
        400,
        "ValidationException",
        "Requested resource not found: training job 'nope'",
    )
    request = tuning_request("other")
    request["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]["MetricName"] = (
        "f1"
    )
    assert error_of(sagemaker.create_hyper_parameter_tuning_job, **request) == (
        400,
        "ValidationException",
        "A metric is required for this hyperparameter tuning job objective. Provide a metric "
        "in the metric definitions.",
    )
    request = tuning_request("other", Strategy="Genetic")
    status, code, message = error_of(sagemaker.create_hyper_parameter_tuning_job, **request)
    assert (status, code) == (400, "ValidationException")
    assert "Member must satisfy enum value set: [Bayesian, Random, Hyperband, Grid]" in message
    warm = {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "toy"}],
        "WarmStartType": "IdenticalDataAndAlgorithm",
    }
    assert error_of(
        sagemaker.create_hyper_parameter_tuning_job, **tuning_request("warm"), WarmStartConfig=warm
    ) == (
        400,
        "ValidationException",
        "warm start: the parent tuning job 'toy' is InProgress; a parent must have ended "
        "(Completed, Stopped or Failed)",
    )
    sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="toy")
    request = tuning_request("grid", Strategy="Grid")
    status, code, message = error_of(sagemaker.create_hyper_parameter_tuning_job, **request)
    assert (code, "Grid search takes categorical and integer ranges only" in message) == (
        "ValidationException",
        True,
    )


def test_an_unknown_operation_and_a_body_that_is_not_json_are_refused(service):
    answer = httpx.post(
        service.url + "/",
        headers={"X-Amz-Target": "SageMaker.CreateEndpoint"},
        content=b"{}",
    )
    assert (answer.status_code, answer.json()["__type"]) == (400, "UnknownOperationException")
    answer = httpx.post(
        service.url + "/",
        headers={"X-Amz-Target": "SageMaker.ListHyperParameterTuningJobs"},
        content=b"{not json",
    )
    assert (answer.status_code, answer.json()["__type"]) == (400, "SerializationException")


def test_an_image_the_worker_cannot_run_fails_its_training_job_with_the_reason(service, sagemaker):
    request = tuning_request(
        ResourceLimits={"MaxNumberOfTrainingJobs": 1, "MaxParallelTrainingJobs": 1}
    )
    sagemaker.create_hyper_parameter_tuning_job(**request)

    run_worker(service.url, "--job", "toy")

    (job,) = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="toy"
    )["TrainingJobSummaries"]
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"] == (
        "this worker cannot run training image "
        "'123456789012.dkr.ecr.eu-west-1.amazonaws.com/toy:1': give it `--image "
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/toy:1=COMMAND`, or set the "
        "hyperparameters sagemaker_program and sagemaker_submit_directory (script mode); no "
        "Docker engine answers on this worker to run the image itself"
    )


def test_a_mapped_image_runs_as_its_command(service, sagemaker, tmp_path):
    script = tmp_path / "image.py"
    script.write_text("import os\nprint(f\"acc={os.environ['SM_HP_LR']};\")\n")
    request = tuning_request(
        ResourceLimits={"MaxNumberOfTrainingJobs": 1, "MaxParallelTrainingJobs": 1}
    )
    image = request["TrainingJobDefinition"]["AlgorithmSpecification"]["TrainingImage"]
    sagemaker.create_hyper_parameter_tuning_job(**request)

    run_worker(service.url, "--job", "toy", "--image", f"{image}={sys.executable} {script}")

    (job,) = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="toy"
    )["TrainingJobSummaries"]
    assert job["TrainingJobStatus"] == "Completed"
    assert job["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == float(
        job["TunedHyperParameters"]["lr"]
    )


def test_with_access_control_a_configured_key_must_sign(start_service):
    service = start_service(
        api_tokens="admin:secret-admin-token",
        aws_credentials="admin:AKIDADMIN:admin-secret,read:AKIDREAD:read-secret",
    )
    admin = sagemaker_client(service.url, "AKIDADMIN", "admin-secret")
    admin.create_hyper_parameter_tuning_job(**tuning_request())
    reader = sagemaker_client(service.url, "AKIDREAD", "read-secret")
    assert reader.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
    assert error_of(reader.stop_hyper_parameter_tuning_job, HyperParameterTuningJobName="toy")[
        1
    ] == ("AccessDeniedException")
    forged = sagemaker_client(service.url, "AKIDADMIN", "guessed")
    assert error_of(forged.list_hyper_parameter_tuning_jobs)[:2] == (
        403,
        "InvalidSignatureException",
    )
    stranger = sagemaker_client(service.url, "AKIDNOBODY", "x")
    assert error_of(stranger.list_hyper_parameter_tuning_jobs)[:2] == (
        403,
        "UnrecognizedClientException",
    )


def test_a_job_made_through_v1_is_seen_through_sagemakers_api(service, sagemaker):
    from tests.tuning.conftest import search_job_body

    assert service.client.post("/v1/jobs", json=search_job_body("from-v1")).status_code == 201
    described = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="from-v1")
    assert described["HyperParameterTuningJobConfig"]["Strategy"] == "Random"
    assert described["HyperParameterTuningJobConfig"]["ResourceLimits"] == {
        "MaxNumberOfTrainingJobs": 5,
        "MaxParallelTrainingJobs": 5,
    }
    # And the other way round.
    sagemaker.create_hyper_parameter_tuning_job(**tuning_request())
    job = service.client.get("/v1/jobs/toy").json()
    assert (job["search"]["strategy"], job["log_format"]) == ("Random", "cloudwatch")


def test_deleting_a_tuning_job_takes_all_of_it_once_it_has_ended(service, sagemaker):
    sagemaker.create_hyper_parameter_tuning_job(**tuning_request())
    _status, code, message = error_of(
        sagemaker.delete_hyper_parameter_tuning_job, HyperParameterTuningJobName="toy"
    )
    assert (code, message) == (
        "ValidationException",
        "The hyperparameter tuning job 'toy' is InProgress: stop it, and let it end, before "
        "deleting it.",
    )
    lease = service.client.post("/v1/leases", json={"worker": "w"}).json()["lease"]
    service.client.post(f"/v1/jobs/toy/runs/{lease['run']}/logs", content=b"acc=0.5;\n")
    sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="toy")
    service.client.post(f"/v1/jobs/toy/runs/{lease['run']}/complete", json={"status": "Stopped"})

    sagemaker.delete_hyper_parameter_tuning_job(HyperParameterTuningJobName="toy")

    assert (
        error_of(sagemaker.describe_hyper_parameter_tuning_job, HyperParameterTuningJobName="toy")[
            1
        ]
        == "ResourceNotFound"
    )
    assert service.client.get("/v1/jobs/toy").status_code == 404
    assert error_of(sagemaker.describe_training_job, TrainingJobName=lease["run"])[1] == (
        "ValidationException"
    )
    # The name is free again, and the new job starts from nothing.
    sagemaker.create_hyper_parameter_tuning_job(**tuning_request())
    assert service.client.get("/v1/jobs/toy").json()["run_counts"]["Stopped"] == 0


def test_training_jobs_of_every_tuning_job_are_listed(service, sagemaker):
    for name in ("one", "two"):
        sagemaker.create_hyper_parameter_tuning_job(**tuning_request(name))
        service.client.post("/v1/leases", json={"worker": "w", "jobs": [name]})
    listed = sagemaker.list_training_jobs(SortBy="Name", SortOrder="Ascending")
    names = [s["TrainingJobName"] for s in listed["TrainingJobSummaries"]]
    assert [n.split("-")[:2] for n in names] == [["one", "001"], ["two", "001"]]
    assert {s["TrainingJobStatus"] for s in listed["TrainingJobSummaries"]} == {"InProgress"}
    assert (
        sagemaker.list_training_jobs(NameContains="two-")["TrainingJobSummaries"][0][
            "TrainingJobName"
        ]
        == names[1]
    )


def test_the_endpoint_can_come_from_the_environment(service, monkeypatch):
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER", service.url)
    client = boto3.client(
        "sagemaker", region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    client.create_hyper_parameter_tuning_job(**tuning_request())
    listed = client.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
    assert [s["HyperParameterTuningJobName"] for s in listed] == ["toy"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "SerializationException"),
        (b'"a string"', "SerializationException"),
        (b"\xff\xfe", "SerializationException"),
        (b'{"HyperParameterTuningJobName": "a\\u0000b"}', "ValidationException"),
        (b'{"HyperParameterTuningJobName": "\\ud800"}', "ValidationException"),
        (b'{"HyperParameterTuningJobName": 7}', "ValidationException"),
        (
            b'{"HyperParameterTuningJobName": "x", "HyperParameterTuningJobConfig": '
            b'{"Strategy": "Random", "ResourceLimits": {"MaxParallelTrainingJobs": 1, '
            b'"MaxNumberOfTrainingJobs": 1e400}}}',
            "ValidationException",
        ),
        # Deep enough for json.loads, too deep for the checks that recurse (a 500 before).
        (b'{"a": ' + b"[" * 900 + b"]" * 900 + b"}", "SerializationException"),
    ],
    ids=[
        "deep",
        "not-an-object",
        "not-utf8",
        "nul",
        "surrogate",
        "wrong-type",
        "infinity",
        "nested-900",
    ],
)
def test_hostile_bodies_get_a_clear_error_never_a_5xx(service, body, code):
    answer = httpx.post(
        service.url + "/",
        headers={"X-Amz-Target": "SageMaker.CreateHyperParameterTuningJob"},
        content=body,
    )
    assert (answer.status_code, answer.json()["__type"]) == (400, code)


def test_a_member_given_as_null_is_one_left_out(service, sagemaker):
    # botocore never sends null; any client may, and the operations read defaults (a 500
    # for MaxResults, SortBy and CreationTimeAfter before).
    sagemaker.create_hyper_parameter_tuning_job(**tuning_request())
    for target, body in [
        (
            "ListHyperParameterTuningJobs",
            {"MaxResults": None, "SortBy": None, "CreationTimeAfter": None, "NextToken": None},
        ),
        ("ListTrainingJobs", {"MaxResults": None, "SortBy": None, "CreationTimeBefore": None}),
        (
            "ListTrainingJobsForHyperParameterTuningJob",
            {"HyperParameterTuningJobName": "toy", "SortBy": None, "MaxResults": None},
        ),
    ]:
        answer = httpx.post(
            service.url + "/", headers={"X-Amz-Target": f"SageMaker.{target}"}, json=body
        )
        assert answer.status_code == 200, (target, answer.text)
    answer = httpx.post(
        service.url + "/",
        headers={"X-Amz-Target": "SageMaker.DescribeHyperParameterTuningJob"},
        json={"HyperParameterTuningJobName": None},
    )
    assert (answer.status_code, answer.json()["__type"]) == (400, "ValidationException")
    assert "Value null at 'hyperParameterTuningJobName'" in answer.json()["message"]


def test_a_region_no_arn_can_hold_is_not_put_in_one(service):
    # botocore refuses such a region itself; any client may send one.
    authorization = (
        "AWS4-HMAC-SHA256 Credential=AKID/20261203/Not_A:Region!/sagemaker/aws4_request, "
        "SignedHeaders=host, Signature=" + "0" * 64
    )
    answer = httpx.post(
        service.url + "/",
        headers={
            "X-Amz-Target": "SageMaker.CreateHyperParameterTuningJob",
            "Authorization": authorization,
        },
        json=tuning_request(),
    )
    assert answer.json() == {
        "HyperParameterTuningJobArn": (
            "arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/toy"
        )
    }


def test_stopping_a_training_job_asks_its_worker_and_says_why_it_ended(service, sagemaker):
    sagemaker.create_hyper_parameter_tuning_job(**tuning_request())
    run = service.client.post("/v1/leases", json={"worker": "w"}).json()["lease"]["run"]

    sagemaker.stop_training_job(TrainingJobName=run)

    described = sagemaker.describe_training_job(TrainingJobName=run)
    assert (described["TrainingJobStatus"], described["SecondaryStatus"]) == (
        "Stopping",
        "Stopping",
    )
    beat = service.client.post(f"/v1/jobs/toy/runs/{run}/heartbeat", json={"worker": "w"})
    assert beat.json()["stop_requested"] == "stopped by StopTrainingJob"
    service.client.post(f"/v1/jobs/toy/runs/{run}/complete", json={"status": "Stopped"})
    described = sagemaker.describe_training_job(TrainingJobName=run)
    assert described["TrainingJobStatus"] == "Stopped"
    assert described["SecondaryStatusTransitions"][-1]["StatusMessage"] == (
        "stopped by StopTrainingJob"
    )
    status, code, _ = error_of(sagemaker.stop_training_job, TrainingJobName=run)
    assert (status, code) == (400, "ValidationException")


def test_a_tuning_job_without_a_random_seed_describes_the_one_drawn(sagemaker):
    seeds = []
    for name in ("one", "two"):
        request = tuning_request(name)
        del request["HyperParameterTuningJobConfig"]["RandomSeed"]
        sagemaker.create_hyper_parameter_tuning_job(**request)
        described = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        seeds.append(described["HyperParameterTuningJobConfig"]["RandomSeed"])

    assert all(isinstance(seed, int) for seed in seeds) and seeds[0] != seeds[1]
