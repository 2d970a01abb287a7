"""What a job measures: its metric definitions (named regexes, or a preset's name) and
its objective, as requests give them and as the API returns them. Jobs, dry runs,
re-parses and presets share them."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Discriminator, Field, Tag

from app.api.schemas.common import SageMakerBody
from app.objective import ObjectiveType, Strategy
from app.parsing import LogFormat, MetricDefinition
from app.presets import Presets

__all__ = [
    "Definitions",
    "MetricDefinitionCreate",
    "MetricDefinitionPublic",
    "ObjectiveCreate",
    "ObjectivePublic",
    "definitions_of",
]


class MetricDefinitionCreate(SageMakerBody):
    name: str = Field(
        examples=["loss"],
        description="The metric's name: 1 to 255 characters, unique in the job.",
    )
    regex: str = Field(
        examples=["Loss = (.*?);"],
        description="A regex of the `regex` module, 1 to 500 characters, with at least one group: "
        "the named group `value`, else the first, is the value.",
    )
    log_format: LogFormat | None = Field(
        None,
        description="The rendering this regex is matched against, whatever the job's log "
        "format: `cloudwatch` shows control characters as `#011` and the like, `text` "
        "removes them. By default a regex that names a CloudWatch escape (`#011`) gets "
        "`cloudwatch` and any other the job's log format.",
    )


class ObjectiveCreate(SageMakerBody):
    metric_name: str = Field(description="One of the job's metric definitions.")
    type: ObjectiveType = Field(description="Maximize or Minimize.")
    strategy: Strategy = Field(
        Strategy.LATEST,
        description="Which value of the metric counts: the last one (AMT), the min or the max.",
    )


def _definitions_shape(value: Any) -> str:
    return "preset" if isinstance(value, str) else "definitions"


# Named regexes, or a preset's name: validated as the one its shape says, so a typo in a
# definition is reported once, not also as "not a string".
Definitions = Annotated[
    Annotated[list[MetricDefinitionCreate], Tag("definitions")] | Annotated[str, Tag("preset")],
    Discriminator(_definitions_shape),
]


class MetricDefinitionPublic(BaseModel):
    name: str = Field(description="The metric's name, unique in its job.")
    regex: str = Field(description="The regex; its first group (or `value`) is the value.")
    log_format: LogFormat | None = Field(
        None, description="The rendering the definition asks for; null leaves it to the parser."
    )


class ObjectivePublic(BaseModel):
    metric_name: str = Field(description="The objective metric.")
    type: ObjectiveType = Field(description="Maximize or Minimize.")
    strategy: Strategy = Field(description="Which value of the metric counts: latest, min or max.")


def definitions_of(
    given: list[MetricDefinitionCreate] | str, presets: Presets
) -> tuple[MetricDefinition, ...]:
    """The definitions a request gives, or those of the preset it names."""
    if isinstance(given, str):
        return presets.definitions(given)
    return tuple(MetricDefinition(d.name, d.regex, d.log_format) for d in given)
