"""What every schema module shares: the bases of request bodies, and the error body.

A request body refuses keys it does not know, and strings that UTF-8 or a database
text column cannot store, except in free-text fields (see `RequestBody`). Where a body
speaks SageMaker's language it accepts SageMaker's spelling of each key as well
(`log_format` or `LogFormat`): all of a `SageMakerBody`'s keys, or one field that says
`validation_alias=pascal_too(...)`.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import AliasGenerator, BaseModel, ConfigDict, Field, model_validator

from app.protocol.ranges import pascal_too

__all__ = ["ErrorPublic", "RequestBody", "SageMakerBody", "error_responses"]


# Free text that comes from a log (a run's last stderr line, a dry run's sample): data,
# never refused for what it holds; what UTF-8 cannot carry becomes U+FFFD.
_TEXT_FIELDS = frozenset({"log", "failure_reason"})
_SURROGATE = re.compile("[\ud800-\udfff]")  # JSON joins the pairs: these are lone


class RequestBody(BaseModel):
    """A request body. No string in it may hold what UTF-8 or a database text column
    cannot store (a lone surrogate such as "\\ud800", or NUL), except the free-text
    fields, where such characters become U+FFFD (NUL stays in a log: it is data)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _storable_strings(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {
                _checked(key, ()): (
                    _as_text(value, key) if key in _TEXT_FIELDS else _checked(value, (key,))
                )
                for key, value in data.items()
            }
        return data


class SageMakerBody(RequestBody):
    """A request body, or a part of one, that takes every key in SageMaker's spelling as
    well (`MetricName` for `metric_name`)."""

    model_config = ConfigDict(alias_generator=AliasGenerator(validation_alias=pascal_too))


def _unstorable(text: str) -> str | None:
    if "\x00" in text:
        return "NUL (\\u0000)"
    try:
        text.encode()
    except UnicodeEncodeError:
        return "a lone surrogate (\\ud800 to \\udfff), which UTF-8 cannot encode"
    return None


def _checked(value: Any, where: tuple[Any, ...]) -> Any:
    """`value`, after checking every string in it; ValueError names the first bad one."""
    if isinstance(value, str):
        reason = _unstorable(value)
        if reason is not None:
            place = ".".join(str(part) for part in where) or "a key"
            raise ValueError(f"{place}: a string may not hold {reason}")
    elif isinstance(value, dict):
        for key, item in value.items():
            _checked(key, where)
            _checked(item, (*where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _checked(item, (*where, index))
    return value


def _as_text(value: Any, field: str) -> Any:
    if not isinstance(value, str):
        return value
    text = _SURROGATE.sub("\ufffd", value)
    return text.replace("\x00", "\ufffd") if field == "failure_reason" else text


class ErrorPublic(BaseModel):
    """Every error: a stable code, a message for people, and fields a client can act on."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(
        description="A stable code for the error (`job_not_found`, `invalid_metric_definition`, "
        "...)."
    )
    message: str = Field(description="What went wrong, for a person to read.")


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer."""
    return {status: {"model": ErrorPublic} for status in statuses}
