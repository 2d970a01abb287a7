"""SageMaker as a face of `POST /` (`X-Amz-Target: SageMaker.<Operation>`)."""

from __future__ import annotations

from app.aws.face import Face
from app.sagemaker.errors import sagemaker_error
from app.sagemaker.model import load_model
from app.sagemaker.operations import SageMakerOperations

__all__ = ["sagemaker_face"]


def sagemaker_face(operations: SageMakerOperations) -> Face:
    """SageMaker's operations, validated against its model; a read key may describe and
    list; a domain error answered by `app.sagemaker.errors.ERROR_BY_DOMAIN_ERROR`."""
    return Face(
        target="SageMaker",
        signing_name="sagemaker",
        model=load_model(),
        handlers=operations.handlers,
        read_only=("Describe", "List"),
        invalid="ValidationException",
        translate=sagemaker_error,
    )
