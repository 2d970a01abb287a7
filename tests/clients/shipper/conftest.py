"""The restartable service fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.clients.shipper.service import RestartableService


@pytest.fixture
def restartable(database_url: str) -> Iterator[RestartableService]:
    service = RestartableService(database_url)
    service.start()
    yield service
    service.stop()
