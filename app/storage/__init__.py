"""Where jobs, runs, points and raw logs are kept."""

from app.storage.base import Storage
from app.storage.records import (
    ChunkWrite,
    JobSpec,
    LeasePlan,
    PlannedRun,
    RunPage,
    RunQuery,
    RunSnapshot,
    StreamSnapshot,
)
from app.storage.sql import SqlStorage

__all__ = [
    "ChunkWrite",
    "JobSpec",
    "LeasePlan",
    "PlannedRun",
    "RunPage",
    "RunQuery",
    "RunSnapshot",
    "SqlStorage",
    "Storage",
    "StreamSnapshot",
    "create_storage",
]


def create_storage(
    url: str,
    *,
    rejections_kept: int = 5,
    sqlite_synchronous: str = "FULL",
    auto_upgrade: bool = True,
) -> Storage:
    """The backend for a database URL (every SQLAlchemy URL goes to `SqlStorage`)."""
    return SqlStorage(
        url,
        rejections_kept=rejections_kept,
        sqlite_synchronous=sqlite_synchronous,
        auto_upgrade=auto_upgrade,
    )
