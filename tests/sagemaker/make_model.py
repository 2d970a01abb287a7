"""Write each AWS face's model file (app/sagemaker/model.json,
app/cloudwatch_logs/model.json, app/cloudwatch/model.json): the part of botocore's service
model that logmetrics serves (its operations and every shape they reach, and the query
protocol's result element of each), without documentation.

    .venv/bin/python -m tests.sagemaker.make_model

tests/sagemaker/test_model.py checks that each file is what this makes from the botocore
installed, so a botocore upgrade that changes a model shows up as a failing test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.session

from app.cloudwatch import model as cloudwatch_model
from app.cloudwatch_logs import model as logs_model
from app.sagemaker import model as sagemaker_model

# botocore's service name, the operations served, and the file, for each face.
MODELS: dict[str, tuple[tuple[str, ...], Path]] = {
    "sagemaker": (sagemaker_model.OPERATIONS, sagemaker_model.MODEL_PATH),
    "logs": (logs_model.OPERATIONS, logs_model.MODEL_PATH),
    "cloudwatch": (cloudwatch_model.OPERATIONS, cloudwatch_model.MODEL_PATH),
}


def build(service: str = "sagemaker") -> dict[str, Any]:
    loader = botocore.session.get_session().get_component("data_loader")
    raw = loader.load_service_model(service, "service-2")
    shapes: dict[str, Any] = {}

    def reach(name: str) -> None:
        if name in shapes:
            return
        shape = {k: v for k, v in raw["shapes"][name].items() if k != "documentation"}
        shapes[name] = shape
        if "members" in shape:
            shape["members"] = {
                member: {k: v for k, v in spec.items() if k in ("shape", "idempotencyToken")}
                for member, spec in shape["members"].items()
            }
            for spec in shape["members"].values():
                reach(spec["shape"])
        for key in ("member", "key", "value"):
            if key in shape:
                reach(shape[key]["shape"])

    operations = {}
    for name in MODELS[service][0]:
        operation = raw["operations"][name]
        kept = {
            "input": operation.get("input", {}).get("shape"),
            "output": operation.get("output", {}).get("shape"),
            "errors": [error["shape"] for error in operation.get("errors", [])],
        }
        # The element a query protocol answer wraps the output in (CloudWatch's
        # `GetMetricStatisticsResult`); JSON-only services have none.
        if "resultWrapper" in operation.get("output", {}):
            kept["resultWrapper"] = operation["output"]["resultWrapper"]
        operations[name] = kept
        for shape in (kept["input"], kept["output"], *kept["errors"]):
            if shape:
                reach(shape)
    return {
        "metadata": {"apiVersion": raw["metadata"]["apiVersion"]},
        "operations": operations,
        "shapes": dict(sorted(shapes.items())),
    }


def render(service: str = "sagemaker") -> str:
    return json.dumps(build(service), indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    for service, (_operations, path) in MODELS.items():
        path.write_text(render(service))
        print(f"wrote {path}")
