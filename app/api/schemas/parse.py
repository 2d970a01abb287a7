"""Dry runs: metric definitions tried on a log's text, and every point, rejection and
rendering they saw (`routes/parse.py`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.api.schemas.common import RequestBody
from app.api.schemas.definitions import Definitions
from app.parsing import LogFormat
from app.protocol.ranges import pascal_too

__all__ = [
    "ParseCreate",
    "ParsePublic",
    "ParsedDefinitionPublic",
    "ParsedPointPublic",
    "ParsedRejectionPublic",
]


class ParseCreate(RequestBody):
    metric_definitions: Definitions = Field(
        validation_alias=pascal_too("metric_definitions"),
        description="Named regexes, or the name of a preset.",
    )
    log: str = Field(description="The log text to try the definitions on.")
    log_format: LogFormat = Field(
        LogFormat.TEXT,
        description="How the log is cut into lines and rendered: `text` (default) or `cloudwatch`.",
    )


class ParsedPointPublic(BaseModel):
    metric_name: str = Field(description="The metric.")
    value: float = Field(description="The value.")
    step: int = Field(
        description="The `step` group's integer, else the point's 1-based number among its "
        "metric's points."
    )
    line: int = Field(description="The 1-based line number.")
    span: tuple[int, int] | None = Field(
        description="Where the value lies in the line's entry of `texts`, as 0-based [start, end) "
        "character offsets; null when the definition was matched against another rendering."
    )


class ParsedRejectionPublic(BaseModel):
    metric_name: str = Field(description="The metric.")
    line: int = Field(description="The 1-based line number.")
    capture: str | None = Field(description="What the value group captured; null for a time-out.")
    reason: str = Field(description="Why no point was made.")
    span: tuple[int, int] | None = Field(
        description="Where the capture lies in the line's entry of `texts`, as 0-based [start, "
        "end) character offsets; null for a time-out, and when the definition was matched "
        "against another rendering."
    )


class ParsedDefinitionPublic(BaseModel):
    metric_name: str = Field(description="The definition's name.")
    log_format: LogFormat = Field(description="The rendering its regex was matched against.")
    log_format_reason: str = Field(description="Why that rendering.")
    hint: str | None = Field(
        description="For a definition that matched no line: whether the literal text its "
        "regex needs occurs in the log, and in how many lines."
    )
    matched_by: str = Field(
        description="What matches it: `compiled core`, or `regex module: <why>` (the core "
        "is off or not built on this server, or does not take its regex)."
    )


class ParsePublic(BaseModel):
    lines: int = Field(description="Lines in the log.")
    points: list[ParsedPointPublic] = Field(
        description="Every point, in line order, steps numbered."
    )
    rejections: list[ParsedRejectionPublic] = Field(
        description="Every match whose capture was not a number, and every time-out."
    )
    texts: list[str] = Field(
        description="Each line as the definitions saw it: decoded, cleaned, cut at the limit."
    )
    definitions: list[ParsedDefinitionPublic] = Field(
        description="How each definition saw the log, in order."
    )
