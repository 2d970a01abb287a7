"""Workers ask for runs to execute."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter

from app.api import schemas
from app.api.deps import CanManage, StorageDep, TokensDep, TunerDep
from app.api.schemas.leases import CheckpointPublic, InputChannelPublic
from app.auth import hash_token, new_run_token
from app.protocol.search import SearchSpec
from app.tuning.gpus import GpuOffer, gpu_need

router = APIRouter(prefix="/v1/leases", tags=["workers"])


@router.post("", dependencies=[CanManage], responses=schemas.error_responses(422))
def create_lease(
    body: schemas.LeaseCreate, tuner: TunerDep, storage: StorageDep, tokens: TokensDep
) -> schemas.LeaseAnswerPublic:
    """A worker asks for work: the next run of a job's search, leased to it, or none."""
    issued: list[str] = []

    def ingest_token(run_id: int) -> str:
        issued.append(new_run_token(run_id))
        return hash_token(issued[-1])

    offer = body.gpus
    gpus = GpuOffer(offer.total, offer.free, offer.shared) if offer is not None else None
    lease = tuner.lease(
        body.worker, body.jobs, ingest_token if tokens.enabled else None, gpus, body.request_id
    )
    open_jobs = storage.open_search_jobs(body.jobs)
    if lease is None:
        return schemas.LeaseAnswerPublic(lease=None, jobs_in_progress=open_jobs)
    job, run, search = lease.job, lease.run, lease.search
    definition = _definition(search)
    need = gpu_need(search)
    channels = _input_channels(definition)
    algorithm = _mapping(definition.get("AlgorithmSpecification"))
    resources = _mapping(
        definition.get("ResourceConfig") or definition.get("HyperParameterTuningResourceConfig")
    )
    return schemas.LeaseAnswerPublic(
        lease=schemas.LeasePublic(
            job=job.name,
            run=run.name,
            hyperparameters=dict(run.hyperparameters),
            command=list(search.command) if search.command is not None else None,
            training_image=search.training_image,
            channels={c.name: c.uri for c in channels if c.uri.startswith("file://")},
            input_channels=channels,
            output_path=_text(_mapping(definition.get("OutputDataConfig")).get("S3OutputPath")),
            checkpoint=_checkpoint(definition),
            container_entrypoint=_texts(algorithm.get("ContainerEntrypoint")),
            container_arguments=_texts(algorithm.get("ContainerArguments")),
            instance_type=_text(resources.get("InstanceType")),
            instance_count=_count(resources.get("InstanceCount")),
            network_isolation=definition.get("EnableNetworkIsolation") is True,
            environment=dict(job.environment),
            max_runtime_seconds=search.resource_limits.max_runtime_in_seconds,
            attempt=run.attempt,
            gpus_per_run=need.gpus,
            runs_per_gpu=need.runs_per_gpu,
            lease_seconds=lease.lease_seconds,
            ingest_token=issued[-1] if issued else None,
        ),
        jobs_in_progress=open_jobs,
    )


# The stored shapes are the SageMaker request as it came (a TrainingJobDefinition, which
# CreateTrainingJob's jobs store too); read defensively, so that a job stored by another
# version never makes a lease fail.


def _definition(search: SearchSpec) -> Mapping[str, Any]:
    """The TrainingJobDefinition of a job created through SageMaker's API; empty otherwise."""
    return _mapping((search.sagemaker or {}).get("TrainingJobDefinition"))


def _input_channels(definition: Mapping[str, Any]) -> list[InputChannelPublic]:
    """Every S3DataSource channel (s3:// or file://), with the job's input mode where the
    channel names none."""
    algorithm = _mapping(definition.get("AlgorithmSpecification"))
    mode = _text(algorithm.get("TrainingInputMode")) or "File"
    found = []
    given = definition.get("InputDataConfig")
    for channel in given if isinstance(given, list) else []:
        channel = _mapping(channel)
        source = _mapping(_mapping(channel.get("DataSource")).get("S3DataSource"))
        name, uri = _text(channel.get("ChannelName")), _text(source.get("S3Uri"))
        if name is None or uri is None:
            continue  # a FileSystemDataSource (EFS, FSx): no worker reads one
        found.append(
            InputChannelPublic(
                name=name,
                uri=uri,
                data_type=_text(source.get("S3DataType")) or "S3Prefix",
                content_type=_text(channel.get("ContentType")),
                compression_type=_text(channel.get("CompressionType")),
                input_mode=_text(channel.get("InputMode")) or mode,
            )
        )
    return found


def _checkpoint(definition: Mapping[str, Any]) -> CheckpointPublic | None:
    config = _mapping(definition.get("CheckpointConfig"))
    uri = _text(config.get("S3Uri"))
    if uri is None:
        return None
    return CheckpointPublic(uri=uri, local_path=_text(config.get("LocalPath")))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _texts(value: Any) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return None
    return list(value)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
