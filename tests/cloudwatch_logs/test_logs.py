"""boto3's `logs` client against a live service: every run's stored log read as
CloudWatch Logs groups, streams and events, each answer checked against botocore's own
output shapes."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.aws import checked_client


def logs_client(url: str, key: str = "any", secret: str = "any", region: str = "eu-west-1"):
    return checked_client("logs", url, key, secret, region)


@pytest.fixture
def logs(service):
    return logs_client(service.url)


def error_of(call, **params):
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def messages(answer):
    return [(event["timestamp"], event["message"]) for event in answer["events"]]


# 2026-12-06T00:00:00Z, and a second after it, in milliseconds.
T0 = 1796515200_000
T1 = T0 + 1000


@pytest.fixture
def gan_run(make_job, make_run, post_log):
    """Job gan, run r1: three stdout lines in two chunks a second apart, one of them cut
    across the chunks, and one stderr line."""
    make_job()
    make_run(name="r1")
    post_log("r1", b"epoch 1 loss=0.5\nepoch 2 lo", timestamp="2026-12-06T00:00:00Z")
    post_log("r1", b"ss=0.4\nepoch 3 loss=0.3\n", timestamp="2026-12-06T00:00:01Z")
    post_log("r1", b"warning: slow\n", stream="stderr", timestamp="2026-12-06T00:00:00Z")
    return "r1"


def test_groups_and_streams_of_a_run_posted_through_v1(logs, gan_run):
    groups = logs.describe_log_groups()["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/aws/sagemaker/TrainingJobs", "/logmetrics/gan"]
    assert groups[1]["arn"] == "arn:aws:logs:eu-west-1:123456789012:log-group:/logmetrics/gan:*"
    assert [
        g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="/logm")["logGroups"]
    ] == ["/logmetrics/gan"]

    streams = logs.describe_log_streams(logGroupName="/logmetrics/gan")["logStreams"]
    assert [
        (s["logStreamName"], s["firstEventTimestamp"], s["lastEventTimestamp"]) for s in streams
    ] == [("r1/stderr", T0, T0), ("r1/stdout", T0, T1)]
    assert streams[1]["storedBytes"] == 51


def test_get_log_events_gives_one_event_per_line_at_its_arrival(logs, gan_run):
    head = logs.get_log_events(
        logGroupName="/logmetrics/gan", logStreamName="r1/stdout", startFromHead=True
    )
    assert messages(head) == [
        (T0, "epoch 1 loss=0.5"),
        (T1, "epoch 2 loss=0.4"),
        (T1, "epoch 3 loss=0.3"),
    ]
    assert [e["ingestionTime"] for e in head["events"]] == [T0, T1, T1]
    # Nothing new: the same token back, as the SageMaker SDK's loop needs.
    again = logs.get_log_events(
        logGroupName="/logmetrics/gan",
        logStreamName="r1/stdout",
        nextToken=head["nextForwardToken"],
    )
    assert again["events"] == []
    assert again["nextForwardToken"] == head["nextForwardToken"]


def test_both_directions_and_the_time_range(logs, gan_run):
    where = {"logGroupName": "/logmetrics/gan", "logStreamName": "r1/stdout"}
    # Without startFromHead, the last events first come back.
    tail = logs.get_log_events(**where, limit=2)
    assert messages(tail) == [(T1, "epoch 2 loss=0.4"), (T1, "epoch 3 loss=0.3")]
    back = logs.get_log_events(**where, limit=2, nextToken=tail["nextBackwardToken"])
    assert messages(back) == [(T0, "epoch 1 loss=0.5")]
    forward = logs.get_log_events(**where, limit=1, nextToken=back["nextForwardToken"])
    assert messages(forward) == [(T1, "epoch 2 loss=0.4")]

    assert messages(logs.get_log_events(**where, startFromHead=True, startTime=T1)) == [
        (T1, "epoch 2 loss=0.4"),
        (T1, "epoch 3 loss=0.3"),
    ]
    # endTime is left out, as CloudWatch Logs leaves it out.
    assert messages(logs.get_log_events(**where, startFromHead=True, endTime=T1)) == [
        (T0, "epoch 1 loss=0.5")
    ]


def test_a_live_stream_paged_loses_and_repeats_no_event(logs, make_job, make_run, post_log):
    make_job()
    make_run(name="live")
    where = {"logGroupName": "/logmetrics/gan", "logStreamName": "live/stdout"}
    post_log("live", b"one\ntwo\nthr", timestamp="2026-12-06T00:00:00Z")
    first = logs.get_log_events(**where, startFromHead=True, limit=1)
    assert messages(first) == [(T0, "one")]
    # Lines arrive between two calls, the held partial line completed by one.
    post_log("live", b"ee\nfour\n", timestamp="2026-12-06T00:00:01Z")
    rest = logs.get_log_events(**where, nextToken=first["nextForwardToken"])
    assert messages(rest) == [(T0, "two"), (T1, "three"), (T1, "four")]
    post_log("live", b"five\n", timestamp="2026-12-06T00:00:01Z")
    last = logs.get_log_events(**where, nextToken=rest["nextForwardToken"])
    assert messages(last) == [(T1, "five")]


def test_a_line_is_an_event_once_it_ends_and_an_ended_runs_last_line_is_one(
    logs, make_job, make_run, post_log, api
):
    make_job()
    make_run(name="bar")
    where = {
        "logGroupName": "/logmetrics/gan",
        "logStreamName": "bar/stdout",
        "startFromHead": True,
    }
    # A `\r` ends a text log's line, but a `\n` may follow in the next chunk.
    post_log("bar", b"10%\r", timestamp="2026-12-06T00:00:00Z")
    assert messages(logs.get_log_events(**where)) == []
    post_log("bar", b"\n50%\rdone\nlast", timestamp="2026-12-06T00:00:01Z")
    # Its time is when its `\r` came.
    assert messages(logs.get_log_events(**where)) == [(T0, "10%"), (T1, "50%"), (T1, "done")]
    ended = api.post("/v1/jobs/gan/runs/bar/complete", json={"status": "Completed"})
    assert ended.status_code == 200, ended.text
    assert messages(logs.get_log_events(**where))[-1] == (T1, "last")


def test_describe_log_groups_by_identifier_class_and_pages(logs, make_job):
    for name in ("a", "b", "c"):
        make_job(name=name)

    def names(**params):
        found = logs.describe_log_groups(**params)
        return [g["logGroupName"] for g in found["logGroups"]], found.get("nextToken")

    first, token = names(limit=2)
    assert first == ["/aws/sagemaker/TrainingJobs", "/logmetrics/a"]
    assert names(limit=2, nextToken=token) == (["/logmetrics/b", "/logmetrics/c"], None)
    assert names(logGroupIdentifiers=["/logmetrics/b", "/logmetrics/z"])[0] == ["/logmetrics/b"]
    assert names(logGroupNamePattern="METRICS/C")[0] == ["/logmetrics/c"]
    assert names(logGroupClass="INFREQUENT_ACCESS")[0] == []


def test_filter_log_events_by_pattern_streams_and_pages(logs, gan_run):
    group = {"logGroupName": "/logmetrics/gan"}

    def found(**params):
        answer = logs.filter_log_events(**group, **params)
        return [(e["logStreamName"], e["message"]) for e in answer["events"]]

    assert found(filterPattern="loss=0.4") == [("r1/stdout", "epoch 2 loss=0.4")]
    assert found(filterPattern='"epoch 3"') == [("r1/stdout", "epoch 3 loss=0.3")]
    assert found(filterPattern="?slow ?0.5") == [
        ("r1/stderr", "warning: slow"),
        ("r1/stdout", "epoch 1 loss=0.5"),
    ]
    assert found(filterPattern="epoch ?0.3 ?0.5") == [
        ("r1/stdout", "epoch 1 loss=0.5"),
        ("r1/stdout", "epoch 3 loss=0.3"),
    ]
    assert found(logStreamNames=["r1/stderr"]) == [("r1/stderr", "warning: slow")]
    assert found(logStreamNamePrefix="r1/std", startTime=T1) == [
        ("r1/stdout", "epoch 2 loss=0.4"),
        ("r1/stdout", "epoch 3 loss=0.3"),
    ]
    pages = []
    token = None
    while True:
        answer = logs.filter_log_events(**group, limit=3, **({"nextToken": token} if token else {}))
        pages.append([e["message"] for e in answer["events"]])
        token = answer.get("nextToken")
        if token is None:
            break
    # In time order, ties by stream name.
    assert pages == [
        ["warning: slow", "epoch 1 loss=0.5", "epoch 2 loss=0.4"],
        ["epoch 3 loss=0.3"],
    ]
    code, message = error_of(logs.filter_log_events, **group, filterPattern="{ $.level = 1 }")
    assert code == "InvalidParameterException"
    assert message == (
        "Invalid filter pattern '{ $.level = 1 }': only terms, quoted phrases and ?term "
        "alternatives are served, not JSON, space-delimited, regex, exclusion or wildcard "
        "patterns."
    )


def test_resources_not_found_and_forged_tokens(logs, gan_run):
    assert error_of(
        logs.get_log_events, logGroupName="/logmetrics/nothing", logStreamName="r1/stdout"
    ) == ("ResourceNotFoundException", "The specified log group does not exist.")
    assert error_of(logs.describe_log_streams, logGroupName="/aws/lambda/x") == (
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )
    assert error_of(
        logs.get_log_events, logGroupName="/logmetrics/gan", logStreamName="r9/stdout"
    ) == ("ResourceNotFoundException", "The specified log stream does not exist.")
    where = {"logGroupName": "/logmetrics/gan", "logStreamName": "r1/stdout"}
    invalid = ("InvalidParameterException", "The specified nextToken is invalid.")
    for forged in ("f/", "x/e30=", "f/not-base64!", "f/eyJzdGRvdXQiOjV9", "f/eyJzdGRlcnIiOjB9"):
        # the last two: stdout at offset 5, inside a line; a stream this one is not
        assert error_of(logs.get_log_events, **where, nextToken=forged) == invalid, forged
    assert (
        error_of(logs.describe_log_streams, logGroupName="/logmetrics/gan", nextToken="[1]")[0]
        == "InvalidParameterException"
    )
    assert (
        error_of(logs.filter_log_events, logGroupName="/logmetrics/gan", nextToken="n/e30=x")[0]
        == "InvalidParameterException"
    )


def test_describe_log_streams_orders_and_pages(logs, make_job, make_run, post_log):
    make_job()
    for name, when in (("b", "00:00:02"), ("a", "00:00:01"), ("c", "00:00:00")):
        make_run(name=name)
        post_log(name, b"x\n", timestamp=f"2026-12-06T{when}Z")

    def names(**params):
        found = logs.describe_log_streams(logGroupName="/logmetrics/gan", **params)
        return [s["logStreamName"] for s in found["logStreams"]], found.get("nextToken")

    first, token = names(limit=2)
    assert first == ["a/stdout", "b/stdout"]
    assert names(limit=2, nextToken=token) == (["c/stdout"], None)
    assert names(descending=True)[0] == ["c/stdout", "b/stdout", "a/stdout"]
    assert names(orderBy="LastEventTime")[0] == ["c/stdout", "a/stdout", "b/stdout"]
    assert names(orderBy="LastEventTime", descending=True)[0] == [
        "b/stdout",
        "a/stdout",
        "c/stdout",
    ]
    assert names(logStreamNamePrefix="b")[0] == ["b/stdout"]


def test_a_read_key_may_read_and_the_scope_must_name_logs(start_service, make_job):
    service = start_service(
        api_tokens="admin:secret-admin-token",
        aws_credentials="admin:AKIDADMIN:admin-secret,read:AKIDREAD:read-secret",
    )
    reader = logs_client(service.url, "AKIDREAD", "read-secret")
    assert [g["logGroupName"] for g in reader.describe_log_groups()["logGroups"]] == [
        "/aws/sagemaker/TrainingJobs"
    ]
    assert (
        reader.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs")["logStreams"] == []
    )
    assert reader.filter_log_events(logGroupName="/aws/sagemaker/TrainingJobs")["events"] == []
    assert (
        error_of(
            reader.get_log_events, logGroupName="/aws/sagemaker/TrainingJobs", logStreamName="x"
        )[0]
        == "ResourceNotFoundException"
    )
    forged = logs_client(service.url, "AKIDADMIN", "guessed")
    assert error_of(forged.describe_log_groups)[0] == "InvalidSignatureException"
    # A signature whose scope names SageMaker does not sign a CloudWatch Logs call.
    sagemaker = boto3.client(
        "sagemaker",
        endpoint_url=service.url,
        region_name="eu-west-1",
        aws_access_key_id="AKIDADMIN",
        aws_secret_access_key="admin-secret",
    )

    def as_logs(request, **_):
        request.headers.replace_header("X-Amz-Target", "Logs_20140328.DescribeLogGroups")

    sagemaker.meta.events.register_first("before-sign.sagemaker.*", as_logs)
    code, message = error_of(sagemaker.list_training_jobs)
    assert code == "IncompleteSignatureException"
    assert message == (
        "Credential scope is malformed: it must be ACCESS_KEY/DATE/REGION/logs/aws4_request"
    )
