"""A SageMaker training job run by a real worker, its metrics read with boto3's
`cloudwatch` client where SageMaker publishes them: `/aws/sagemaker/TrainingJobs`, by
`TrainingJobName` and by `Host=<job>/algo-1`."""

from __future__ import annotations

import textwrap
from datetime import timedelta

from tests.cloudwatch.points import cloudwatch_client
from tests.sagemaker.conftest import sagemaker_client
from tests.sagemaker.test_api import run_worker
from tests.sagemaker.test_training_jobs import training_request

PROGRAM = textwrap.dedent(
    """
    print("epoch 1 acc=0.5;", flush=True)
    print("epoch 2 acc=0.75;", flush=True)
    print("epoch 3 acc=0.25;", flush=True)
    """
)
NAMESPACE = "/aws/sagemaker/TrainingJobs"


def test_a_training_jobs_metrics_read_as_sagemaker_publishes_them(service, s3, tmp_path):
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "train.py").write_text(PROGRAM)
    sagemaker = sagemaker_client(service.url)
    sagemaker.create_training_job(**training_request("measured", folder, s3.new_bucket()))
    cloudwatch = cloudwatch_client(service.url)
    assert cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"] == []

    run_worker(service.url, "--job", "measured", "--data-root", str(tmp_path))

    described = sagemaker.describe_training_job(TrainingJobName="measured")
    window = {
        "StartTime": described["TrainingStartTime"],
        "EndTime": described["TrainingEndTime"] + timedelta(minutes=1),
    }
    by_job = [{"Name": "TrainingJobName", "Value": "measured"}]
    by_host = [{"Name": "Host", "Value": "measured/algo-1"}]
    assert cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"] == [
        {"Namespace": NAMESPACE, "MetricName": "acc", "Dimensions": by_host},
        {"Namespace": NAMESPACE, "MetricName": "acc", "Dimensions": by_job},
    ]
    for dimensions in (by_job, by_host):
        answer = cloudwatch.get_metric_statistics(
            Namespace=NAMESPACE,
            MetricName="acc",
            Dimensions=dimensions,
            Period=3600,
            Statistics=["SampleCount", "Sum", "Minimum", "Maximum"],
            **window,
        )
        # The three values train.py printed, in one bucket or (across an hour) two.
        points = answer["Datapoints"]
        assert (
            sum(d["SampleCount"] for d in points),
            sum(d["Sum"] for d in points),
            min(d["Minimum"] for d in points),
            max(d["Maximum"] for d in points),
        ) == (3.0, 1.5, 0.25, 0.75)
    data = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "acc",
                "MetricStat": {
                    "Metric": {"Namespace": NAMESPACE, "MetricName": "acc", "Dimensions": by_job},
                    "Period": 1,
                    "Stat": "SampleCount",
                },
            }
        ],
        **window,
    )
    (result,) = data["MetricDataResults"]
    assert sum(result["Values"]) == 3
    assert result["StatusCode"] == "Complete"
    # Not also a job of its own: its namespace is SageMaker's.
    assert cloudwatch.list_metrics(Namespace="/logmetrics/measured")["Metrics"] == []
