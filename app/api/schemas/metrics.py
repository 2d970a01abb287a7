"""Metrics: a run's points of one metric, a page at a time, and the thinned series of
every run of a job (`routes/metrics.py`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.records import RunStatus

__all__ = ["JobSeriesPublic", "RunSeriesPublic", "SeriesPointPublic", "SeriesPublic"]


class SeriesPointPublic(BaseModel):
    step: int = Field(description="The point's step.")
    value: float = Field(description="The value.")
    timestamp: datetime = Field(
        description="When its chunk was received, or the time the chunk's `timestamp` query "
        "parameter gave."
    )
    stream: str = Field(description="The stream of its line.")
    line: int = Field(description="Its 1-based line number in the stream.")
    offset: int = Field(description="The 0-based byte offset of the line's start in its stream.")


class SeriesPublic(BaseModel):
    metric_name: str = Field(description="The metric.")
    points: list[SeriesPointPublic] = Field(description="Points in arrival order.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last."
    )


class RunSeriesPublic(BaseModel):
    run: str = Field(description="The run's name.")
    status: RunStatus = Field(description="The run's status.")
    objective_value: float | None = Field(
        description="The run's objective value; null while it has none."
    )
    count: int = Field(description="The run's points of the metric, before thinning.")
    points: list[tuple[int, float]] = Field(description="(step, value) pairs.")


class JobSeriesPublic(BaseModel):
    metric_name: str = Field(description="The metric.")
    runs: list[RunSeriesPublic] = Field(
        description="Each run's points of the metric, thinned out, in order of creation."
    )
