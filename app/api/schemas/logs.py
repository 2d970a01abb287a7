"""Logs: what the service answers for a chunk of log bytes it appended (`routes/logs.py`;
the chunk itself is the raw request body, and a stream is read back as raw bytes)."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["ChunkPublic"]


# What became of a chunk the service appended to a stream.
class ChunkPublic(BaseModel):
    stream: str = Field(description="The stream the chunk was appended to.")
    next_offset: int = Field(description="The stream's length in bytes: where to send from next.")
    lines: int = Field(description="Lines this chunk completed.")
    points: int = Field(description="Points found in those lines.")
    stop_requested: str | None = Field(
        None,
        description="Present when the service asks the run to stop: why. The sender "
        "should end the command and complete the run.",
    )
