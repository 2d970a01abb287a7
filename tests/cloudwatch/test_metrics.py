"""boto3's `cloudwatch` client (AWS JSON 1.0) against a live service: every run's stored
points read as CloudWatch metrics, each answer checked against botocore's own output
shapes. A job made through /v1 is the namespace `/logmetrics/<job>`, its runs the
dimension `RunName`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.aws import checked_client
from tests.cloudwatch.points import DEFINITIONS, NAMESPACE, R1, T0, cloudwatch_client, error_of


@pytest.fixture
def cloudwatch(service):
    return cloudwatch_client(service.url)


def statistics(cloudwatch, **asked):
    request = {
        "Namespace": NAMESPACE,
        "MetricName": "loss",
        "Dimensions": R1,
        "StartTime": T0,
        "EndTime": T0 + timedelta(minutes=10),
        "Period": 60,
        **asked,
    }
    return cloudwatch.get_metric_statistics(**request)


def test_get_metric_statistics_buckets_a_runs_points_by_period(cloudwatch, gan):
    answer = statistics(
        cloudwatch, Statistics=["Average", "Sum", "Minimum", "Maximum", "SampleCount"]
    )
    assert answer["Label"] == "loss"
    assert answer["Datapoints"] == [
        {
            "Timestamp": T0 + timedelta(seconds=offset),
            "Average": average,
            "Sum": total,
            "Minimum": low,
            "Maximum": high,
            "SampleCount": count,
            "Unit": "None",
        }
        for offset, average, total, low, high, count in (
            (0, 3.0, 6.0, 2.0, 4.0, 2.0),
            (60, 3.0, 3.0, 3.0, 3.0, 1.0),
            (120, 8.0, 8.0, 8.0, 8.0, 1.0),
        )
    ]
    # A longer period holds them all; the range's end is left out.
    (whole,) = statistics(cloudwatch, Period=300, Statistics=["SampleCount", "Maximum"])[
        "Datapoints"
    ]
    assert (whole["SampleCount"], whole["Maximum"]) == (4.0, 8.0)
    short = statistics(cloudwatch, EndTime=T0 + timedelta(seconds=70), Statistics=["Sum"])
    assert [d["Sum"] for d in short["Datapoints"]] == [6.0]
    # Buckets start on whole periods: a start inside a minute is rounded down.
    late = statistics(cloudwatch, StartTime=T0 + timedelta(seconds=30), Statistics=["Sum"])
    assert [(d["Timestamp"], d["Sum"]) for d in late["Datapoints"]] == [
        (T0, 6.0),
        (T0 + timedelta(seconds=60), 3.0),
        (T0 + timedelta(seconds=120), 8.0),
    ]


def test_percentiles_are_nearest_rank(cloudwatch, gan):
    answer = statistics(cloudwatch, Period=300, ExtendedStatistics=["p0", "p25", "p50", "p99.9"])
    ((datapoint),) = answer["Datapoints"]
    # The samples 2, 3, 4, 8: p25 is the first, p50 the second, p99.9 the fourth.
    assert datapoint["ExtendedStatistics"] == {"p0": 2.0, "p25": 2.0, "p50": 3.0, "p99.9": 8.0}
    assert "Average" not in datapoint


def test_a_metric_is_its_exact_dimensions(cloudwatch, gan):
    def sums(**asked):
        return [d["Sum"] for d in statistics(cloudwatch, Statistics=["Sum"], **asked)["Datapoints"]]

    assert sums(Dimensions=[{"Name": "RunName", "Value": "r2"}]) == [100.0]
    assert sums(Dimensions=[]) == []
    assert sums(Dimensions=[*R1, {"Name": "Host", "Value": "algo-1"}]) == []
    assert sums(Namespace="/logmetrics/other") == []
    assert sums(MetricName="acc") == [0.5]
    # Points carry no unit: asking for another unit finds none.
    assert sums(Unit="None") == [6.0, 3.0, 8.0]
    assert sums(Unit="Seconds") == []


def test_get_metric_statistics_refuses_what_cloudwatch_refuses(cloudwatch, gan):
    def refused(**asked):
        request = {"Statistics": ["Average"], **asked}
        request = {k: v for k, v in request.items() if v is not None}
        return error_of(statistics, cloudwatch=cloudwatch, **request)

    assert refused(Statistics=None) == (
        "InvalidParameterCombination",
        "Must specify either Statistics or ExtendedStatistics.",
    )
    assert refused(ExtendedStatistics=["p50"])[0] == "InvalidParameterCombination"
    assert refused(Statistics=None, ExtendedStatistics=["tm99"])[0] == "InvalidParameterValue"
    assert refused(Period=45) == (
        "InvalidParameterValue",
        "The parameter Period must be 1, 5, 10, 30 or a multiple of 60; got 45.",
    )
    assert refused(Period=1, EndTime=T0 + timedelta(hours=1)) == (
        "InvalidParameterCombination",
        "You have requested up to 3600 datapoints, which exceeds the limit of 1440. You may "
        "reduce the datapoints requested by increasing Period, or decreasing the time range.",
    )
    assert refused(EndTime=T0) == (
        "InvalidParameterValue",
        "The parameter StartTime must be less than the parameter EndTime.",
    )
    # What botocore does not check, the model does, in AWS's words.
    many = [{"Name": f"d{i}", "Value": "v"} for i in range(31)]
    code, message = refused(Dimensions=many)
    assert (code, message.split(" at ")[1]) == (
        "ValidationError",
        "'dimensions' failed to satisfy constraint: Member must have length less than or "
        "equal to 30",
    )


def test_get_metric_data_answers_metric_stats_and_pages(cloudwatch, gan):
    def loss(run):
        return {"Namespace": NAMESPACE, "MetricName": "loss", "Dimensions": [run]}

    queries = [
        {"Id": "mean", "MetricStat": {"Metric": loss(R1[0]), "Period": 60, "Stat": "Average"}},
        {
            "Id": "top",
            "MetricStat": {"Metric": loss(R1[0]), "Period": 300, "Stat": "p100"},
            "Label": "worst",
        },
        {
            "Id": "other",
            "MetricStat": {
                "Metric": loss({"Name": "RunName", "Value": "r2"}),
                "Period": 60,
                "Stat": "Sum",
            },
            "ReturnData": False,
        },
    ]
    window = {"StartTime": T0, "EndTime": T0 + timedelta(minutes=10)}
    answer = cloudwatch.get_metric_data(MetricDataQueries=queries, **window)
    minutes = [T0 + timedelta(seconds=s) for s in (120, 60, 0)]
    assert [
        (r["Id"], r["Label"], r["Timestamps"], r["Values"], r["StatusCode"])
        for r in answer["MetricDataResults"]
    ] == [
        ("mean", "loss", minutes, [8.0, 3.0, 3.0], "Complete"),
        ("top", "worst", [T0], [8.0], "Complete"),
    ]
    assert "NextToken" not in answer
    ascending = cloudwatch.get_metric_data(
        MetricDataQueries=queries[:1], ScanBy="TimestampAscending", **window
    )
    assert ascending["MetricDataResults"][0]["Values"] == [3.0, 3.0, 8.0]

    # Two datapoints a page, every one once.
    pages, following = [], {}
    while True:
        page = cloudwatch.get_metric_data(
            MetricDataQueries=queries, MaxDatapoints=2, **window, **following
        )
        pages.append([(r["Id"], r["Values"], r["StatusCode"]) for r in page["MetricDataResults"]])
        if "NextToken" not in page:
            break
        following = {"NextToken": page["NextToken"]}
    assert pages == [
        [("mean", [8.0, 3.0], "PartialData"), ("top", [], "PartialData")],
        [("mean", [3.0], "Complete"), ("top", [8.0], "Complete")],
    ]


def test_get_metric_data_refuses_expressions_and_forged_tokens(cloudwatch, gan):
    window = {"StartTime": T0, "EndTime": T0 + timedelta(minutes=10)}
    assert error_of(
        cloudwatch.get_metric_data,
        MetricDataQueries=[{"Id": "twice", "Expression": "2 * m1"}],
        **window,
    ) == (
        "InvalidParameterValue",
        "The query 'twice' has an Expression: logmetrics does not evaluate metric math or "
        "Metrics Insights queries; ask with MetricStat.",
    )
    stat = {
        "Metric": {"Namespace": NAMESPACE, "MetricName": "loss", "Dimensions": R1},
        "Period": 60,
        "Stat": "Average",
    }
    assert error_of(
        cloudwatch.get_metric_data,
        MetricDataQueries=[{"Id": "m", "MetricStat": stat}],
        NextToken="forged",
        **window,
    ) == ("InvalidNextToken", "The specified NextToken is invalid.")
    assert (
        error_of(
            cloudwatch.get_metric_data,
            MetricDataQueries=[{"Id": "Upper", "MetricStat": stat}],
            **window,
        )[0]
        == "InvalidParameterValue"
    )
    assert (
        error_of(
            cloudwatch.get_metric_data,
            MetricDataQueries=[{"Id": "m", "MetricStat": {**stat, "Stat": "TM(10%:90%)"}}],
            **window,
        )[0]
        == "InvalidParameterValue"
    )


def test_list_metrics_lists_each_runs_metrics_with_points(cloudwatch, gan, make_job, make_run):
    make_job(name="quiet", metric="loss", definitions=DEFINITIONS)
    make_run(job="quiet", name="silent")  # no points: no metric
    metrics = cloudwatch.list_metrics()["Metrics"]
    assert metrics == [
        {"Namespace": NAMESPACE, "MetricName": "acc", "Dimensions": R1},
        {"Namespace": NAMESPACE, "MetricName": "loss", "Dimensions": R1},
        {
            "Namespace": NAMESPACE,
            "MetricName": "loss",
            "Dimensions": [{"Name": "RunName", "Value": "r2"}],
        },
    ]
    assert cloudwatch.list_metrics(MetricName="acc")["Metrics"] == metrics[:1]
    assert cloudwatch.list_metrics(Namespace="/logmetrics/quiet")["Metrics"] == []
    assert cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"] == metrics
    assert (
        cloudwatch.list_metrics(Dimensions=[{"Name": "RunName", "Value": "r2"}])["Metrics"]
        == metrics[2:]
    )
    assert cloudwatch.list_metrics(Dimensions=[{"Name": "RunName"}])["Metrics"] == metrics
    assert cloudwatch.list_metrics(Dimensions=[{"Name": "Host"}])["Metrics"] == []
    # Its points are from 2026-12-06, not the last three hours.
    assert cloudwatch.list_metrics(RecentlyActive="PT3H")["Metrics"] == []
    assert error_of(cloudwatch.list_metrics, NextToken="forged")[0] == "InvalidParameterValue"
    # A token longer than any this service writes is not even decoded.
    assert error_of(cloudwatch.list_metrics, NextToken="W" * 20_000) == (
        "InvalidParameterValue",
        "The specified NextToken is invalid.",
    )


def test_a_read_key_may_read_and_the_scope_must_name_monitoring(start_service):
    service = start_service(
        api_tokens="admin:secret-admin-token",
        aws_credentials="admin:AKIDADMIN:admin-secret,read:AKIDREAD:read-secret",
    )
    reader = cloudwatch_client(service.url, "AKIDREAD", "read-secret")
    assert reader.list_metrics()["Metrics"] == []
    forged = cloudwatch_client(service.url, "AKIDADMIN", "guessed")
    assert error_of(forged.list_metrics)[0] == "InvalidSignatureException"
    logs = checked_client("logs", service.url, "AKIDADMIN", "admin-secret")
    # A CloudWatch Logs signature (scope `logs`) sent to CloudWatch's operation.
    logs.meta.events.register_first(
        "before-sign.cloudwatch-logs.DescribeLogGroups",
        lambda request, **_: request.headers.replace_header(
            "X-Amz-Target", "GraniteServiceVersion20100801.ListMetrics"
        ),
    )
    code, message = error_of(logs.describe_log_groups)
    assert code == "IncompleteSignatureException"
    assert "monitoring" in message


def test_list_metrics_pages_by_500_without_loss_or_repeat(cloudwatch, make_job, api):
    make_job(name="wide", metric="loss", definitions=DEFINITIONS)
    for index in range(251):  # 502 metrics: each run's loss and acc
        run = f"r{index:03d}"
        assert api.post("/v1/jobs/wide/runs", json={"name": run}).status_code == 201
        posted = api.post(f"/v1/jobs/wide/runs/{run}/logs", content=b"loss=1; acc=2;\n")
        assert posted.status_code == 200
    first = cloudwatch.list_metrics(Namespace="/logmetrics/wide")
    assert len(first["Metrics"]) == 500
    second = cloudwatch.list_metrics(Namespace="/logmetrics/wide", NextToken=first["NextToken"])
    assert "NextToken" not in second
    names = [
        (m["MetricName"], m["Dimensions"][0]["Value"]) for m in first["Metrics"] + second["Metrics"]
    ]
    assert names == sorted(
        (metric, f"r{index:03d}") for metric in ("acc", "loss") for index in range(251)
    )
