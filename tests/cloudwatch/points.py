"""What the CloudWatch tests share: the job `gan`'s metric definitions and times, and a
checked boto3 `cloudwatch` client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws import checked_client

__all__ = ["DEFINITIONS", "NAMESPACE", "R1", "T0", "at", "cloudwatch_client", "error_of"]

DEFINITIONS = [
    {"Name": "loss", "Regex": r"loss=(\S+?);"},
    {"Name": "acc", "Regex": r"acc=(\S+?);"},
]
T0 = datetime(2026, 12, 6, tzinfo=UTC)
NAMESPACE = "/logmetrics/gan"
R1 = [{"Name": "RunName", "Value": "r1"}]


def cloudwatch_client(url: str, key: str = "any", secret: str = "any") -> Any:
    return checked_client("cloudwatch", url, key, secret)


def error_of(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def at(seconds: float) -> str:
    """T0 and `seconds`, as /v1's chunk timestamp."""
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")
