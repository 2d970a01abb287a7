"""Leases: a worker asks for a run to execute, and is answered one, or none
(`routes/leases.py`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from app.api.schemas.common import RequestBody

__all__ = ["LeaseAnswerPublic", "LeaseCreate", "LeasePublic"]


class LeaseCreate(RequestBody):
    worker: str = Field(
        min_length=1, max_length=255, description="Who asks: a name for people, host:pid say."
    )
    jobs: list[Annotated[str, Field(max_length=63)]] | None = Field(
        None, max_length=100, description="Only these jobs (default: any job with a search)."
    )


class LeasePublic(BaseModel):
    """A run for a worker to execute, and how."""

    job: str = Field(description="The job the run belongs to.")
    run: str = Field(description="The new run's name.")
    hyperparameters: dict[str, str] = Field(
        description="The run's hyperparameters, as text: the search's choice and the static ones."
    )
    command: list[str] | None = Field(
        description="The argv to run; null when the job names no command: run `training_image`."
    )
    training_image: str | None = Field(
        description="The image the job names, for a worker to run when there is no command."
    )
    channels: dict[str, str] = Field(description="Input channels a worker can read: file:// URIs.")
    environment: dict[str, str] = Field(description="Environment variables to set for the command.")
    max_runtime_seconds: int | None = Field(
        description="Stop the run after this many seconds; null for no limit."
    )
    lease_seconds: float = Field(
        description="Seconds without a heartbeat after which the run fails as `worker lost`."
    )
    ingest_token: str | None = Field(
        description="A token that may post logs to this run only; null when access control is off."
    )


# The answer to `POST /v1/leases`: a lease, or none, and whether any may come.
class LeaseAnswerPublic(BaseModel):
    lease: LeasePublic | None = Field(
        description="The run to start, and how; null when no job has a run to start now."
    )
    jobs_in_progress: int = Field(
        description="Jobs among those asked about that have not ended: 0 means none ever will."
    )
