"""The shipper's tests: a service that goes away and comes back, and the command they run."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from app.config import Settings
from tests.service import Service, running_service


@pytest.fixture
def restartable(database_url: str) -> Iterator[Service]:
    """A service that `stop()` and `start(**overrides)` take away and bring back at its URL."""
    settings = Settings(database_url=database_url, sqlite_synchronous="NORMAL")
    with running_service(settings) as service:
        yield service


def logmetrics(*args: str) -> list[str]:
    """The command line of `logmetrics ARGS`, with this interpreter."""
    return [sys.executable, "-m", "app", *args]
