"""A job's search at a glance: its history, parallel coordinates and the importance of
its hyperparameters (`routes/analysis.py`, `app.analysis`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.objective import ObjectiveType

__all__ = [
    "DimensionPublic",
    "HistoryPublic",
    "HistoryRunPublic",
    "ImportancePublic",
    "ImportanceRowPublic",
    "ParallelCoordinatesPublic",
    "ParallelRunPublic",
]


class HistoryRunPublic(BaseModel):
    name: str = Field(description="The run.")
    index: int = Field(description="Its 1-based position in creation order.")
    status: str = Field(description="Its status (InProgress, Completed, Failed, Stopped).")
    created_at: datetime = Field(description="When it was created.")
    ended_at: datetime | None = Field(description="When it ended; null while it has not.")
    objective_value: float | None = Field(
        description="Its objective value where its status counts (Completed, Stopped), else null."
    )
    best_by_index: float | None = Field(
        description="The best counting value among runs 1 to index."
    )
    best_by_time: float | None = Field(
        description="The best counting value among runs ended at or before this one's "
        "end; null if it has not ended or none has a value yet."
    )
    new_best: bool = Field(
        description="Its value was strictly better than every run that ended before it."
    )


class HistoryPublic(BaseModel):
    metric_name: str = Field(description="The objective metric.")
    objective_type: ObjectiveType = Field(description="Maximize or Minimize.")
    runs: list[HistoryRunPublic] = Field(description="Every run, in creation order.")
    best_run: str | None = Field(description="The job's best run, as /best picks it.")


class DimensionPublic(BaseModel):
    key: str = Field(description='The axis: "hyperparameter:<name>" or "metric:<name>".')
    name: str = Field(description="The hyperparameter's or metric's name.")
    kind: Literal["hyperparameter", "metric"] = Field(description="What the axis shows.")
    scale: Literal["linear", "log", "categorical"] = Field(
        description="log for a Logarithmic or ReverseLogarithmic range; categorical for "
        "categorical ranges and non-numeric values."
    )
    categories: list[str] | None = Field(
        description="A categorical axis's values, in the range's order (else sorted)."
    )
    min: float | None = Field(description="The least numeric value shown (null if none).")
    max: float | None = Field(description="The greatest numeric value shown (null if none).")
    objective: bool = Field(description="The axis is the objective metric's.")


class ParallelRunPublic(BaseModel):
    name: str = Field(description="The run.")
    status: str = Field(description="Its status.")
    objective_value: float | None = Field(
        description="Its counting objective value (Completed, Stopped), for colouring."
    )
    values: list[float | str | None] = Field(
        description="One per dimension, in their order: a hyperparameter's value (text "
        "for a categorical axis), the objective's value (counting or not), another "
        "metric's last value; null where the run has none."
    )


class ParallelCoordinatesPublic(BaseModel):
    dimensions: list[DimensionPublic] = Field(description="The axes, the objective metric's last.")
    runs: list[ParallelRunPublic] = Field(
        description="Every run with a value on at least one axis, in creation order."
    )
    available: list[str] = Field(
        description="Every key a client may ask for: the tuned (or, without a search, "
        "differing) hyperparameters, then every metric with points."
    )


class ImportanceRowPublic(BaseModel):
    name: str = Field(description="The hyperparameter.")
    importance: float = Field(description="Its share of the importance (0 to 1).")


class ImportancePublic(BaseModel):
    metric_name: str = Field(description="The objective metric.")
    evaluator: Literal["fanova", "ped-anova"] = Field(description="How it was computed.")
    runs: int = Field(
        description="The finished runs it rests on (a counting value, every tuned "
        "hyperparameter's value present)."
    )
    minimum_runs: int = Field(description="Below this many runs the ranking comes with a warning.")
    warning: str | None = Field(description="Why the ranking may mislead, in words.")
    importances: list[ImportanceRowPublic] = Field(
        description="Highest first, summing to 1; empty when it cannot be computed "
        "(fewer than 2 runs, nothing varied)."
    )
