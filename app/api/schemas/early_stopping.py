"""Why a run was stopped early: its objective by step against the median rule's median
(`routes/early_stopping.py`, `app.analysis.early_stopping`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.objective import ObjectiveType

__all__ = ["EarlyStoppingPublic", "EarlyStoppingStepPublic"]


class EarlyStoppingStepPublic(BaseModel):
    step: int = Field(description="The step of one of the run's objective points.")
    value: float = Field(description="The run's objective value at the step.")
    running_average: float = Field(description="The mean of the run's values up to the step.")
    median: float | None = Field(
        description="The median of the earlier runs' running averages at the step, which "
        "the rule compares the value with; null while fewer than min_runs reached it."
    )
    runs: int = Field(description="How many earlier runs reached the step.")
    worse: bool = Field(
        description="The value is worse than the median (the rule fires on the first such "
        "point from the warm-up on)."
    )


class EarlyStoppingPublic(BaseModel):
    run: str = Field(description="The run.")
    metric_name: str = Field(description="The objective metric.")
    objective_type: ObjectiveType = Field(description="Maximize or Minimize.")
    rule: Literal["median", "hyperband"] | None = Field(
        description="The job's early stopping: the median rule (early_stopping Auto), "
        "Hyperband's rungs, or null where none applies."
    )
    stopped_early: bool = Field(description="The run was stopped by early stopping.")
    reason: str | None = Field(description="The run's stop reason as stored, if any.")
    min_runs: int = Field(description="The median rule waits for this many earlier runs.")
    warmup_points: int = Field(
        description="The median rule judges a run from this many objective points on."
    )
    stopped_at_step: int | None = Field(
        description="The step at which the median rule stopped the run (from its stored "
        "reason); null if it did not."
    )
    steps: list[EarlyStoppingStepPublic] = Field(
        description="Each of the run's objective points, in arrival order, judged against "
        "the median of the earlier runs' points as they are now (empty for Hyperband, "
        "which has no median by step, and for a job without early stopping)."
    )
    earlier_runs: list[str] = Field(
        description="The earlier runs the median rested on (at the stop step, if any)."
    )
