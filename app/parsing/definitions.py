"""Metric definitions: validated and compiled once, when a job is created."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import regex
from regex import Pattern

from app.errors import InvalidMetricDefinition
from app.parsing.patterns import MAX_PATTERN_COST, pattern_cost
from app.parsing.unroll import unroll_lazy_dots
from app.records import LogFormat, MetricDefinition

__all__ = [
    "MAX_DEFINITIONS",
    "MAX_NAME_LENGTH",
    "MAX_REGEX_LENGTH",
    "CompiledDefinition",
    "LogFormat",
    "MetricDefinition",
    "compile_definitions",
    "rendering_of",
    "rendering_reason",
]

# SageMaker AMT's limits for MetricDefinitions.
MAX_DEFINITIONS = 40
MAX_NAME_LENGTH = 255
MAX_REGEX_LENGTH = 500
# How CloudWatch shows a control character: `#` and its three octal digits (`#011` is a
# tab, `#015` a carriage return, `#033` ESC, `#177` DEL). A regex written against that
# was written against CloudWatch's rendering, whatever the job's log format says.
_CLOUDWATCH_ESCAPE = regex.compile(r"\\?#(?:0[0-3][0-7]|177)")


@dataclass(frozen=True, eq=False)
class CompiledDefinition:
    """A validated definition with its compiled pattern.

    `value_group` is the group whose capture is the value: the named group `value` when
    the regex has one, else the first group that is not the named group `step` (group 1,
    as in SageMaker, unless group 1 is the step). `has_step` tells whether `step` exists.
    `rendering` is how each line is rendered for this regex (see `rendering_of`).
    `pattern` is compiled from the regex with each `.*?` that can skip ahead spelled to
    do so (`unroll_lazy_dots`): the same matches and captures, in fewer steps.
    """

    index: int
    name: str
    regex: str
    pattern: Pattern[str]
    value_group: int | str
    has_step: bool
    rendering: LogFormat = LogFormat.TEXT


def compile_definitions(
    definitions: Sequence[MetricDefinition], log_format: LogFormat = LogFormat.TEXT
) -> tuple[CompiledDefinition, ...]:
    """Validate and compile a job's metric definitions.

    Args:
        definitions: 0 to 40 definitions, in the job's order.
        log_format: the job's log format, the rendering of definitions that say nothing.

    Returns:
        The compiled definitions, in the same order.

    Raises:
        InvalidMetricDefinition: for the first definition that breaks a rule; the message
            names the definition by index and name and says why.
    """
    if len(definitions) > MAX_DEFINITIONS:
        raise InvalidMetricDefinition(
            f"a job may have at most {MAX_DEFINITIONS} metric definitions, got {len(definitions)}"
        )
    seen: set[str] = set()
    compiled = []
    for index, definition in enumerate(definitions):
        compiled.append(_compile_one(index, definition, seen, log_format))
        seen.add(definition.name)
    return tuple(compiled)


def rendering_of(definition: MetricDefinition, log_format: LogFormat) -> LogFormat:
    """The rendering a definition's regex is matched against.

    The definition's own `log_format` if it sets one; else CloudWatch's when the regex
    refers to CloudWatch's escapes (SageMaker's documented regexes, pasted verbatim,
    look for `#011` where the log has a tab); else the job's.
    """
    if definition.log_format is not None:
        return definition.log_format
    if _CLOUDWATCH_ESCAPE.search(definition.regex):
        return LogFormat.CLOUDWATCH
    return log_format


def rendering_reason(definition: MetricDefinition, log_format: LogFormat) -> str:
    """Why `rendering_of` chose what it chose, in a user's words."""
    if definition.log_format is not None:
        return "set by the definition"
    escape = _CLOUDWATCH_ESCAPE.search(definition.regex)
    if escape is not None and log_format is LogFormat.TEXT:
        return f"its regex refers to CloudWatch's escape {escape.group().lstrip(chr(92))!r}"
    return "the job's log format"


def _compile_one(
    index: int, definition: MetricDefinition, seen: set[str], log_format: LogFormat
) -> CompiledDefinition:
    name, pattern_text = definition.name, definition.regex

    def invalid(reason: str) -> InvalidMetricDefinition:
        shown = name if len(name) <= 60 else name[:57] + "..."
        return InvalidMetricDefinition(
            f"metric definition {index} ({shown!r}): {reason}", index=index, name=name
        )

    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        raise invalid(f"the name must be 1 to {MAX_NAME_LENGTH} characters, got {len(name)}")
    if not 1 <= len(pattern_text) <= MAX_REGEX_LENGTH:
        raise invalid(
            f"the regex must be 1 to {MAX_REGEX_LENGTH} characters, got {len(pattern_text)}"
        )
    if set(name) == {"."}:
        # A URL path folds `.` and `..` (even as %2E): /metrics/.. would name the run.
        raise invalid("a name made only of dots cannot be a path segment; add a letter")
    if name in seen:
        raise invalid("the name is already used by an earlier definition; names must be unique")
    cost = pattern_cost(pattern_text)
    if cost > MAX_PATTERN_COST:
        raise invalid(
            f"the regex would expand to {cost} atoms when compiled (its counted repeats "
            f"multiply what they repeat); at most {MAX_PATTERN_COST} are allowed"
        )
    try:
        # Not kept in the module's own cache: a job's parser holds what it needs.
        pattern = regex.compile(pattern_text, cache_pattern=False)
    except regex.error as exc:
        # `msg` and `pos` exist at run time; the type stubs do not declare them.
        message, position = getattr(exc, "msg", str(exc)), getattr(exc, "pos", None)
        where = f" at position {position}" if position is not None else ""
        raise invalid(f"the regex does not compile: {message}{where}") from exc
    except (ValueError, OverflowError, RecursionError, MemoryError) as exc:
        # Huge repeat counts and deep nesting fail outside `regex.error`.
        raise invalid(f"the regex does not compile: {exc}") from exc
    unrolled = unroll_lazy_dots(pattern_text)
    if unrolled != pattern_text:
        pattern = regex.compile(unrolled, cache_pattern=False)
    if pattern.groups < 1:
        raise invalid("the regex has no capturing group; the first group's capture is the value")
    step_group = pattern.groupindex.get("step")
    if "value" in pattern.groupindex:
        value_group: int | str = "value"
    elif step_group != 1:
        value_group = 1
    elif pattern.groups >= 2:
        value_group = 2  # the first group that is not the step
    else:
        raise invalid("the regex's only group is `step`; add a group for the value")
    return CompiledDefinition(
        index=index,
        name=name,
        regex=pattern_text,
        pattern=pattern,
        value_group=value_group,
        has_step="step" in pattern.groupindex,
        rendering=rendering_of(definition, log_format),
    )
