"""Why a definition matched nothing: does its literal text occur in the log at all?

A regex that matches no line is the commonest mistake, and the question a user asks
first is whether the text it looks for is there: "`validation-auc:` occurs in 40 lines,
but the regex matched none" points at the regex; "occurs in no line" points at the log
or at the rendering.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.parsing.literals import Literal, required_literals
from app.records import LogFormat

__all__ = ["hint_literals", "lines_holding", "unmatched_hint"]

_SHOWN = 4  # alternatives named in a hint


def hint_literals(pattern: str) -> tuple[Literal, ...] | None:
    """Literals of which every match of `pattern` holds one, as text that reads the same
    in both renderings: no `#`, octal digit or control character (so `validation-auc:`
    for SageMaker's `...#011validation-auc:(...)`). None when there is no such text."""
    found = required_literals(pattern, LogFormat.CLOUDWATCH)
    if not found:
        return None
    return found


def lines_holding(literals: tuple[Literal, ...], lines: Iterable[bytes]) -> int:
    """How many of `lines` hold one of `literals` (a caseless one in either ASCII case)."""
    count = 0
    for line in lines:
        lowered = line.lower()
        if any(
            literal.text.lower() in lowered and (literal.caseless or literal.text in line)
            for literal in literals
        ):
            count += 1
    return count


def unmatched_hint(literals: tuple[Literal, ...], holding: int) -> str:
    """The hint for a definition that matched no line, given how many lines held its text."""
    named = [f"`{literal.text.decode('utf-8', 'replace')}`" for literal in literals[:_SHOWN]]
    shown = " or ".join(named) + (" or ..." if len(literals) > _SHOWN else "")
    if holding == 0:
        return f"{shown} occurs in no line"
    lines = "line" if holding == 1 else "lines"
    return f"{shown} occurs in {holding} {lines}, but the regex matched none"
