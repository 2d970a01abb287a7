"""The service as a real process, which a test can kill and start again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.clients.service_process import ServiceProcess


@pytest.fixture
def service_process(service_database_url: str, tmp_path: Path) -> Iterator[ServiceProcess]:
    """The service on each backend in turn (SQLite, then PostgreSQL)."""
    service = ServiceProcess(service_database_url, tmp_path / "service.log")
    service.start()
    yield service
    service.stop()
