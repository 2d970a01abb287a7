"""SDK v2 flows beyond the README's tuning script: estimator.fit, attach and
TrainingJobAnalytics, warm start.

Each runs a literal script of tests/sdk/flows in the README's folder (tests/sdk/harness.py)
and checks, with boto3, what the service and S3 then hold against what code/train.py
printed and wrote.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

from tests.sagemaker.conftest import sagemaker_client
from tests.sdk.harness import FLOWS, accuracy, model_files, model_json


def printed(out: str, word: str) -> list[list[str]]:
    """The words after `word` on each line of `out` that starts with it."""
    return [line.split()[1:] for line in out.splitlines() if line.split()[:1] == [word]]


def test_estimator_fit_runs_one_training_job_and_attach_reads_it_back(service, user, s3):
    out = user.run(str(FLOWS / "estimator_v2.py"))

    # fit's log: what code/train.py printed, read back through CloudWatch Logs, once. The
    # SDK prints it after whichever status line it printed last, which it leaves unended.
    logged = [line for line in out.splitlines() if "validation:accuracy=" in line]
    assert len(logged) == 1, out
    assert logged[0].endswith("validation:accuracy=0.9000;"), out
    ((name,),) = printed(out, "trained")
    assert re.fullmatch(r"toy-fit-\d{4}(-\d\d){5}-\d{3}", name), name
    model = f"s3://{user.bucket}/{name}/output/model.tar.gz"
    assert printed(out, "model") == [[model]]
    assert printed(out, "attached") == [[name, model]]
    (hyperparameters,) = [
        line.removeprefix("hyperparameters ")
        for line in out.splitlines()
        if line.startswith("hyperparameters ")
    ]
    assert {k: v for k, v in json.loads(hyperparameters).items() if k in ("lr", "epochs")} == {
        "lr": "0.02",
        "epochs": "2",
    }
    described = sagemaker_client(service.url).describe_training_job(TrainingJobName=name)
    assert described["TrainingJobStatus"] == "Completed"
    assert described["ModelArtifacts"] == {"S3ModelArtifacts": model}
    assert [(m["MetricName"], m["Value"]) for m in described["FinalMetricDataList"]] == [
        ("accuracy", accuracy(0.02))
    ]
    assert model_files(s3, model)["model.json"] == model_json(0.02)

    # TrainingJobAnalytics reads the metric back from CloudWatch: what train.py printed,
    # once, at the start of its series, for the metric named and for those of its
    # MetricDefinitions.
    analyst = replace(
        user,
        environment={
            **user.environment,
            "TRAINING_JOB": name,
            "AWS_ENDPOINT_URL_CLOUDWATCH": service.url,
        },
    )
    analysed = analyst.run(str(FLOWS / "analytics_v2.py"))
    assert printed(analysed, "metric") == [["0.0", "accuracy", "0.9"]] * 2


def test_warm_start_of_both_types_from_a_tuning_job(service, user, s3):
    out = user.run(str(FLOWS / "warm_start_v2.py"), timeout=600)

    client = sagemaker_client(service.url)

    def training_jobs(tuning_job):
        return client.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=tuning_job
        )["TrainingJobSummaries"]

    described = {
        name: client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        for name in ("warm-parent", "warm-identical", "warm-transfer")
    }
    for name, job in described.items():
        assert job["HyperParameterTuningJobStatus"] == "Completed", name
        assert job["TrainingJobStatusCounters"]["Completed"] == 2, name  # its own runs
        best = job["BestTrainingJob"]["TrainingJobName"]
        assert printed(out, name) == [[best]]
        for summary in training_jobs(name):
            lr = float(summary["TunedHyperParameters"]["lr"])
            objective = summary["FinalHyperParameterTuningJobObjectiveMetric"]
            assert objective == {
                "Type": "Maximize",
                "MetricName": "accuracy",
                "Value": accuracy(lr),
            }
    parent = [{"HyperParameterTuningJobName": "warm-parent"}]
    assert described["warm-identical"]["WarmStartConfig"] == {
        "ParentHyperParameterTuningJobs": parent,
        "WarmStartType": "IdenticalDataAndAlgorithm",
    }
    assert described["warm-transfer"]["WarmStartConfig"] == {
        "ParentHyperParameterTuningJobs": parent,
        "WarmStartType": "TransferLearning",
    }
    # The best of the parent's runs and the child's: for IdenticalDataAndAlgorithm only.
    overall = max(
        training_jobs("warm-parent") + training_jobs("warm-identical"),
        key=lambda s: s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"],
    )
    assert (
        described["warm-identical"]["OverallBestTrainingJob"]["TrainingJobName"]
        == overall["TrainingJobName"]
    )
    assert "OverallBestTrainingJob" not in described["warm-transfer"]
    best = described["warm-transfer"]["BestTrainingJob"]
    model = f"s3://{user.bucket}/{best['TrainingJobName']}/output/model.tar.gz"
    assert model_files(s3, model)["model.json"] == model_json(
        float(best["TunedHyperParameters"]["lr"])
    )
