"""A service whose webhooks may reach loopback (where the test's receiver listens), with
short time-outs and back-offs, and receivers the tests script."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from tests.service import Service
from tests.webhooks.receiver import Receiver, running_receiver

SETTINGS = {
    "webhook_allow_loopback": True,
    "webhook_backoff_seconds": 0.05,
    "webhook_timeout_seconds": 0.5,
    "webhook_max_attempts": 4,
    "public_url": "https://metrics.example.com",
}


@pytest.fixture
def service(start_service: Callable[..., Service]) -> Service:
    return start_service(**SETTINGS)


@pytest.fixture
def receiver_of() -> Iterator[Callable[..., Receiver]]:
    """Start receivers: `receiver_of(statuses=[500, 500])`, `receiver_of(hang=2)`."""
    with ExitStack() as stack:

        def start(**options: Any) -> Receiver:
            return stack.enter_context(running_receiver(**options))

        yield start
