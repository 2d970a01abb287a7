"""The user of tests/sdk: the README's folder with a bucket of its own, and a worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.s3 import S3Server
from tests.sdk.harness import User, user_folder
from tests.service import Service


@pytest.fixture
def user(service: Service, s3: S3Server, tmp_path: Path) -> Iterator[User]:
    """A user folder whose SDK config names a fresh bucket, beside a running worker."""
    with user_folder(service.url, s3, tmp_path / "user", bucket=s3.new_bucket("sdk")) as folder:
        yield folder
