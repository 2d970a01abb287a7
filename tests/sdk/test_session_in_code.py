"""The SageMaker Python SDK (v2) in this process, its session given a boto3 client with the
endpoint in the code (where the other flows of tests/sdk set it outside): the analytics
data frame, and `HyperparameterTuner.attach(...).best_training_job()`."""

from __future__ import annotations

import warnings

import boto3
import pytest

from tests.sagemaker.conftest import tuning_request
from tests.sagemaker.test_api import code_folder, run_worker, script_mode


@pytest.fixture
def sdk(monkeypatch):
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    with warnings.catch_warnings():
        # The SDK's own imports warn (deprecations of its dependencies): not ours.
        warnings.simplefilter("ignore")
        import sagemaker
        from sagemaker.analytics import HyperparameterTuningJobAnalytics
        from sagemaker.tuner import HyperparameterTuner
    return sagemaker, HyperparameterTuningJobAnalytics, HyperparameterTuner


def test_the_sdk_reads_a_tuning_job_and_its_best_training_job(service, sdk, tmp_path):
    sagemaker, analytics, tuner = sdk
    boto = boto3.Session(
        region_name="eu-west-1", aws_access_key_id="any", aws_secret_access_key="any"
    )
    client = boto.client("sagemaker", endpoint_url=service.url)
    client.create_hyper_parameter_tuning_job(**script_mode(tuning_request(), code_folder(tmp_path)))
    run_worker(service.url, "--job", "toy", "--data-root", str(tmp_path))  # the code folder

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        session = sagemaker.Session(boto_session=boto, sagemaker_client=client)
        frame = analytics("toy", sagemaker_session=session).dataframe()
        best = tuner.attach("toy", sagemaker_session=session).best_training_job()

    described = client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="toy")
    assert best == described["BestTrainingJob"]["TrainingJobName"]
    assert sorted(frame["TrainingJobName"]) == sorted(
        j["TrainingJobName"]
        for j in client.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName="toy"
        )["TrainingJobSummaries"]
    )
    row = frame.set_index("TrainingJobName").loc[best]
    assert row["FinalObjectiveValue"] == pytest.approx(1 - row["lr"] / 2, abs=1e-6)
    assert set(frame["TrainingJobStatus"]) == {"Completed"}
