"""A SageMaker training job run by a real worker, its log read with boto3's `logs` client
where SageMaker puts it: `/aws/sagemaker/TrainingJobs`, `<job>/algo-1-<start>`."""

from __future__ import annotations

import textwrap

from tests.cloudwatch_logs.test_logs import error_of, logs_client
from tests.sagemaker.conftest import sagemaker_client
from tests.sagemaker.test_api import run_worker
from tests.sagemaker.test_training_jobs import training_request

# Tabs in its lines, and a line on stderr between two on stdout.
PROGRAM = textwrap.dedent(
    """
    import sys
    print("epoch 1\\tacc=0.5;", flush=True)
    print("warning:\\tslow disk", file=sys.stderr, flush=True)
    print("epoch 2\\tacc=0.75;", flush=True)
    """
)


def test_a_training_jobs_log_reads_as_cloudwatch_holds_it(service, s3, tmp_path):
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "train.py").write_text(PROGRAM)
    sagemaker = sagemaker_client(service.url)
    sagemaker.create_training_job(**training_request("logged", folder, s3.new_bucket()))
    logs = logs_client(service.url)
    group = "/aws/sagemaker/TrainingJobs"
    # Before a worker starts it, the group is there and the job has no stream.
    assert (
        logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="logged/")["logStreams"]
        == []
    )

    run_worker(service.url, "--job", "logged", "--data-root", str(tmp_path))

    started = sagemaker.describe_training_job(TrainingJobName="logged")["TrainingStartTime"]
    stream = f"logged/algo-1-{int(started.timestamp())}"
    streams = logs.describe_log_streams(
        logGroupName=group, logStreamNamePrefix="logged/", orderBy="LogStreamName"
    )["logStreams"]
    assert [s["logStreamName"] for s in streams] == [stream]
    events = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)[
        "events"
    ]
    messages = [event["message"] for event in events]
    # stdout and stderr in one stream, as SageMaker's; tabs as CloudWatch shows them.
    assert sorted(messages) == [
        "epoch 1#011acc=0.5;",
        "epoch 2#011acc=0.75;",
        "warning:#011slow disk",
    ]
    assert [m for m in messages if m.startswith("epoch")] == [
        "epoch 1#011acc=0.5;",
        "epoch 2#011acc=0.75;",
    ]
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
    assert error_of(logs.get_log_events, logGroupName=group, logStreamName="logged/algo-1-1") == (
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )
    # A SageMaker job's runs have no group of their own.
    assert error_of(logs.describe_log_streams, logGroupName="/logmetrics/logged")[0] == (
        "ResourceNotFoundException"
    )
