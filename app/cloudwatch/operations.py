"""The CloudWatch operations `POST /` serves (reading metrics only), by name (`handlers`).

Each takes the request's JSON (already checked against botocore's model; a query
protocol form arrives read into the same JSON) and region, and returns the output shape's
JSON, times as seconds since the epoch. Which metrics exist is `metrics`' rule, their
statistics `statistics`'; refusals are CloudWatch's own (`errors`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from app.aws.face import Handler
from app.cloudwatch.errors import invalid_combination, invalid_next_token, invalid_value
from app.cloudwatch.metrics import Dimensions, Metric, Metrics, Sample
from app.cloudwatch.statistics import STATISTICS, buckets, is_statistic, statistic
from app.storage import Storage

__all__ = ["CloudWatchOperations"]

# GetMetricStatistics answers at most 1,440 datapoints; GetMetricData's page is 100,800
# unless MaxDatapoints says fewer; ListMetrics' page is 500 metrics.
_MOST_DATAPOINTS = 1440
# A token holds a metric's namespace, name and (at most 30) dimensions, each at most a few
# hundred characters: a few kilobytes in base64.
_MAX_TOKEN = 16_384
_DATA_PAGE = 100_800
_METRICS_PAGE = 500
_MOST_QUERIES = 500
# CloudWatch's periods: 1, 5, 10 and 30 s (high resolution), or any multiple of 60.
_SHORT_PERIODS = (1, 5, 10, 30)
# Times an answer can hold: from the epoch to the end of year 9999.
_LATEST = 253_402_300_799
_QUERY_ID = re.compile(r"[a-z][a-zA-Z0-9_]*")
_RECENTLY = timedelta(hours=3)  # RecentlyActive's only value, PT3H
_UNIT = "None"  # points carry no unit


class CloudWatchOperations:
    """Every CloudWatch operation served, by name (`handlers`), over one storage."""

    def __init__(self, storage: Storage, account: str) -> None:
        self._metrics = Metrics(storage)
        self._account = account
        self.handlers: dict[str, Handler] = {
            "GetMetricStatistics": self.get_metric_statistics,
            "GetMetricData": self.get_metric_data,
            "ListMetrics": self.list_metrics,
        }

    def get_metric_statistics(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        start, end = _time_range(body)
        period = _period(body["Period"], "Period")
        asked = list(body.get("Statistics", ()))
        extended = list(body.get("ExtendedStatistics", ()))
        if not asked and not extended:
            raise invalid_combination("Must specify either Statistics or ExtendedStatistics.")
        if asked and extended:
            raise invalid_combination(
                "Statistics and ExtendedStatistics cannot both be given; ask in two calls."
            )
        for name in extended:
            if name in STATISTICS or not is_statistic(name):
                raise invalid_value(
                    f"The extended statistic {name[:50]!r} is not one logmetrics serves: "
                    "a percentile p0 to p100, up to two decimals (p99.9)."
                )
        start = math.floor(start / period) * period  # as CloudWatch rounds it
        requested = math.ceil((end - start) / period)
        if requested > _MOST_DATAPOINTS:
            raise invalid_combination(
                f"You have requested up to {requested} datapoints, which exceeds the limit of "
                f"{_MOST_DATAPOINTS}. You may reduce the datapoints requested by increasing "
                "Period, or decreasing the time range."
            )
        samples = self._samples(
            body["Namespace"], body["MetricName"], body.get("Dimensions", ()), body, start, end
        )
        datapoints = []
        for bucket in buckets(samples, period):
            datapoint: dict[str, Any] = {"Timestamp": bucket.start, "Unit": _UNIT}
            datapoint.update({name: statistic(name, bucket.values) for name in asked})
            if extended:
                datapoint["ExtendedStatistics"] = {
                    name: statistic(name, bucket.values) for name in extended
                }
            datapoints.append(datapoint)
        return {"Label": body["MetricName"], "Datapoints": datapoints}

    def get_metric_data(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        start, end = _time_range(body)
        queries = body["MetricDataQueries"]
        if len(queries) > _MOST_QUERIES:
            raise invalid_value(f"MetricDataQueries may hold at most {_MOST_QUERIES} queries.")
        ids = [query["Id"] for query in queries]
        for query_id in ids:
            if not _QUERY_ID.fullmatch(query_id):
                raise invalid_value(
                    f"The Id {query_id[:50]!r} must start with a lowercase letter and hold "
                    "only letters, digits and underscores."
                )
        if len(set(ids)) != len(ids):
            raise invalid_value("The Ids of MetricDataQueries must be unique.")
        descending = body.get("ScanBy", "TimestampDescending") == "TimestampDescending"
        answered: list[tuple[dict[str, Any], list[tuple[float, float]]]] = []
        for query in queries:
            if "Expression" in query:
                raise invalid_value(
                    f"The query {query['Id']!r} has an Expression: logmetrics does not "
                    "evaluate metric math or Metrics Insights queries; ask with MetricStat."
                )
            if "MetricStat" not in query:
                raise invalid_value(f"The query {query['Id']!r} must have a MetricStat.")
            values = self._stat_values(query["MetricStat"], body, start, end, descending)
            if query.get("ReturnData", True):
                answered.append((query, values))
        every = [(index, pair) for index, (_q, values) in enumerate(answered) for pair in values]
        most = body.get("MaxDatapoints", _DATA_PAGE)
        if most < 1:
            raise invalid_value("The parameter MaxDatapoints must be at least 1.")
        offset = _data_offset(body, len(every))
        page = every[offset : offset + most]
        left = {index for index, _pair in every[offset + most :]}
        results = []
        for index, (query, _values) in enumerate(answered):
            chosen = [pair for at, pair in page if at == index]
            results.append(
                {
                    "Id": query["Id"],
                    "Label": query.get("Label", query["MetricStat"]["Metric"]["MetricName"]),
                    "Timestamps": [time for time, _value in chosen],
                    "Values": [value for _time, value in chosen],
                    "StatusCode": "PartialData" if index in left else "Complete",
                    "Messages": [],
                }
            )
        answer: dict[str, Any] = {"MetricDataResults": results, "Messages": []}
        if left:
            answer["NextToken"] = _data_token(body, offset + most)
        return answer

    def list_metrics(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        namespace = body.get("Namespace")
        name = body.get("MetricName")
        filters = [(f["Name"], f.get("Value")) for f in body.get("Dimensions", ())]
        recent_since = datetime.now(UTC) - _RECENTLY if "RecentlyActive" in body else None
        if body.get("OwningAccount", self._account) != self._account:
            return {"Metrics": []}  # no linked accounts: another's has no metrics here
        found: dict[tuple[str, str, Dimensions], None] = {}
        for metric in self._metrics.listed(namespace):
            if name is not None and metric.name != name:
                continue
            if not all(_has_dimension(metric, *wanted) for wanted in filters):
                continue
            if recent_since is not None and (
                metric.last_at is None or metric.last_at < recent_since
            ):
                continue
            found[(metric.namespace, metric.name, metric.dimensions)] = None
        keys = sorted(found)
        if "NextToken" in body:
            after = _metrics_position(body["NextToken"])
            keys = [key for key in keys if key > after]
        chosen = keys[:_METRICS_PAGE]
        answer: dict[str, Any] = {
            "Metrics": [
                {
                    "Namespace": space,
                    "MetricName": metric_name,
                    "Dimensions": [{"Name": n, "Value": v} for n, v in dimensions],
                }
                for space, metric_name, dimensions in chosen
            ]
        }
        if body.get("IncludeLinkedAccounts", False):
            answer["OwningAccounts"] = [self._account] * len(chosen)
        if len(keys) > _METRICS_PAGE:
            answer["NextToken"] = _encode(list(chosen[-1]))
        return answer

    def _stat_values(
        self,
        stat: dict[str, Any],
        body: dict[str, Any],
        start: float,
        end: float,
        descending: bool,
    ) -> list[tuple[float, float]]:
        """A MetricStat's (bucket start, statistic) pairs, in ScanBy's order."""
        metric = stat["Metric"]
        if "Namespace" not in metric or "MetricName" not in metric:
            raise invalid_value("A MetricStat's Metric must have a Namespace and a MetricName.")
        period = _period(stat["Period"], "MetricStat.Period")
        if not is_statistic(stat["Stat"]):
            raise invalid_value(
                f"The Stat {stat['Stat'][:50]!r} is not one logmetrics serves: "
                f"{', '.join(STATISTICS)} or a percentile p0 to p100."
            )
        start = math.floor(start / period) * period
        samples = self._samples(
            metric["Namespace"],
            metric["MetricName"],
            metric.get("Dimensions", ()),
            stat,
            start,
            end,
        )
        found = [
            (bucket.start, statistic(stat["Stat"], bucket.values))
            for bucket in buckets(samples, period)
        ]
        return found[::-1] if descending else found

    def _samples(
        self,
        namespace: str,
        name: str,
        dimensions: Sequence[dict[str, str]],
        asking: dict[str, Any],
        start: float,
        end: float,
    ) -> list[Sample]:
        """The samples of the metric named exactly so, from `start` up to `end`; none
        where `asking` names a Unit other than None (points carry no unit)."""
        if asking.get("Unit", _UNIT) != _UNIT:
            return []
        key = tuple(sorted((d["Name"], d["Value"]) for d in dimensions))
        return sorted(
            (
                sample
                for metric in self._metrics.matching(namespace, name, key)
                for sample in self._metrics.samples(metric, start, end)
            ),
            key=lambda sample: sample.time,
        )


def _time_range(body: dict[str, Any]) -> tuple[float, float]:
    """StartTime and EndTime, in seconds since the epoch. Raises: CloudWatchError."""
    start, end = body["StartTime"], body["EndTime"]
    for name, value in (("StartTime", start), ("EndTime", end)):
        if not 0 <= value <= _LATEST:  # nan and the infinities too
            raise invalid_value(f"The parameter {name} must be a time from 1970 to 9999.")
    if start >= end:
        raise invalid_value("The parameter StartTime must be less than the parameter EndTime.")
    return float(start), float(end)


def _period(period: int, name: str) -> int:
    if period > _LATEST:
        # One period longer than every time an answer can hold: one bucket would do.
        raise invalid_value(f"The parameter {name} must be at most {_LATEST} seconds.")
    if period not in _SHORT_PERIODS and period % 60 != 0:
        raise invalid_value(
            f"The parameter {name} must be 1, 5, 10, 30 or a multiple of 60; got {period}."
        )
    return period


def _has_dimension(metric: Metric, name: str, value: str | None) -> bool:
    return any(n == name and (value is None or v == value) for n, v in metric.dimensions)


def _request_digest(body: dict[str, Any]) -> str:
    """What a GetMetricData token is bound to: the request, less its paging members."""
    asked = {k: v for k, v in body.items() if k not in ("NextToken", "MaxDatapoints")}
    return hashlib.sha256(json.dumps(asked, sort_keys=True).encode()).hexdigest()[:32]


def _data_token(body: dict[str, Any], offset: int) -> str:
    return _encode([offset, _request_digest(body)])


def _data_offset(body: dict[str, Any], total: int) -> int:
    """Where a GetMetricData page starts: 0, or its NextToken's place, if it is one this
    request was given. Raises: CloudWatchError (InvalidNextToken)."""
    if "NextToken" not in body:
        return 0
    decoded = _decode(body["NextToken"])
    if (
        not isinstance(decoded, list)
        or len(decoded) != 2
        or type(decoded[0]) is not int
        or not 0 < decoded[0] <= total
        or decoded[1] != _request_digest(body)
    ):
        raise invalid_next_token()
    return decoded[0]


def _metrics_position(token: str) -> tuple[str, str, Dimensions]:
    """The last metric a ListMetrics page held. Raises: CloudWatchError."""
    decoded = _decode(token)
    try:
        space, name, dimensions = decoded
        key = (space, name, tuple((n, v) for n, v in dimensions))
    except (TypeError, ValueError):
        raise invalid_value("The specified NextToken is invalid.") from None
    parts = (space, name, *(part for pair in key[2] for part in pair))
    if not all(isinstance(part, str) for part in parts):
        raise invalid_value("The specified NextToken is invalid.")
    return key


def _encode(value: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def _decode(token: str) -> Any:
    """A token this service wrote, or None: one longer than any it writes is not read."""
    if len(token) > _MAX_TOKEN:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error, UnicodeError, RecursionError):
        return None
