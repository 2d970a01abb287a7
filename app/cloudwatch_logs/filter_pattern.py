"""CloudWatch Logs' filter patterns, the part served: terms, quoted phrases and `?term`
alternatives, matched against an event's message as CloudWatch matches them.

`ERROR timeout` matches a message holding both terms; `"Epoch 3"` the phrase; `?ERROR
?WARN` either; `loss ?train ?valid` loss and one of the two. Matching is case-sensitive;
an empty pattern matches every event. Any other syntax (JSON `{ ... }`, space-delimited
`[ ... ]`, `%regex%`, `-term` exclusions, `*` wildcards) is refused, never read as terms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.cloudwatch_logs.errors import invalid_parameter

__all__ = ["FilterPattern", "parse_filter_pattern"]

_TOKEN = re.compile(r'\s*(\??)(?:"((?:[^"\\]|\\.)*)"|([^\s"]+))')
_UNSERVED = re.compile(r"[{}\[\]%*]|^-")


@dataclass(frozen=True)
class FilterPattern:
    """Every one of `terms`, and one of `alternatives` if there are any."""

    terms: tuple[str, ...]
    alternatives: tuple[str, ...]

    def matches(self, message: str) -> bool:
        return all(term in message for term in self.terms) and (
            not self.alternatives or any(term in message for term in self.alternatives)
        )


def parse_filter_pattern(pattern: str) -> FilterPattern:
    """Raises: LogsError (InvalidParameterException) for syntax this service does not
    serve, or a phrase left open."""
    terms: list[str] = []
    alternatives: list[str] = []
    position = 0
    text = pattern.strip()
    while position < len(text):
        found = _TOKEN.match(text, position)
        if found is None:
            raise _refused(pattern, "a quoted phrase is left open")
        optional, phrase, word = found.groups()
        if word is not None and _UNSERVED.search(word):
            raise _refused(
                pattern,
                "only terms, quoted phrases and ?term alternatives are served, not JSON, "
                "space-delimited, regex, exclusion or wildcard patterns",
            )
        term = word if word is not None else re.sub(r"\\(.)", r"\1", phrase)
        (alternatives if optional else terms).append(term)
        position = found.end()
    return FilterPattern(tuple(terms), tuple(alternatives))


def _refused(pattern: str, why: str) -> Exception:
    return invalid_parameter(f"Invalid filter pattern {pattern[:200]!r}: {why}.")
