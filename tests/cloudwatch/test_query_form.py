"""A query protocol form read into the JSON input of its operation (app.aws.query), by
CloudWatch's model: literal forms, their JSON."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from app.aws.query import QueryError, form_input
from app.cloudwatch.model import load_model

MODEL = load_model()


def read(operation: str, form: str) -> dict:
    pairs = parse_qsl(f"Action={operation}&Version=2010-08-01&{form}", keep_blank_values=True)
    return form_input(MODEL, MODEL.input_shape(operation), pairs)


def test_members_lists_and_structures_read_by_their_paths():
    assert read(
        "GetMetricStatistics",
        "Namespace=%2Flogmetrics%2Fgan&MetricName=loss&Period=60"
        "&StartTime=2026-12-06T00%3A00%3A00Z&EndTime=2026-12-06T01%3A00%3A00.500Z"
        "&Statistics.member.2=Sum&Statistics.member.1=Average"
        "&Dimensions.member.1.Name=RunName&Dimensions.member.1.Value=r1&Unknown=ignored",
    ) == {
        "Namespace": "/logmetrics/gan",
        "MetricName": "loss",
        "Period": 60,
        "StartTime": 1796515200.0,
        "EndTime": 1796518800.5,
        "Statistics": ["Average", "Sum"],
        "Dimensions": [{"Name": "RunName", "Value": "r1"}],
    }


def test_nested_lists_booleans_and_integers():
    assert read(
        "GetMetricData",
        "StartTime=1796515200&EndTime=2026-12-06T01%3A00%3A00%2B01%3A00&MaxDatapoints=10"
        "&MetricDataQueries.member.1.Id=m&MetricDataQueries.member.1.ReturnData=false"
        "&MetricDataQueries.member.1.MetricStat.Period=300"
        "&MetricDataQueries.member.1.MetricStat.Stat=p90"
        "&MetricDataQueries.member.1.MetricStat.Metric.MetricName=loss"
        "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name=RunName",
    ) == {
        "StartTime": 1796515200.0,
        "EndTime": 1796515200.0,  # 01:00 at +01:00 is midnight UTC
        "MaxDatapoints": 10,
        "MetricDataQueries": [
            {
                "Id": "m",
                "ReturnData": False,
                "MetricStat": {
                    "Period": 300,
                    "Stat": "p90",
                    "Metric": {"MetricName": "loss", "Dimensions": [{"Name": "RunName"}]},
                },
            }
        ],
    }


def test_text_not_of_its_type_is_kept_for_the_model_to_refuse():
    assert read(
        "GetMetricStatistics",
        "Period=soon&StartTime=yesterday&EndTime=nan&Statistics=&Dimensions=x&MetricName.a=b",
    ) == {
        "Period": "soon",
        "StartTime": "yesterday",
        "EndTime": "nan",
        "Statistics": [],  # botocore's form of an empty list
        "Dimensions": "x",
        "MetricName": {},
    }
    assert read("ListMetrics", "RecentlyActive=PT3H&IncludeLinkedAccounts=yes") == {
        "RecentlyActive": "PT3H",
        "IncludeLinkedAccounts": "yes",
    }


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ("MetricName=a&MetricName=b", "The parameter 'MetricName' is given more than once."),
        ("Dimensions.member.0.Name=a", "A list's members are numbered from 1; got '0'."),
        ("Dimensions.member.first.Name=a", "A list's members are numbered from 1; got 'first'."),
        (
            "Dimensions.member.1234567890.Name=a",
            "A list's members are numbered from 1; got '1234567890'.",
        ),
        ("a" + ".a" * 32 + "=1", "nests deeper than any member"),
    ],
)
def test_forms_no_sdk_sends_are_refused(form, message):
    with pytest.raises(QueryError, match=message.replace(".", r"\.").replace("'", "'")):
        read("ListMetrics", form)
