"""ParameterRanges as SageMaker sends them (strings) and as /v1 takes them: read by the
search's own rules, ASCII digits and finite widths."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.sagemaker.conftest import tuning_request
from tests.tuning.conftest import search_job_body


def ranges_request(**ranges):
    request = tuning_request()
    request["HyperParameterTuningJobConfig"]["ParameterRanges"] = ranges
    return request


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        (
            {"IntegerParameterRanges": [{"Name": "n", "MinValue": "\u0663", "MaxValue": "9"}]},
            "n: MinValue '\u0663' is not an integer: give ASCII digits with an optional sign",
        ),
        (
            {"IntegerParameterRanges": [{"Name": "n", "MinValue": "1", "MaxValue": "1_0"}]},
            "n: MaxValue '1_0' is not an integer: give ASCII digits with an optional sign",
        ),
        (
            {"IntegerParameterRanges": [{"Name": "n", "MinValue": " 3", "MaxValue": "9"}]},
            "n: MinValue ' 3' is not an integer: give ASCII digits with an optional sign",
        ),
        (
            {"ContinuousParameterRanges": [{"Name": "lr", "MinValue": "0", "MaxValue": "inf"}]},
            "lr: MaxValue 'inf' is not a number: give ASCII digits with an optional sign, "
            "decimal point and exponent",
        ),
        (
            {
                "ContinuousParameterRanges": [
                    {"Name": "lr", "MinValue": "-1e308", "MaxValue": "1e308"}
                ]
            },
            "parameter_ranges.ContinuousParameterRanges.0: Value error, lr: MaxValue - MinValue "
            "must be a finite number; -1e+308 to 1e+308 is wider than any float",
        ),
    ],
    ids=["arabic-indic", "underscore", "space", "inf", "wider-than-a-float"],
)
def test_sagemaker_refuses_a_range_the_search_cannot_read(sagemaker, ranges, message):
    with pytest.raises(ClientError) as refused:
        sagemaker.create_hyper_parameter_tuning_job(**ranges_request(**ranges))
    assert refused.value.response["Error"] == {"Code": "ValidationException", "Message": message}


@pytest.mark.parametrize(
    "ranges",
    [
        {"IntegerParameterRanges": [{"Name": "n", "MinValue": "1_0", "MaxValue": "20"}]},
        {"ContinuousParameterRanges": [{"Name": "lr", "MinValue": -1e308, "MaxValue": 1e308}]},
    ],
    ids=["underscore", "wider-than-a-float"],
)
def test_v1_refuses_the_same_ranges(api, ranges):
    answer = api.post("/v1/jobs", json=search_job_body(parameter_ranges=ranges))
    assert answer.status_code == 422, answer.text
