"""SageMaker's service model (the part logmetrics serves): `model.json` is botocore's own
model of these operations and the shapes they reach (`tests/sagemaker/make_model.py`
writes it), checked by `app.aws.model.Model` with where logmetrics takes more or less
than SageMaker.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from app.aws.model import Model, message, read_model
from app.protocol.images import image_reference_problem

__all__ = ["MODEL_PATH", "OPERATIONS", "Model", "load_model", "message"]

MODEL_PATH = Path(__file__).resolve().parent / "model.json"
OPERATIONS = (
    "CreateHyperParameterTuningJob",
    "DescribeHyperParameterTuningJob",
    "ListHyperParameterTuningJobs",
    "StopHyperParameterTuningJob",
    "DeleteHyperParameterTuningJob",
    "ListTrainingJobsForHyperParameterTuningJob",
    "DescribeTrainingJob",
    "ListTrainingJobs",
    "StopTrainingJob",
    "CreateTrainingJob",
    "AddTags",
    "ListTags",
    "DeleteTags",
)
# Where logmetrics takes more than SageMaker: a worker reads local files, so an S3 URI may
# also be a file:// URL (an input channel, a submit directory).
_WIDER_PATTERNS = {"S3Uri": r"(https|s3)://([^/]+)/?(.*)|file://.*"}
# Where logmetrics takes less: SageMaker's model lets an image be any text (`.*`), but a
# worker may hand it to `docker run`, where `--privileged` would be an option.
# The rule's sentence follows "Member", as image_reference_problem's do.
_NARROWER_RULES: dict[str, Callable[[str], str | None]] = {
    "AlgorithmImage": image_reference_problem
}


@functools.cache
def load_model() -> Model:
    return Model(read_model(MODEL_PATH), _WIDER_PATTERNS, _NARROWER_RULES)
