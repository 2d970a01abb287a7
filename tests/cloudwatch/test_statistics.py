"""CloudWatch's statistics and period buckets, from literal samples (app.cloudwatch.statistics)."""

from __future__ import annotations

import sys

import pytest

from app.cloudwatch.metrics import Sample
from app.cloudwatch.statistics import Bucket, buckets, is_statistic, statistic


def test_buckets_start_on_whole_periods_and_empty_ones_are_left_out():
    samples = [Sample(59.9, 1.0), Sample(0.0, 3.0), Sample(60.0, 2.0), Sample(185.0, 5.0)]
    assert buckets(samples, 60) == [
        Bucket(0.0, (1.0, 3.0)),
        Bucket(60.0, (2.0,)),
        Bucket(180.0, (5.0,)),
    ]
    assert buckets(samples, 300) == [Bucket(0.0, (1.0, 2.0, 3.0, 5.0))]
    assert buckets([], 60) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("SampleCount", 4.0),
        ("Sum", 10.0),
        ("Average", 2.5),
        ("Minimum", 1.0),
        ("Maximum", 4.0),
        ("p0", 1.0),
        ("p25", 1.0),
        ("p25.01", 2.0),
        ("p50", 2.0),
        ("p75", 3.0),
        ("p99.99", 4.0),
        ("p100", 4.0),
    ],
)
def test_each_statistic_of_1_2_3_4(name, expected):
    assert statistic(name, (1.0, 2.0, 3.0, 4.0)) == expected


def test_percentile_ranks_are_exact_not_floating():
    values = tuple(float(v) for v in range(1, 101))
    # 0.29 * 100 is 29.000000000000004 in floats, which would be rank 30.
    assert statistic("p29", values) == 29.0
    assert statistic("p29.5", values) == 30.0


def test_sums_and_averages_beyond_a_double_saturate():
    huge = (sys.float_info.max, sys.float_info.max)
    assert statistic("Sum", huge) == sys.float_info.max
    assert statistic("Average", huge) == sys.float_info.max
    assert statistic("Sum", (-sys.float_info.max, -sys.float_info.max)) == -sys.float_info.max


@pytest.mark.parametrize(
    ("name", "served"),
    [
        ("Average", True),
        ("p0", True),
        ("p9.5", True),
        ("p99.99", True),
        ("p100.00", True),
        ("p100.1", False),
        ("p101", False),
        ("p99.999", False),
        ("p", False),
        ("P50", False),
        ("tm99", False),
        ("average", False),
    ],
)
def test_which_statistics_are_served(name, served):
    assert is_statistic(name) is served
