"""boto3's `logs` client writing to a live service: CreateLogGroup, CreateLogStream and
PutLogEvents append lines to the run a stream names, parsed as any chunk is, each answer
checked against botocore's own output shapes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from app.cloudwatch_logs.errors import logs_error
from app.errors import RunEnded, StreamMoved
from tests.cloudwatch_logs.test_logs import error_of, logs_client, messages
from tests.sagemaker.conftest import tuning_request
from tests.tuning.conftest import search_job_body

GROUP = "/logmetrics/gan"
# The AWS CLI (v1, pyproject.toml's dev extra) beside the tests' python.
AWS_CLI = Path(sys.executable).parent / "aws"


@pytest.fixture
def logs(service):
    return logs_client(service.url)


@pytest.fixture
def base():
    """A whole second a minute ago, in milliseconds: events near the service's clock."""
    return (int(time.time()) - 60) * 1000


def events(base, *timed):
    """PutLogEvents' events: (milliseconds after `base`, message) pairs."""
    return [{"timestamp": base + after, "message": message} for after, message in timed]


def points(api, run, job="gan", metric="loss"):
    answer = api.get(f"/v1/jobs/{job}/runs/{run}/metrics/{metric}")
    assert answer.status_code == 200, answer.text
    return answer.json()["points"]


def read(logs, stream, group=GROUP):
    return messages(
        logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)
    )


def test_events_put_read_back_and_give_the_points_a_v1_chunk_gives(
    logs, api, make_job, make_run, post_log, base
):
    make_job()
    # The stream names a run that does not exist: in a job without a search, made.
    assert set(logs.create_log_stream(logGroupName=GROUP, logStreamName="cw")) == {
        "ResponseMetadata"
    }
    assert api.get("/v1/jobs/gan/runs/cw").status_code == 200
    # Its stream is there, empty, before it is written.
    listed = logs.describe_log_streams(logGroupName=GROUP)["logStreams"]
    assert [(s["logStreamName"], s["storedBytes"], "lastEventTimestamp" in s) for s in listed] == [
        ("cw/stdout", 0, False)
    ]
    assert read(logs, "cw") == []
    assert read(logs, "cw/stderr") == []
    assert error_of(logs.get_log_events, logGroupName=GROUP, logStreamName="cw/") == (
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )
    batch = events(
        base,
        (100, "epoch 1 Loss = 0.5;"),
        (200, "epoch 2 Loss = 0.4;\n"),  # its own newline: still one line
        (1500, "epoch 3 Loss = 0.3;"),
        (1700, "done"),
    )
    answer = logs.put_log_events(logGroupName=GROUP, logStreamName="cw", logEvents=batch)
    text = b"epoch 1 Loss = 0.5;\nepoch 2 Loss = 0.4;\nepoch 3 Loss = 0.3;\ndone\n"
    assert answer["nextSequenceToken"] == str(len(text))
    assert "rejectedLogEventsInfo" not in answer

    # One chunk per second of the events' times, at the time of its last event.
    expected = [
        (base + 200, "epoch 1 Loss = 0.5;"),
        (base + 200, "epoch 2 Loss = 0.4;"),
        (base + 1700, "epoch 3 Loss = 0.3;"),
        (base + 1700, "done"),
    ]
    assert read(logs, "cw") == expected
    assert read(logs, "cw/stdout") == expected
    assert [
        s["logStreamName"] for s in logs.describe_log_streams(logGroupName=GROUP)["logStreams"]
    ] == ["cw/stdout"]

    # The same text through /v1, in the same two chunks at the same times: the same points.
    make_run(name="v1")
    post_log("v1", text[:40], timestamp=f"{(base + 200) / 1000:.3f}")
    post_log("v1", text[40:], timestamp=f"{(base + 1700) / 1000:.3f}")
    assert [p["value"] for p in points(api, "cw")] == [0.5, 0.4, 0.3]
    assert points(api, "cw") == points(api, "v1")


def test_a_retried_batch_is_stored_once(logs, api, make_job, make_run, post_log, base):
    make_job()
    make_run(name="r1")
    where = {"logGroupName": GROUP, "logStreamName": "r1"}
    batch = events(base, (0, "Loss = 0.5;"), (1000, "Loss = 0.4;"))
    first = logs.put_log_events(**where, logEvents=batch)
    again = logs.put_log_events(**where, logEvents=batch, sequenceToken="ignored")
    assert again["nextSequenceToken"] == first["nextSequenceToken"] == "24"
    assert [p["value"] for p in points(api, "r1")] == [0.5, 0.4]

    # The same lines at other times are new events, not a retry.
    later = events(base, (2000, "Loss = 0.5;"), (3000, "Loss = 0.4;"))
    logs.put_log_events(**where, logEvents=later)
    assert [p["value"] for p in points(api, "r1")] == [0.5, 0.4, 0.5, 0.4]
    # A retry that comes after another batch is recognised too: its chunks' digests.
    logs.put_log_events(**where, logEvents=batch)
    assert [p["value"] for p in points(api, "r1")] == [0.5, 0.4, 0.5, 0.4]
    assert [t for t, _m in read(logs, "r1")] == [base, base + 1000, base + 2000, base + 3000]

    # A try that stored the first of its chunks (one per second) before it failed: the
    # retry stores the rest. A /v1 chunk of the same bytes and time is no earlier try.
    make_run(name="r2")
    logs.put_log_events(logGroupName=GROUP, logStreamName="r2", logEvents=batch[:1])
    logs.put_log_events(logGroupName=GROUP, logStreamName="r2", logEvents=batch)
    assert read(logs, "r2") == [(base, "Loss = 0.5;"), (base + 1000, "Loss = 0.4;")]
    make_run(name="r3")
    post_log("r3", b"Loss = 0.5;\n", timestamp=f"{base / 1000:.3f}")
    logs.put_log_events(logGroupName=GROUP, logStreamName="r3", logEvents=batch)
    assert [m for _t, m in read(logs, "r3")] == ["Loss = 0.5;", "Loss = 0.5;", "Loss = 0.4;"]


def test_tries_of_one_batch_at_once_store_it_once(service, api, make_job, make_run, base):
    make_job()
    make_run(name="r1")
    batch = events(base, *((i * 300, f"step {i} Loss = {i};") for i in range(20)))
    answers = []

    def put():
        client = logs_client(service.url)
        answers.append(
            client.put_log_events(logGroupName=GROUP, logStreamName="r1", logEvents=batch)
        )

    threads = [threading.Thread(target=put) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 4
    assert [p["value"] for p in points(api, "r1")] == [float(i) for i in range(20)]


def test_different_batches_of_the_same_lines_at_once_are_all_stored(
    service, api, make_job, make_run, base
):
    # Shippers send with several connections at once; equal lines are common in logs.
    make_job()
    make_run(name="r1")
    answers = []

    def put(second):
        client = logs_client(service.url)
        each = events(base, (second * 1000, "epoch Loss = 0.5;"))
        answers.append(
            client.put_log_events(logGroupName=GROUP, logStreamName="r1", logEvents=each)
        )

    for round_ in range(3):
        threads = [threading.Thread(target=put, args=(round_ * 8 + i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(answers) == 24
    assert [p["value"] for p in points(api, "r1")] == [0.5] * 24
    assert sorted(t for t, _m in read(logs_client(service.url), "r1")) == [
        base + second * 1000 for second in range(24)
    ]


def test_putlogevents_rules(logs, api, make_job, make_run, base):
    make_job()
    make_run(name="r1")
    where = {"logGroupName": GROUP, "logStreamName": "r1"}
    now = int(time.time() * 1000)
    # Too old (over 14 days) and too new (over 2 hours ahead): answered, the rest stored.
    mixed = [
        {"timestamp": now - 15 * 86_400_000, "message": "old"},
        {"timestamp": base, "message": "kept 1"},
        {"timestamp": base + 1, "message": "kept 2"},
        {"timestamp": now + 3 * 3_600_000, "message": "new 1"},
        {"timestamp": now + 4 * 3_600_000, "message": "new 2"},
    ]
    answer = logs.put_log_events(**where, logEvents=mixed)
    assert answer["rejectedLogEventsInfo"] == {
        "tooOldLogEventEndIndex": 1,
        "tooNewLogEventStartIndex": 3,
    }
    assert read(logs, "r1") == [(base + 1, "kept 1"), (base + 1, "kept 2")]
    nothing = logs.put_log_events(
        **where, logEvents=[{"timestamp": now - 20 * 86_400_000, "message": "old"}]
    )
    assert nothing == {
        "nextSequenceToken": "14",
        "rejectedLogEventsInfo": {"tooOldLogEventEndIndex": 1},
        "ResponseMetadata": nothing["ResponseMetadata"],
    }

    refusals = [
        (
            events(base, (5, "b"), (4, "a")),
            "Log events in a single PutLogEvents request must be in chronological order.",
        ),
        (
            [
                {"timestamp": now - 2 * 86_400_000, "message": "a"},
                {"timestamp": now, "message": "b"},
            ],
            "The batch of log events in a single PutLogEvents request cannot span more than "
            "24 hours.",
        ),
        (
            events(base, (0, "x" * (1_048_576 - 25))),
            "Log event too large: 1048577 bytes exceeds limit of 1048576",
        ),
        (
            events(base, *((0, "é" * 50_000) for _ in range(11))),
            "Upload too large: 1100286 bytes exceeds limit of 1048576",
        ),
    ]
    for batch, message in refusals:
        assert error_of(logs.put_log_events, **where, logEvents=batch) == (
            "InvalidParameterException",
            message,
        )
    # A refused batch makes no run either.
    assert error_of(
        logs.put_log_events,
        logGroupName=GROUP,
        logStreamName="fresh",
        logEvents=refusals[0][0],
    ) == ("InvalidParameterException", refusals[0][1])
    assert api.get("/v1/jobs/gan/runs/fresh").status_code == 404
    # The largest event CloudWatch Logs takes is stored, and reads back whole.
    largest = "y" * (1_048_576 - 26)
    logs.put_log_events(**where, logEvents=events(base, (2, largest)))
    assert read(logs, "r1")[-1] == (base + 2, largest)

    # An empty batch, or message, is refused by the service (botocore's model), not only
    # by the client.
    unchecked = boto3.client(
        "logs",
        endpoint_url=logs.meta.endpoint_url,
        region_name="eu-west-1",
        aws_access_key_id="any",
        aws_secret_access_key="any",
        config=Config(parameter_validation=False),
    )
    for batch in ([], [{"timestamp": base, "message": ""}]):
        code, _message = error_of(unchecked.put_log_events, **where, logEvents=batch)
        assert code == "InvalidParameterException"
    assert len(read(logs, "r1")) == 3


def test_groups_and_streams_that_exist_and_those_refused(logs, api, make_job, make_run, base):
    make_job()
    make_run(name="r1")
    exists = ("ResourceAlreadyExistsException", "The specified log group already exists")
    assert error_of(logs.create_log_group, logGroupName=GROUP) == exists
    assert error_of(logs.create_log_group, logGroupName="/aws/sagemaker/TrainingJobs") == exists
    assert error_of(logs.create_log_group, logGroupName="/logmetrics/nojob") == (
        "InvalidParameterException",
        "There is no job 'nojob', and CreateLogGroup makes none: a job's log group is made "
        "with the job (POST /v1/jobs with its metric definitions, or SageMaker's "
        "CreateHyperParameterTuningJob or CreateTrainingJob).",
    )
    assert error_of(logs.create_log_group, logGroupName="/aws/lambda/f") == (
        "InvalidParameterException",
        "logmetrics serves the log groups /aws/sagemaker/TrainingJobs (SageMaker training "
        "jobs) and /logmetrics/<job> (every other job), not '/aws/lambda/f'.",
    )

    stream_exists = ("ResourceAlreadyExistsException", "The specified log stream already exists")
    for name in ("r1", "r1/stdout", "r1/stderr"):
        assert error_of(logs.create_log_stream, logGroupName=GROUP, logStreamName=name) == (
            stream_exists
        )
    assert error_of(logs.create_log_stream, logGroupName="/logmetrics/x", logStreamName="r1") == (
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )
    assert error_of(logs.create_log_stream, logGroupName=GROUP, logStreamName="r1/.x") == (
        "InvalidParameterException",
        "Log stream 'r1/.x' is not <run> or <run>/<stream>, the stream 1 to 255 letters, "
        "digits, '.', '_', '/' and '-', starting with a letter or digit.",
    )
    assert error_of(logs.create_log_stream, logGroupName=GROUP, logStreamName="-r") == (
        "InvalidParameterException",
        "run name '-r' is not 1 to 63 letters, digits and hyphens, starting and ending with a "
        "letter or digit",
    )

    # PutLogEvents without CreateLogStream: the run is made, the stream named written.
    logs.put_log_events(
        logGroupName=GROUP, logStreamName="r3/algo-2/err", logEvents=events(base, (0, "x"))
    )
    assert read(logs, "r3/algo-2/err") == [(base, "x")]
    assert error_of(
        logs.put_log_events,
        logGroupName="/logmetrics/x",
        logStreamName="r1",
        logEvents=events(base, (0, "x")),
    ) == ("ResourceNotFoundException", "The specified log group does not exist.")


def test_ended_runs_and_jobs_and_a_searchs_runs(logs, api, make_job, make_run, base):
    make_job()
    make_run(name="done", status="Completed")
    assert error_of(
        logs.put_log_events,
        logGroupName=GROUP,
        logStreamName="done",
        logEvents=events(base, (0, "late")),
    ) == (
        "InvalidParameterException",
        "run 'done' has ended (Completed); it takes no more logs",
    )
    # A batch stored before its run ended, sent again after: already accepted.
    make_run(name="r2")
    batch = events(base, (0, "Loss = 0.5;"))
    first = logs.put_log_events(logGroupName=GROUP, logStreamName="r2", logEvents=batch)
    assert (
        api.post("/v1/jobs/gan/runs/r2/complete", json={"status": "Completed"}).status_code == 200
    )
    again = logs.put_log_events(logGroupName=GROUP, logStreamName="r2", logEvents=batch)
    assert again["nextSequenceToken"] == first["nextSequenceToken"] == "12"

    assert api.post("/v1/jobs/gan/stop").status_code == 200
    code, message = error_of(logs.create_log_stream, logGroupName=GROUP, logStreamName="new")
    assert code == "InvalidParameterException"
    assert message == "job 'gan' has ended (Stopped)"

    # A search starts its own runs: a stream must name one.
    assert api.post("/v1/jobs", json=search_job_body("tune")).status_code == 201
    code, message = error_of(
        logs.create_log_stream, logGroupName="/logmetrics/tune", logStreamName="mine"
    )
    assert code == "ResourceNotFoundException"
    assert message == "run 'mine' does not exist in job 'tune'"
    run = api.post("/v1/leases", json={"worker": "w", "jobs": ["tune"]}).json()["lease"]["run"]
    assert error_of(logs.create_log_stream, logGroupName="/logmetrics/tune", logStreamName=run) == (
        "ResourceAlreadyExistsException",
        "The specified log stream already exists",
    )
    logs.put_log_events(
        logGroupName="/logmetrics/tune", logStreamName=run, logEvents=events(base, (0, "acc=0.7;"))
    )
    assert [p["value"] for p in points(api, run, job="tune", metric="acc")] == [0.7]


def test_a_training_jobs_stream_is_written_to_its_run(service, logs, api, base):
    sagemaker = boto3.client(
        "sagemaker",
        endpoint_url=service.url,
        region_name="eu-west-1",
        aws_access_key_id="any",
        aws_secret_access_key="any",
    )
    sagemaker.create_hyper_parameter_tuning_job(**tuning_request("toy"))
    run = api.post("/v1/leases", json={"worker": "w", "jobs": ["toy"]}).json()["lease"]["run"]
    group = "/aws/sagemaker/TrainingJobs"
    started = sagemaker.describe_training_job(TrainingJobName=run)["TrainingStartTime"]
    stream = f"{run}/algo-1-{int(started.timestamp())}"
    assert error_of(logs.create_log_stream, logGroupName=group, logStreamName=stream) == (
        "ResourceAlreadyExistsException",
        "The specified log stream already exists",
    )
    logs.put_log_events(
        logGroupName=group, logStreamName=stream, logEvents=events(base, (0, "epoch 1 acc=0.6;"))
    )
    assert read(logs, stream, group) == [(base, "epoch 1 acc=0.6;")]
    assert [p["value"] for p in points(api, run, job="toy", metric="acc")] == [0.6]
    assert [p["stream"] for p in points(api, run, job="toy", metric="acc")] == ["stdout"]

    assert error_of(
        logs.put_log_events,
        logGroupName=group,
        logStreamName=f"{run}/algo-1-1",
        logEvents=events(base, (0, "x")),
    ) == ("ResourceNotFoundException", "The specified log stream does not exist.")
    assert error_of(logs.create_log_stream, logGroupName=group, logStreamName="nope/algo-1-1") == (
        "InvalidParameterException",
        "No training job has the stream 'nope/algo-1-1': a training job's stream "
        "(<training job>/algo-1-<start>) is made when it starts.",
    )
    assert error_of(logs.create_log_group, logGroupName="/logmetrics/toy") == (
        "InvalidParameterException",
        "Job 'toy' was made through SageMaker: its training jobs' logs are in "
        "/aws/sagemaker/TrainingJobs.",
    )


def test_a_read_key_may_not_write(start_service, base):
    service = start_service(
        api_tokens="admin:secret-admin-token",
        aws_credentials="admin:AKIDADMIN:admin-secret,read:AKIDREAD:read-secret",
    )
    headers = {"Authorization": "Bearer secret-admin-token"}
    made = service.client.post(
        "/v1/jobs",
        json={
            "name": "gan",
            "objective": {"MetricName": "loss", "Type": "Minimize"},
            "metric_definitions": [{"Name": "loss", "Regex": "Loss = (.*?);"}],
        },
        headers=headers,
    )
    assert made.status_code == 201, made.text
    reader = logs_client(service.url, "AKIDREAD", "read-secret")
    writes = [
        (reader.create_log_group, {"logGroupName": GROUP}, "CreateLogGroup"),
        (
            reader.create_log_stream,
            {"logGroupName": GROUP, "logStreamName": "r"},
            "CreateLogStream",
        ),
        (
            reader.put_log_events,
            {"logGroupName": GROUP, "logStreamName": "r", "logEvents": events(base, (0, "x"))},
            "PutLogEvents",
        ),
    ]
    for call, params, operation in writes:
        assert error_of(call, **params) == (
            "AccessDeniedException",
            f"The access key may only describe, get and filter; {operation} needs an admin key.",
        )
    assert reader.describe_log_streams(logGroupName=GROUP)["logStreams"] == []
    writer = logs_client(service.url, "AKIDADMIN", "admin-secret")
    writer.put_log_events(logGroupName=GROUP, logStreamName="r", logEvents=events(base, (0, "x")))
    assert read(reader, "r") == [(base, "x")]


def test_the_aws_cli_creates_a_stream_and_puts_events(service, api, make_job, base, tmp_path):
    make_job()
    (tmp_path / "home").mkdir()
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "AWS_ACCESS_KEY_ID": "any",
        "AWS_SECRET_ACCESS_KEY": "any",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }

    def cli(*args):
        return subprocess.run(
            [str(AWS_CLI), "logs", *args, "--endpoint-url", service.url, "--output", "json"],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )

    where = ("--log-group-name", GROUP, "--log-stream-name", "cli")
    created = cli("create-log-stream", *where)
    assert (created.returncode, created.stdout) == (0, "")
    again = cli("create-log-stream", *where)
    assert again.returncode == 255
    assert again.stderr.strip() == (
        "An error occurred (ResourceAlreadyExistsException) when calling the CreateLogStream "
        "operation: The specified log stream already exists"
    )
    batch = events(base, (0, "epoch 1 Loss = 0.5;"), (1000, "epoch 2 Loss = 0.25;"))
    put = cli("put-log-events", *where, "--log-events", json.dumps(batch))
    assert put.returncode == 0, put.stderr
    assert json.loads(put.stdout) == {"nextSequenceToken": "41"}
    assert [p["value"] for p in points(api, "cli")] == [0.5, 0.25]


def test_a_message_holding_nul_or_a_lone_surrogate_is_kept_as_logs_are_data(
    logs, api, make_job, base
):
    make_job()
    batch = events(base, (0, "a\x00b Loss = 0.5;"), (1, "half \ud800 Loss = 0.25;"))

    logs.put_log_events(logGroupName=GROUP, logStreamName="raw", logEvents=batch)

    stored = api.get("/v1/jobs/gan/runs/raw/logs").content
    # The surrogate as UTF-8's scheme writes it (no UTF-8 text holds one).
    assert stored == b"a\x00b Loss = 0.5;\nhalf \xed\xa0\x80 Loss = 0.25;\n"
    assert [p["value"] for p in points(api, "raw")] == [0.5, 0.25]
    # Elsewhere a NUL is still refused: a stream's name is a name, not a log.
    assert error_of(
        logs.put_log_events, logGroupName=GROUP, logStreamName="r\x00w", logEvents=batch
    ) == (
        "InvalidParameterException",
        "Value at 'logStreamName' failed to satisfy constraint: Member must not contain NUL "
        "or a lone surrogate",
    )


def test_a_stream_that_keeps_moving_is_a_503_that_botocore_retries():
    moved = logs_error(StreamMoved("stream 'stdout' kept moving; send the batch again"))
    assert (moved.code, moved.status) == ("ServiceUnavailableException", 503)
    ended = logs_error(RunEnded("run 'r1' has ended (Completed); it takes no more logs"))
    assert (ended.code, ended.status) == ("InvalidParameterException", 400)
