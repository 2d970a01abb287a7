"""Warm start through SageMaker's API: parent tuning jobs run to their end by a real
worker, children of each WarmStartType, AMT's refusals, and the SageMaker SDK reading a
child back."""

from __future__ import annotations

import warnings

import pytest

from app.jobs import job_spec
from app.parsing import LogFormat, MetricDefinition
from app.protocol.search import SearchSpec
from tests.sagemaker.conftest import tuning_request
from tests.sagemaker.test_api import code_folder, error_of, run_worker, script_mode


def request_of(name, folder, bucket, **config):
    """`tuning_request` in script mode, its models written to `bucket`."""
    request = script_mode(tuning_request(name, **config), folder)
    request["TrainingJobDefinition"]["OutputDataConfig"]["S3OutputPath"] = f"s3://{bucket}/out"
    return request


def warm_start(kind, *parents):
    return {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": p} for p in parents],
        "WarmStartType": kind,
    }


def training_jobs(sagemaker, job):
    return sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=job
    )["TrainingJobSummaries"]


def lrs(sagemaker, job):
    return {j["TunedHyperParameters"]["lr"] for j in training_jobs(sagemaker, job)}


@pytest.fixture
def bucket(s3):
    return s3.new_bucket()


@pytest.fixture
def parents(service, sagemaker, tmp_path, bucket):
    """Two ended Random tuning jobs of 3 runs each, seeds 3 and 4; the folder of their code."""
    folder = code_folder(tmp_path)
    for name, seed in (("parent-a", 3), ("parent-b", 4)):
        request = request_of(name, folder, bucket, RandomSeed=seed)
        sagemaker.create_hyper_parameter_tuning_job(**request)
    run_worker(service.url, "--job", "parent-a", "--job", "parent-b", "--data-root", str(tmp_path))
    for name in ("parent-a", "parent-b"):
        described = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        assert described["HyperParameterTuningJobStatus"] == "Completed"
    return folder


def test_an_identical_data_and_algorithm_child_names_the_best_of_all_its_jobs(
    service, sagemaker, parents, tmp_path, bucket
):
    warm = warm_start("IdenticalDataAndAlgorithm", "parent-a", "parent-b")
    request = request_of("child", parents, bucket, Strategy="Bayesian", RandomSeed=5)
    sagemaker.create_hyper_parameter_tuning_job(**request, WarmStartConfig=warm)
    run_worker(service.url, "--job", "child", "--data-root", str(tmp_path))

    described = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="child")
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["WarmStartConfig"] == warm
    # The child starts its own 3 runs; the parents' 6 count for nothing.
    assert described["TrainingJobStatusCounters"]["Completed"] == 3
    # acc = 1 - lr / 2 is greatest for the smallest lr any of the nine runs had.
    everyone = {
        float(j["TunedHyperParameters"]["lr"]): (job, j["TrainingJobName"])
        for job in ("parent-a", "parent-b", "child")
        for j in training_jobs(sagemaker, job)
    }
    assert len(everyone) == 9
    tuning_job, training_job = everyone[min(everyone)]
    overall = described["OverallBestTrainingJob"]
    assert (overall["TuningJobName"], overall["TrainingJobName"]) == (tuning_job, training_job)
    assert overall["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == pytest.approx(
        1 - min(everyone) / 2, abs=1e-6
    )
    assert described["BestTrainingJob"]["TuningJobName"] == "child"


def test_a_transfer_learning_child_with_its_parents_seed_runs_none_of_its_points(
    service, sagemaker, parents, tmp_path, bucket
):
    warm = warm_start("TransferLearning", "parent-a")
    # Another image, which IdenticalDataAndAlgorithm would refuse, and parent-a's seed.
    request = request_of("child", parents, bucket, RandomSeed=3)
    request["TrainingJobDefinition"]["AlgorithmSpecification"]["TrainingImage"] = (
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/toy:2"
    )
    identical = warm_start("IdenticalDataAndAlgorithm", "parent-a")
    assert error_of(
        sagemaker.create_hyper_parameter_tuning_job, **request, WarmStartConfig=identical
    ) == (
        400,
        "ValidationException",
        "warm start from 'parent-a': IdenticalDataAndAlgorithm needs the parent's training "
        "image (use TransferLearning for another)",
    )
    sagemaker.create_hyper_parameter_tuning_job(**request, WarmStartConfig=warm)
    # The same seed without a parent: parent-a's three points again.
    again = request_of("again", parents, bucket, RandomSeed=3)
    sagemaker.create_hyper_parameter_tuning_job(**again)
    run_worker(service.url, "--job", "child", "--job", "again", "--data-root", str(tmp_path))

    assert lrs(sagemaker, "again") == lrs(sagemaker, "parent-a")
    assert len(lrs(sagemaker, "child")) == 3
    assert not lrs(sagemaker, "child") & lrs(sagemaker, "parent-a")
    described = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="child")
    assert described["WarmStartConfig"] == warm
    assert "OverallBestTrainingJob" not in described  # IdenticalDataAndAlgorithm's alone

    with warnings.catch_warnings():
        # The SDK's own imports warn (deprecations of its dependencies): not ours.
        warnings.simplefilter("ignore")
        import boto3
        import sagemaker as sdk
        from sagemaker.tuner import HyperparameterTuner, WarmStartTypes

        boto = boto3.Session(
            region_name="eu-west-1", aws_access_key_id="any", aws_secret_access_key="any"
        )
        session = sdk.Session(boto_session=boto, sagemaker_client=sagemaker)
        tuner = HyperparameterTuner.attach("child", sagemaker_session=session)
    assert tuner.warm_start_config.type is WarmStartTypes.TRANSFER_LEARNING
    assert tuner.warm_start_config.parents == {"parent-a"}


def test_a_child_is_refused_as_amt_refuses_it(service, sagemaker, parents, bucket):
    def refused(name, warm, **config):
        request = request_of(name, parents, bucket, **config)
        return error_of(
            sagemaker.create_hyper_parameter_tuning_job, **request, WarmStartConfig=warm
        )

    six = warm_start("TransferLearning", *(f"p{i}" for i in range(6)))
    status, code, message = refused("child", six)
    assert (status, code) == (400, "ValidationException")
    assert "Member must have length less than or equal to 5" in message
    assert refused("child", warm_start("TransferLearning", "parent-a", "nope")) == (
        400,
        "ValidationException",
        "warm start: the parent tuning job 'nope' does not exist",
    )
    sagemaker.create_hyper_parameter_tuning_job(**tuning_request("running"))
    assert refused("child", warm_start("TransferLearning", "running")) == (
        400,
        "ValidationException",
        "warm start: the parent tuning job 'running' is InProgress; a parent must have ended "
        "(Completed, Stopped or Failed)",
    )
    minimize = {"Type": "Minimize", "MetricName": "acc"}
    assert refused(
        "child",
        warm_start("IdenticalDataAndAlgorithm", "parent-b"),
        HyperParameterTuningJobObjective=minimize,
    ) == (
        400,
        "ValidationException",
        "warm start: the parent tuning job 'parent-b' has the objective Maximize 'acc'; a child "
        "must have its parents' (Minimize 'acc' given)",
    )
    # Nothing was made of any refusal.
    assert (
        error_of(
            sagemaker.describe_hyper_parameter_tuning_job, HyperParameterTuningJobName="child"
        )[1]
        == "ResourceNotFound"
    )


def test_a_lone_training_job_is_no_tuning_job(service, sagemaker, storage):
    # CreateTrainingJob's jobs carry search.sagemaker["TrainingJob"]; made here directly.
    search = SearchSpec.model_validate(
        {
            "strategy": "Random",
            "resource_limits": {"max_number_of_training_jobs": 1},
            "training_image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/toy:1",
            "sagemaker": {"TrainingJob": {"TrainingJobName": "lone"}, "Region": "eu-west-1"},
        }
    )
    storage.create_job(
        job_spec(
            name="lone",
            objective_metric="acc",
            objective_type="Maximize",
            strategy="latest",
            definitions=[MetricDefinition("acc", "acc=([0-9.]+);")],
            log_format=LogFormat.CLOUDWATCH,
            environment={},
            search=search,
        )
    )
    sagemaker.create_hyper_parameter_tuning_job(**tuning_request("tuned"))

    listed = sagemaker.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
    assert [j["HyperParameterTuningJobName"] for j in listed] == ["tuned"]
    for call in (
        sagemaker.describe_hyper_parameter_tuning_job,
        sagemaker.stop_hyper_parameter_tuning_job,
        sagemaker.delete_hyper_parameter_tuning_job,
        sagemaker.list_training_jobs_for_hyper_parameter_tuning_job,
    ):
        assert error_of(call, HyperParameterTuningJobName="lone") == (
            400,
            "ResourceNotFound",
            "Amazon SageMaker can't find a tuning job with name lone",
        )
    assert service.client.get("/v1/jobs/lone").status_code == 200  # still there
    # Nor can it be a parent.
    assert error_of(
        sagemaker.create_hyper_parameter_tuning_job,
        **tuning_request("child"),
        WarmStartConfig=warm_start("TransferLearning", "lone"),
    ) == (400, "ValidationException", "warm start: 'lone' is not a tuning job")


def test_the_sdks_warm_start_tuners_make_children_that_run(service, sagemaker, parents, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import boto3
        import sagemaker as sdk
        from sagemaker.tuner import HyperparameterTuner

        boto = boto3.Session(
            region_name="eu-west-1", aws_access_key_id="any", aws_secret_access_key="any"
        )
        session = sdk.Session(boto_session=boto, sagemaker_client=sagemaker)
        parent = HyperparameterTuner.attach("parent-a", sagemaker_session=session)
        identical = parent.identical_dataset_and_algorithm_tuner(additional_parents={"parent-b"})
        transfer = parent.transfer_learning_tuner()
        for tuner, name in ((identical, "identical"), (transfer, "transfer")):
            # The SDK's warm start tuners drop the parent's metric definitions, which an
            # image of one's own needs (AMT's built-in algorithms have theirs built in).
            tuner.metric_definitions = parent.metric_definitions
            tuner.fit(job_name=name, wait=False)
    run_worker(service.url, "--job", "identical", "--job", "transfer", "--data-root", str(tmp_path))

    described = {
        name: sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        for name in ("identical", "transfer")
    }
    assert {
        name: (
            d["HyperParameterTuningJobStatus"],
            d["WarmStartConfig"]["WarmStartType"],
            sorted(
                p["HyperParameterTuningJobName"]
                for p in d["WarmStartConfig"]["ParentHyperParameterTuningJobs"]
            ),
            d["HyperParameterTuningJobConfig"]["RandomSeed"],
        )
        for name, d in described.items()
    } == {
        "identical": ("Completed", "IdenticalDataAndAlgorithm", ["parent-a", "parent-b"], 3),
        "transfer": ("Completed", "TransferLearning", ["parent-a"], 3),
    }
    # Both copied parent-a's seed, 3, yet neither runs one of its points.
    for name in ("identical", "transfer"):
        assert len(lrs(sagemaker, name)) == 3
        assert not lrs(sagemaker, name) & lrs(sagemaker, "parent-a")
    assert "OverallBestTrainingJob" in described["identical"]


def test_a_child_made_through_v1_describes_its_warm_start_as_amt_would(service, sagemaker):
    from tests.tuning.conftest import search_job_body

    assert service.client.post("/v1/jobs", json=search_job_body("v1-parent")).status_code == 201
    service.client.post("/v1/jobs/v1-parent/stop")
    child = search_job_body(
        "v1-child", warm_start={"parents": ["v1-parent"], "type": "TransferLearning"}
    )
    assert service.client.post("/v1/jobs", json=child).status_code == 201

    described = sagemaker.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="v1-child"
    )
    assert described["WarmStartConfig"] == warm_start("TransferLearning", "v1-parent")
    assert "OverallBestTrainingJob" not in described
