"""A sweep file: the job to create, with its search, in the API's own vocabulary.

It is the body of `POST /v1/jobs` as YAML (or JSON): the job's name, objective, metric
definitions (or a preset's name) and environment, and `search` (`app.protocol.search`).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from app.protocol.search import SearchSpec

__all__ = ["SweepSpec", "SweepSpecError", "load_spec", "timestamped"]


class SweepSpecError(Exception):
    """The spec file cannot be read or breaks a rule; the message says where."""


class SweepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    name: str
    objective: dict[str, Any]
    metric_definitions: list[dict[str, str]] | str = Field(
        validation_alias=AliasChoices("metric_definitions", "MetricDefinitions"),
        description="A list of {Name, Regex}, or the name of a preset.",
    )
    log_format: str = "text"
    environment: dict[str, str] = Field(default_factory=dict)
    search: SearchSpec

    def job_body(self, name: str | None = None) -> dict[str, Any]:
        """The `POST /v1/jobs` body, named `name` if given."""
        body = self.model_dump(mode="json", exclude={"search"})
        body["search"] = self.search.model_dump(mode="json", exclude_defaults=True)
        if name is not None:
            body["name"] = name
        return body


def load_spec(path: str | Path) -> SweepSpec:
    """Read a sweep spec from a YAML or JSON file. Raises: SweepSpecError."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise SweepSpecError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        raw = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise SweepSpecError(f"{path} is not valid {_kind(path)}: {exc}") from exc
    try:
        return SweepSpec.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'spec'}: {error['msg']}"
            for error in exc.errors()
        )
        raise SweepSpecError(f"{path}: {problems}") from exc


def _kind(path: str | Path) -> str:
    return "JSON" if str(path).endswith(".json") else "YAML"


def timestamped(name: str) -> str:
    """`name` with the date and time appended, still a valid job name: a sweep or the
    demo can then run again on the same database."""
    return f"{name}-{datetime.now():%Y%m%d-%H%M%S}"
