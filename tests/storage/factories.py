"""Literal records for the storage contract suite: chunk writes and what they lead to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from app.records import Job, MetricDefinition, Point, Rejection, Run, StreamState
from app.storage import ChunkWrite, Storage

__all__ = ["GAN_DEFINITIONS", "T0", "T1", "T2", "chunk", "whole_log"]

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
T1 = datetime(2024, 5, 1, 12, 0, 30, tzinfo=UTC)
T2 = datetime(2024, 5, 1, 12, 1, 0, tzinfo=UTC)

# The GAN example's definitions from SageMaker's documentation, as storage keeps them.
GAN_DEFINITIONS = (
    MetricDefinition("GAN_loss", "GAN_loss=(.*?);"),
    MetricDefinition("disc_train_loss", "disc_train_loss=(.*?);"),
    MetricDefinition("disc-combined", "disc-combined=(.*?);"),
    MetricDefinition("loss", "Loss = (.*?);"),
)


def chunk(
    data: bytes,
    state: StreamState,
    points: Sequence[Point] = (),
    *,
    stream: str = "stdout",
    expected_offset: int = 0,
    rejections: Sequence[Rejection] = (),
    rejected: Mapping[str, int] | None = None,
    timeouts: Mapping[str, int] | None = None,
    timestamp: datetime = T0,
) -> ChunkWrite:
    """A `ChunkWrite` as the ingest layer builds one; the parts a test omits are empty."""
    return ChunkWrite(
        stream=stream,
        expected_offset=expected_offset,
        state=state,
        data=data,
        points=points,
        rejections=rejections,
        rejected=rejected or {},
        timeouts=timeouts or {},
        timestamp=timestamp,
    )


def whole_log(backend: Storage, job: Job, run: Run, stream: str = "stdout") -> bytes:
    """A stream's raw bytes, read back whole."""
    return b"".join(backend.read_log(job, run.name, stream).pieces)
