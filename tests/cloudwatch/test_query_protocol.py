"""CloudWatch's query protocol, as older SDKs send it: a form (`Action=GetMetricStatistics&
Version=2010-08-01&...`) made by botocore's own QuerySerializer, signed by botocore's
SigV4Auth for `monitoring`, sent over HTTP, and the XML answer read by botocore's own
QueryParser; each must read as boto3's JSON 1.0 answer to the same call does."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl

import botocore.session
import httpx
import pytest
from botocore import xform_name
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.parsers import QueryParser
from botocore.serialize import QuerySerializer

from tests.cloudwatch.points import NAMESPACE, R1, T0, cloudwatch_client

MODEL = botocore.session.get_session().get_service_model("cloudwatch")
KEY, SECRET = "AKIDQUERY", "query-secret"


def send(url: str, operation: str, params: dict, key: str = KEY, secret: str = SECRET):
    """The call as the query protocol makes it: (HTTP status, botocore's parse of the
    answer, the form sent)."""
    model = MODEL.operation_model(operation)
    serialized = QuerySerializer().serialize_to_request(params, model)
    request = AWSRequest(
        method="POST", url=url + "/", data=serialized["body"], headers=serialized["headers"]
    )
    SigV4Auth(Credentials(key, secret), "monitoring", "eu-west-1").add_auth(request)
    answer = httpx.post(url + "/", content=request.body, headers=dict(request.headers))
    parsed = QueryParser().parse(
        {"status_code": answer.status_code, "headers": answer.headers, "body": answer.content},
        model.output_shape,
    )
    return answer.status_code, parsed, dict(parse_qsl(request.body.decode()))


def without_metadata(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


REQUEST = {
    "Namespace": NAMESPACE,
    "MetricName": "loss",
    "Dimensions": R1,
    "StartTime": T0,
    "EndTime": T0 + timedelta(minutes=10),
    "Period": 60,
}


def test_get_metric_statistics_as_a_form_reads_as_boto3s_json(service, gan):
    asked = {**REQUEST, "Statistics": ["Average", "SampleCount", "Maximum"]}
    status, parsed, form = send(service.url, "GetMetricStatistics", asked)
    # What older SDKs send: the operation, the API version, members by path, times ISO 8601.
    assert {k: form[k] for k in ("Action", "Version", "Dimensions.member.1.Name")} == {
        "Action": "GetMetricStatistics",
        "Version": "2010-08-01",
        "Dimensions.member.1.Name": "RunName",
    }
    assert form["StartTime"] == "2026-12-06T00:00:00Z"
    assert form["Statistics.member.2"] == "SampleCount"
    assert status == 200
    json_answer = cloudwatch_client(service.url).get_metric_statistics(**asked)
    assert without_metadata(parsed) == without_metadata(json_answer)
    assert [(d["Timestamp"], d["Average"], d["SampleCount"]) for d in parsed["Datapoints"]] == [
        (T0, 3.0, 2.0),
        (T0 + timedelta(seconds=60), 3.0, 1.0),
        (T0 + timedelta(seconds=120), 8.0, 1.0),
    ]
    assert parsed["ResponseMetadata"]["RequestId"]


def test_extended_statistics_list_metrics_and_get_metric_data_as_forms(service, gan):
    client = cloudwatch_client(service.url)
    calls = [
        ("GetMetricStatistics", {**REQUEST, "Period": 300, "ExtendedStatistics": ["p50", "p100"]}),
        ("ListMetrics", {"Namespace": NAMESPACE}),
        ("ListMetrics", {"Dimensions": [{"Name": "RunName", "Value": "r2"}]}),
        (
            "GetMetricData",
            {
                "StartTime": T0,
                "EndTime": T0 + timedelta(minutes=10),
                "ScanBy": "TimestampAscending",
                "MetricDataQueries": [
                    {
                        "Id": "m",
                        "MetricStat": {
                            "Metric": {
                                "Namespace": NAMESPACE,
                                "MetricName": "loss",
                                "Dimensions": R1,
                            },
                            "Period": 60,
                            "Stat": "Minimum",
                        },
                    }
                ],
            },
        ),
    ]
    for operation, params in calls:
        status, parsed, _form = send(service.url, operation, params)
        assert status == 200, parsed
        expected = getattr(client, xform_name(operation))(**params)  # the JSON 1.0 answer
        assert without_metadata(parsed) == without_metadata(expected), operation
    _, percentiles, _ = send(service.url, *calls[0])
    assert percentiles["Datapoints"][0]["ExtendedStatistics"] == {"p50": 3.0, "p100": 8.0}
    _, data, _ = send(service.url, *calls[3])
    assert data["MetricDataResults"][0]["Values"] == [2.0, 3.0, 8.0]


@pytest.mark.parametrize(
    ("form", "code", "message"),
    [
        pytest.param(
            "Action=GetMetricStatistics&Version=2010-08-01&Namespace=n&MetricName=m"
            "&StartTime=2026-12-06T00:00:00Z&EndTime=2026-12-06T01:00:00Z&Period=0"
            "&Statistics.member.1=Sum",
            "ValidationError",
            "1 validation error detected: Value '0' at 'period' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1",
            id="period-0",
        ),
        pytest.param(
            "Action=GetMetricStatistics&Version=2010-08-01&Namespace=n&MetricName=m"
            "&StartTime=yesterday&EndTime=2026-12-06T01:00:00Z&Period=soon"
            "&Statistics.member.1=Sum",
            "ValidationError",
            "2 validation errors detected: Value 'soon' at 'period' failed to satisfy "
            "constraint: Member must be of type integer; Value 'yesterday' at 'startTime' "
            "failed to satisfy constraint: Member must be of type timestamp",
            id="not-of-their-types",
        ),
        pytest.param(
            "Action=ListMetrics&Version=2010-08-01&Dimensions.member.x.Name=RunName",
            "MalformedQueryString",
            "A list's members are numbered from 1; got 'x'.",
            id="list-index",
        ),
        pytest.param(
            "Action=ListMetrics&Version=2010-08-01&MetricName=a&MetricName=b",
            "MalformedQueryString",
            "The parameter 'MetricName' is given more than once.",
            id="given-twice",
        ),
        pytest.param(
            "Action=PutMetricData&Version=2010-08-01",
            "InvalidAction",
            "logmetrics does not serve the action 'PutMetricData' (given once)",
            id="unserved-action",
        ),
        pytest.param(
            "Action=ListMetrics&Version=2011-01-01",
            "NoSuchVersion",
            "logmetrics serves no query API of Version '2011-01-01' (given once)",
            id="other-version",
        ),
        pytest.param(
            "Action=GetMetricData&Version=2010-08-01&StartTime=2026-12-06T00:00:00Z"
            "&EndTime=2026-12-06T01:00:00Z&MetricDataQueries.member.1.Id=e"
            "&MetricDataQueries.member.1.Expression=SUM(METRICS())",
            "InvalidParameterValue",
            "The query 'e' has an Expression: logmetrics does not evaluate metric math or "
            "Metrics Insights queries; ask with MetricStat.",
            id="expression",
        ),
    ],
)
def test_a_refused_form_is_answered_as_an_xml_error(start_service, form, code, message):
    service = start_service(aws_credentials=f"read:{KEY}:{SECRET}")
    request = AWSRequest(
        method="POST",
        url=service.url + "/",
        data=form.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials(KEY, SECRET), "monitoring", "eu-west-1").add_auth(request)
    answer = httpx.post(service.url + "/", content=request.body, headers=dict(request.headers))
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/xml")
    parsed = QueryParser().parse(
        {"status_code": 400, "headers": answer.headers, "body": answer.content}, None
    )
    assert (parsed["Error"]["Code"], parsed["Error"]["Message"]) == (code, message)


def test_a_form_must_be_signed_for_monitoring_by_a_known_key(start_service):
    service = start_service(aws_credentials=f"read:{KEY}:{SECRET}")
    status, parsed, _ = send(service.url, "ListMetrics", {})
    assert (status, parsed["Metrics"]) == (200, [])
    status, parsed, _ = send(service.url, "ListMetrics", {}, secret="guessed")
    assert (status, parsed["Error"]["Code"]) == (403, "InvalidSignatureException")
    # A form the signature does not cover: another Action in the body than the one signed.
    model = MODEL.operation_model("ListMetrics")
    serialized = QuerySerializer().serialize_to_request({}, model)
    request = AWSRequest(
        method="POST",
        url=service.url + "/",
        data=serialized["body"],
        headers=serialized["headers"],
    )
    SigV4Auth(Credentials(KEY, SECRET), "monitoring", "eu-west-1").add_auth(request)
    swapped = request.body.replace(b"ListMetrics", b"GetMetricData")
    answer = httpx.post(service.url + "/", content=swapped, headers=dict(request.headers))
    assert answer.status_code == 403
    assert b"<Code>InvalidSignatureException</Code>" in answer.content
