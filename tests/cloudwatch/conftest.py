"""The job `gan` whose points the CloudWatch tests read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.cloudwatch.points import DEFINITIONS, at


@pytest.fixture
def gan(make_job: Callable[..., Any], make_run: Callable[..., Any], post_log: Any) -> None:
    """Job gan, run r1: loss 4 and 2 at T0 (one chunk), 3 at T0+70 s, 8 at T0+130 s (with
    acc 0.5, and a loss of nan left out); run r2: loss 100 at T0."""
    make_job(metric="loss", definitions=DEFINITIONS)
    make_run(name="r1")
    make_run(name="r2")
    for data, seconds in (
        (b"loss=4;\nloss=2;\n", 0),
        (b"loss=3;\n", 70),
        (b"loss=8; acc=0.5;\nloss=nan;\n", 130),
    ):
        assert post_log("r1", data, timestamp=at(seconds)).status_code == 200
    assert post_log("r2", b"loss=100;\n", timestamp=at(0)).status_code == 200
