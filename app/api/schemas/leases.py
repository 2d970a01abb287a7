"""Leases: a worker asks for a run to execute, and is answered one, or none
(`routes/leases.py`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StrictInt, model_validator

from app.api.schemas.common import RequestBody

__all__ = [
    "CheckpointPublic",
    "GpuOfferCreate",
    "InputChannelPublic",
    "LeaseAnswerPublic",
    "LeaseCreate",
    "LeasePublic",
]


class GpuOfferCreate(RequestBody):
    """What GPUs a worker that counts them has, as it asks for work."""

    # Strict: a count is a JSON integer, never `false` or "2".
    total: StrictInt = Field(ge=0, le=1024, description="The GPUs the worker has.")
    free: StrictInt = Field(ge=0, le=1024, description="Of those, the GPUs no run holds.")
    shared: dict[
        Annotated[str, Field(max_length=63)], Annotated[StrictInt, Field(ge=0, le=1024)]
    ] = Field(
        default_factory=dict,
        max_length=1024,
        description="For a job whose runs share GPUs (runs_per_gpu > 1): how many more of "
        "its runs the GPUs they hold can take.",
    )

    @model_validator(mode="after")
    def _within(self) -> GpuOfferCreate:
        if self.free > self.total:
            raise ValueError("free GPUs cannot outnumber the worker's GPUs")
        return self


class LeaseCreate(RequestBody):
    worker: str = Field(
        min_length=1, max_length=255, description="Who asks: a name for people, host:pid say."
    )
    jobs: list[Annotated[str, Field(max_length=63)]] | None = Field(
        None, max_length=100, description="Only these jobs (default: any job with a search)."
    )
    gpus: GpuOfferCreate | None = Field(
        None,
        description="The worker's GPUs, if it counts them (`logmetrics worker --gpus`): only a "
        "run it can place now is leased to it. Left out, any run may be.",
    )
    request_id: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The worker's id of this request, sent again with it when no answer came: "
        "the run the first one leased is answered again (a new ingest token), not another.",
    )


class InputChannelPublic(BaseModel):
    """An input channel of the training job, as its InputDataConfig names it."""

    name: str = Field(description="The ChannelName: SM_CHANNEL_<NAME> for the program.")
    uri: str = Field(description="Where its data is: an s3:// prefix or object, or a file:// URL.")
    data_type: str = Field(
        description="S3DataType: S3Prefix (every object under `uri`), ManifestFile or "
        "AugmentedManifestFile (the objects a manifest at `uri` lists)."
    )
    content_type: str | None = Field(description="The channel's ContentType, if given.")
    compression_type: str | None = Field(description="CompressionType: None or Gzip, if given.")
    input_mode: str = Field(
        description="The channel's InputMode, else the job's TrainingInputMode: File, Pipe "
        "or FastFile."
    )


class CheckpointPublic(BaseModel):
    """The training job's CheckpointConfig."""

    uri: str = Field(description="S3Uri: the prefix checkpoints are read from and written to.")
    local_path: str | None = Field(
        description="LocalPath, if given: where the container sees them (SageMaker's default "
        "/opt/ml/checkpoints)."
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
    channels: dict[str, str] = Field(
        description="The file:// input channels by name, for workers that predate "
        "`input_channels`, which holds every channel."
    )
    input_channels: list[InputChannelPublic] = Field(
        description="Every input channel of a job created through SageMaker's API; empty "
        "for a job made through /v1."
    )
    output_path: str | None = Field(
        description="OutputDataConfig.S3OutputPath: where the model and output archives go "
        "(<output_path>/<run>/output/model.tar.gz); null for none."
    )
    checkpoint: CheckpointPublic | None = Field(
        description="The CheckpointConfig, if the job has one."
    )
    container_entrypoint: list[str] | None = Field(
        description="AlgorithmSpecification.ContainerEntrypoint, if given."
    )
    container_arguments: list[str] | None = Field(
        description="AlgorithmSpecification.ContainerArguments, if given."
    )
    instance_type: str | None = Field(
        description="The ResourceConfig's InstanceType (ml.m5.large, say), if given."
    )
    instance_count: int | None = Field(description="The ResourceConfig's InstanceCount, if given.")
    network_isolation: bool = Field(
        description="EnableNetworkIsolation: the SageMaker SDK then sends the code as the "
        "channel `code`."
    )
    environment: dict[str, str] = Field(description="Environment variables to set for the command.")
    max_runtime_seconds: int | None = Field(
        description="Stop the run after this many seconds; null for no limit."
    )
    attempt: int = Field(
        description="The run's attempt: 1, or more for a run tried again after a failure of "
        "the infrastructure; sent back with its heartbeats and its end."
    )
    gpus_per_run: int = Field(
        description="The GPUs the run holds on its worker: its job's resources.gpus_per_run, "
        "else its SageMaker instance type's GPUs times InstanceCount, else 0."
    )
    runs_per_gpu: int = Field(
        description="How many of the job's runs may share one GPU (1: the run's GPUs are its own)."
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
