"""CloudWatch Logs' service model (the part logmetrics serves): `model.json` is botocore's
own model of these operations, reading and writing, and the shapes they reach
(`tests/sagemaker/make_model.py` writes it), checked by `app.aws.model.Model`."""

from __future__ import annotations

import functools
from pathlib import Path

from app.aws.model import Model, read_model

__all__ = ["MODEL_PATH", "OPERATIONS", "load_model"]

MODEL_PATH = Path(__file__).resolve().parent / "model.json"
OPERATIONS = (
    "DescribeLogGroups",
    "DescribeLogStreams",
    "GetLogEvents",
    "FilterLogEvents",
    "CreateLogGroup",
    "CreateLogStream",
    "PutLogEvents",
)


@functools.cache
def load_model() -> Model:
    return Model(read_model(MODEL_PATH))
