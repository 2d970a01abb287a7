"""Container image references: what a job may name as the image its runs use.

A worker without a mapping for the image hands it to `docker run`, so an image is
checked as Docker reads one (the grammar of distribution/reference):
`[registry[:port]/]path[:tag][@digest]`. Such a reference cannot begin with `-` (which
`docker run` would read as an option) nor hold whitespace or control characters. Both
faces that create jobs (`/v1` and SageMaker's API) check an image with this module.

A job made through SageMaker's API may name an algorithm (its `AlgorithmName`) instead of
an image; a job's training image is then that name or ARN, which can no more begin with
`-` or hold a space (`is_training_image`).
"""

from __future__ import annotations

import re

__all__ = [
    "ALGORITHM_NAME",
    "IMAGE_REFERENCE",
    "IMAGE_RULE",
    "MAX_IMAGE_REFERENCE",
    "is_image_reference",
    "is_training_image",
]

# distribution/reference (regexp.go), ASCII only. The separator inside a path component
# is `[-]+`, not the older `[-]*`: the two read the same names, and `[-]*` (which can
# match nothing) makes `[a-z0-9]+(...[a-z0-9]+)*` backtrack exponentially on a near miss.
_ALPHANUMERIC = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALPHANUMERIC}(?:{_SEPARATOR}{_ALPHANUMERIC})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_NAME = rf"(?:{_HOST}(?::[0-9]+)?/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

IMAGE_REFERENCE = re.compile(rf"{_NAME}(?::{_TAG})?(?:@{_DIGEST})?", re.ASCII)
# SageMaker's bound on TrainingImage; Docker's on the name alone is the same.
MAX_IMAGE_REFERENCE = 255
# SageMaker's AlgorithmName (the model's ArnOrName shape): a name, or an algorithm's ARN.
ALGORITHM_NAME = re.compile(
    r"(?:arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:[a-z\-]*/)?"
    r"[a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62}",
    re.ASCII,
)
IMAGE_RULE = (
    "Member must be a container image reference, [registry[:port]/]path[:tag][@digest], "
    "with a lower-case path, not beginning with '-', at most 255 characters"
)


def is_image_reference(image: str) -> bool:
    """Whether Docker would read `image` as an image reference (and as nothing else).

    Args:
        image: the image as a job names it.

    Returns: True for a reference by the grammar above, at most 255 characters.
    """
    return len(image) <= MAX_IMAGE_REFERENCE and IMAGE_REFERENCE.fullmatch(image) is not None


def is_training_image(image: str) -> bool:
    """Whether a job may name `image` as its runs' training image: an image reference,
    or a SageMaker algorithm's name or ARN.

    Args:
        image: the job's training image.

    Returns: True for either form.
    """
    return is_image_reference(image) or ALGORITHM_NAME.fullmatch(image) is not None
