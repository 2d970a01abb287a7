"""SageMaker's tag operations: AddTags, ListTags and DeleteTags on tuning job and
training job ARNs, and the tags a Create* request gives (`given_tags`, `attach`).

A tuning job's tags are its job's; a training job's are its run's, or, for one that
CreateTrainingJob made, its job's (it has no run until a worker starts it). As AMT gives a
tuning job's training jobs the tuning job's tags, ListTags on such a training job answers
the tuning job's tags, then its own (its own win for a key both hold); AddTags and
DeleteTags change its own. Tags are listed in the order they were first added. Limits as
AWS's: at most 50 tags a resource (the model bounds keys to 128 characters, values to 256,
a request to 50 tags), no key beginning `aws:`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from app.errors import JobNotFound, RunNotFound
from app.records import Job, Tag
from app.sagemaker import paging
from app.sagemaker.errors import SageMakerError, invalid, resource_not_found
from app.sagemaker.shapes import created_with
from app.sagemaker.training_definitions import created_training_job
from app.sagemaker.training_jobs import TrainingJobs
from app.storage import Storage
from app.tuning.tuner import search_of

__all__ = ["MAX_TAGS", "Tags"]

MAX_TAGS = 50
# ListTags' page when MaxResults is not given, and its least: AWS's.
_PAGE = 50
_RESERVED_PREFIX = "aws:"
_ARN = re.compile(
    r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:(?P<account>[0-9]{12}):"
    r"(?P<kind>hyper-parameter-tuning-job|training-job)/(?P<name>[^/]+)"
)


class Tagged(NamedTuple):
    """What an ARN names: a job, or one of its runs (`run`); `inherits` when that run is
    a training job of a tuning job, which also has the job's tags."""

    job: Job
    run: str | None
    inherits: bool


class Tags:
    """The tags of tuning jobs and training jobs."""

    def __init__(self, storage: Storage, training_jobs: TrainingJobs, account: str) -> None:
        self._storage = storage
        self._training_jobs = training_jobs
        self._account = account

    def add(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        given = given_tags(body)
        tagged = self._resource(body["ResourceArn"])
        self._storage.add_tags(tagged.job, tagged.run, given, MAX_TAGS)
        return {"Tags": [_shape(tag) for tag in given]}

    def list(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        tagged = self._resource(body["ResourceArn"])
        held = self._storage.tags(tagged.job, tagged.run)
        if tagged.inherits:
            own = {tag.key for tag in held}
            inherited = [tag for tag in self._storage.tags(tagged.job) if tag.key not in own]
            held = inherited + held
        page, token = paging.page(held, {"MaxResults": _PAGE, **body})
        answer: dict[str, Any] = {"Tags": [_shape(tag) for tag in page]}
        if token:
            answer["NextToken"] = token
        return answer

    def delete(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        tagged = self._resource(body["ResourceArn"])
        self._storage.delete_tags(tagged.job, tagged.run, body["TagKeys"])
        return {}

    def attach(self, arn: str, tags: Sequence[Tag]) -> None:
        """Give the resource of `arn`, just created, the tags its request gave."""
        if tags:
            tagged = self._resource(arn)
            self._storage.add_tags(tagged.job, tagged.run, tags, MAX_TAGS)

    def _resource(self, arn: str) -> Tagged:
        """What `arn` names. Raises: SageMakerError (ResourceNotFound, or
        ValidationException for a kind of resource that has no tags here)."""
        matched = _ARN.fullmatch(arn)
        if matched is None:
            raise invalid(
                f"{arn[:256]!r} is not the ARN of a hyper-parameter-tuning-job or a "
                "training-job; logmetrics keeps the tags of those only."
            )
        name = matched["name"]
        # The region is not compared: an answer names a job made through `/v1` in the
        # region of the request that reads it.
        if matched["account"] != self._account:
            raise resource_not_found(arn)
        if matched["kind"] == "hyper-parameter-tuning-job":
            try:
                job = self._storage.get_job(name)
            except JobNotFound:
                raise resource_not_found(arn) from None
            if created_training_job(created_with(search_of(job))) is not None:
                raise resource_not_found(arn)  # the job of a training job, not a tuning job
            return Tagged(job, None, inherits=False)
        try:
            found = self._training_jobs.find(name)
        except (SageMakerError, RunNotFound):
            # No training job of that name (or two jobs' runs have it: no one resource).
            raise resource_not_found(arn) from None
        if found.request is not None:
            return Tagged(found.job, None, inherits=False)
        assert found.run is not None, "a tuning job's training jobs are its runs"
        return Tagged(found.job, found.run.name, inherits=True)


def given_tags(body: Mapping[str, Any]) -> list[Tag]:
    """A request's Tags, checked beyond what the model checks.

    Raises: SageMakerError (ValidationException) for a key AWS keeps for itself.
    """
    tags = [Tag(tag["Key"], tag.get("Value", "")) for tag in body.get("Tags", [])]
    for tag in tags:
        if tag.key.lower().startswith(_RESERVED_PREFIX):
            raise invalid(
                f"Tag key {tag.key[:128]!r} is not allowed: keys beginning with "
                f"{_RESERVED_PREFIX!r} are reserved for AWS's use."
            )
    return tags


def _shape(tag: Tag) -> dict[str, str]:
    return {"Key": tag.key, "Value": tag.value}
