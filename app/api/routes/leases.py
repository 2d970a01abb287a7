"""Workers ask for runs to execute."""

from __future__ import annotations

from fastapi import APIRouter

from app.api import schemas
from app.api.deps import CanManage, StorageDep, TokensDep, TunerDep
from app.auth import hash_token, new_run_token
from app.protocol.search import SearchSpec

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

    lease = tuner.lease(body.worker, body.jobs, ingest_token if tokens.enabled else None)
    open_jobs = storage.open_search_jobs(body.jobs)
    if lease is None:
        return schemas.LeaseAnswerPublic(lease=None, jobs_in_progress=open_jobs)
    job, run, search = lease.job, lease.run, lease.search
    return schemas.LeaseAnswerPublic(
        lease=schemas.LeasePublic(
            job=job.name,
            run=run.name,
            hyperparameters=dict(run.hyperparameters),
            command=list(search.command) if search.command is not None else None,
            training_image=search.training_image,
            channels=_channels(search),
            environment=dict(job.environment),
            max_runtime_seconds=search.resource_limits.max_runtime_in_seconds,
            lease_seconds=lease.lease_seconds,
            ingest_token=issued[-1] if issued else None,
        ),
        jobs_in_progress=open_jobs,
    )


def _channels(search: SearchSpec) -> dict[str, str]:
    """The `file://` input channels of a job created through SageMaker's API, by name."""
    definition = (search.sagemaker or {}).get("TrainingJobDefinition", {})
    found = {}
    for channel in definition.get("InputDataConfig", []):
        uri = channel.get("DataSource", {}).get("S3DataSource", {}).get("S3Uri", "")
        if uri.startswith("file://"):
            found[channel["ChannelName"]] = uri
    return found
