"""Write app/sagemaker/model.json: the part of botocore's SageMaker service model that
logmetrics serves (its operations and every shape they reach), without documentation.

    .venv/bin/python -m tests.sagemaker.make_model

tests/sagemaker/test_model.py checks that the file is what this makes from the botocore
installed, so a botocore upgrade that changes the model shows up as a failing test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.session

from app.sagemaker.model import MODEL_PATH, OPERATIONS


def build() -> dict[str, Any]:
    loader = botocore.session.get_session().get_component("data_loader")
    raw = loader.load_service_model("sagemaker", "service-2")
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
    for name in OPERATIONS:
        operation = raw["operations"][name]
        kept = {
            "input": operation.get("input", {}).get("shape"),
            "output": operation.get("output", {}).get("shape"),
            "errors": [error["shape"] for error in operation.get("errors", [])],
        }
        operations[name] = kept
        for shape in (kept["input"], kept["output"], *kept["errors"]):
            if shape:
                reach(shape)
    return {
        "metadata": {"apiVersion": raw["metadata"]["apiVersion"]},
        "operations": operations,
        "shapes": dict(sorted(shapes.items())),
    }


def render() -> str:
    return json.dumps(build(), indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    Path(MODEL_PATH).write_text(render())
    print(f"wrote {MODEL_PATH}")
