"""The operations `POST /` serves: SageMaker's operation names, each with its handler.

One model, two faces: a tuning job is a job with a search, its training jobs are its
runs; jobs made through `/v1` show here too, and jobs made here show in `/v1`. The
operations live by resource (`tuning_jobs`, `training_jobs`, `tags`), the translation
between AMT's shapes and the domain's records in `shapes` and `training_definitions`,
NextToken in `paging`, and the errors SageMaker answers in `errors`. The tags a Create*
request gives are kept here, around the resource's own create (`_tagged`).
"""

from __future__ import annotations

from typing import Any

from app.aws.face import Handler
from app.sagemaker.tags import Tags, given_tags
from app.sagemaker.training_jobs import TrainingJobs
from app.sagemaker.tuning_jobs import TuningJobs
from app.storage import Storage
from app.tuning.tuner import Tuner

__all__ = ["Handler", "SageMakerOperations"]


class SageMakerOperations:
    """Every operation served, by name (`handlers`), over one storage and tuner."""

    def __init__(self, storage: Storage, tuner: Tuner, account: str) -> None:
        tuning_jobs = TuningJobs(storage, tuner, account)
        training_jobs = TrainingJobs(storage, tuner, account)
        self._tags = Tags(storage, training_jobs, account)
        self.handlers: dict[str, Handler] = {
            "CreateHyperParameterTuningJob": self._tagged(
                tuning_jobs.create, "HyperParameterTuningJobArn"
            ),
            "DescribeHyperParameterTuningJob": tuning_jobs.describe,
            "ListHyperParameterTuningJobs": tuning_jobs.list,
            "StopHyperParameterTuningJob": tuning_jobs.stop,
            "DeleteHyperParameterTuningJob": tuning_jobs.delete,
            "ListTrainingJobsForHyperParameterTuningJob": training_jobs.list_for_tuning_job,
            "DescribeTrainingJob": training_jobs.describe,
            "ListTrainingJobs": training_jobs.list,
            "StopTrainingJob": training_jobs.stop,
            "CreateTrainingJob": self._tagged(training_jobs.create, "TrainingJobArn"),
            "AddTags": self._tags.add,
            "ListTags": self._tags.list,
            "DeleteTags": self._tags.delete,
        }

    def _tagged(self, create: Handler, arn_member: str) -> Handler:
        """`create`, keeping the tags its request gives on what it creates (checked first,
        so a request with tags refused creates nothing)."""

        def create_tagged(body: dict[str, Any], region: str) -> dict[str, Any]:
            tags = given_tags(body)
            answer = create(body, region)
            self._tags.attach(answer[arn_member], tags)
            return answer

        return create_tagged
