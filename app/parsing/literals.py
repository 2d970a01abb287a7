"""Literals that every match of a regex must contain, for the prefilter.

A line can only match a definition if it contains one of the definition's required
literals, so a fast multi-literal scan over a whole chunk finds the few lines worth
running the regex on. The extraction must never promise a literal the regex does not
need: a wrong literal silently drops points. So it gives up (returns None) whenever it is
not sure, and the parser then runs that definition on every line.

The `regex` module has no public parse tree; this reads patterns with the standard
library's `re` parser, which accepts a subset of `regex` syntax. Where the two could
read the same text differently (nested sets, fuzzy `{e<=1}` constraints, flags that only
`regex` knows) the pattern is refused rather than guessed at.
"""

from __future__ import annotations

import importlib
import re
import warnings
from dataclasses import dataclass
from typing import Any

from app.records import LogFormat

# `re._parser` is the standard library's own regex parser (`sre_parse` before 3.11). It
# is private, so a change in a later Python would make patterns fail to parse, which
# only costs speed: every failure here falls back to running the regex on every line.
sre_parse: Any = importlib.import_module("re._parser")
sre: Any = importlib.import_module("re._constants")

__all__ = ["Literal", "required_literals", "to_re_syntax"]

# Caseless matching in `regex` makes these ASCII letters equal to non-ASCII ones
# (i ~ U+0130, s ~ U+017F, k ~ U+212A), so an ASCII-caseless scan could miss a match.
_CASELESS_UNSAFE = frozenset("iIsSkK")
# The parser removes (text) or re-renders as `#ooo` (cloudwatch) these characters, and
# U+FFFD stands for undecodable bytes: none of them can be looked for in the raw bytes.
_C0 = frozenset(chr(c) for c in range(0x20)) - {"\t"}
_ALWAYS_BROKEN = frozenset("\n\r\ufffd")
_BREAKS = {
    LogFormat.TEXT: _ALWAYS_BROKEN | _C0,
    # Rendering turns a control character into `#` and three octal digits, so those
    # characters in a pattern may stand for a control character in the raw bytes.
    LogFormat.CLOUDWATCH: _ALWAYS_BROKEN | _C0 | {"\t", "\x7f"} | frozenset("#01234567"),
}
_MAX_ALTERNATIVES = 64
_QUANTIFIER = re.compile(r"\{[0-9]*(?:,[0-9]*)?\}")


@dataclass(frozen=True)
class Literal:
    """UTF-8 bytes that a match contains; `caseless` means in either ASCII case."""

    text: bytes
    caseless: bool


Factor = frozenset[Literal]


def required_literals(pattern: str, log_format: LogFormat) -> tuple[Literal, ...] | None:
    """Find literals of which every match of `pattern` on a line contains at least one.

    Args:
        pattern: a regex in the `regex` module's syntax, already known to compile.
        log_format: the job's log format; it decides which characters a literal may hold.

    Returns:
        The alternatives, or None when no such set can be given with certainty.
    """
    translated = to_re_syntax(pattern)
    if translated is None:
        return None
    try:
        with warnings.catch_warnings():
            # `re` warns where `regex` reads a set differently (`[[:alpha:]]`, `--`).
            warnings.simplefilter("error")
            tree = sre_parse.parse(translated)
    except (re.error, Warning, RecursionError, OverflowError, ValueError):
        return None
    flags = tree.state.flags
    if flags & re.VERBOSE and not pattern.isascii():
        # The two parsers may not agree on which non-ASCII characters are white space.
        return None
    try:
        factor = _best_of_sequence(list(tree), flags, _BREAKS[log_format])
    except RecursionError:  # groups nested deeper than Python recurses: no literal
        return None
    if factor is None:
        return None
    return tuple(sorted(factor, key=lambda literal: (literal.text, literal.caseless)))


def to_re_syntax(pattern: str) -> str | None:
    """Rewrite `regex`-only spellings that `re` reads the same way, or refuse the pattern."""
    out: list[str] = []
    i, n, in_set = 0, len(pattern), False
    while i < n:
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i : i + 2])
            i += 2
        elif in_set:
            in_set = char != "]"
            out.append(char)
            i += 1
        elif char == "[":
            in_set = True
            j = i + 1
            if pattern.startswith("^", j):
                j += 1
            if pattern.startswith("]", j):  # a `]` first in a set is a member
                j += 1
            out.append(pattern[i:j])
            i = j
        elif char == "{":
            quantifier = _QUANTIFIER.match(pattern, i)
            if quantifier is None:
                return None  # a fuzzy constraint in `regex`, a literal brace in `re`
            out.append(quantifier.group())
            i = quantifier.end()
        elif pattern.startswith("(?<", i) and pattern[i + 3 : i + 4] not in ("=", "!"):
            out.append("(?P<")  # `regex` also names groups as `(?<name>...)`
            i += 3
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _best_of_sequence(
    items: list[tuple[Any, Any]], flags: int, breaks: frozenset[str]
) -> Factor | None:
    """The most selective factor that every match of this sequence contains."""
    factors: list[Factor] = []
    run: list[str] = []
    run_caseless = False

    def end_run() -> None:
        if run:
            factors.append(frozenset({Literal("".join(run).encode(), run_caseless)}))
            run.clear()

    for op, arg in items:
        if op is sre.LITERAL:
            char = chr(arg)
            caseless = bool(flags & re.IGNORECASE)
            cased = char.lower() != char.upper()
            usable = char not in breaks and (
                not caseless or not cased or (char.isascii() and char not in _CASELESS_UNSAFE)
            )
            if not usable:
                end_run()
                continue
            if run and caseless != run_caseless:
                end_run()
            run_caseless = caseless
            run.append(char)
            continue
        end_run()
        factor = _factor_of(op, arg, flags, breaks)
        if factor is not None:
            factors.append(factor)
    end_run()
    return max(factors, key=_selectivity, default=None)


def _factor_of(op: Any, arg: Any, flags: int, breaks: frozenset[str]) -> Factor | None:
    if op is sre.SUBPATTERN:
        _group, add_flags, del_flags, body = arg
        return _best_of_sequence(list(body), (flags | add_flags) & ~del_flags, breaks)
    if op is sre.ATOMIC_GROUP:
        return _best_of_sequence(list(arg), flags, breaks)
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        low, _high, body = arg
        return _best_of_sequence(list(body), flags, breaks) if low >= 1 else None
    if op is sre.BRANCH:
        union: set[Literal] = set()
        for branch in arg[1]:
            factor = _best_of_sequence(list(branch), flags, breaks)
            if factor is None:
                return None  # one branch needs no literal, so the alternation needs none
            union |= factor
        return frozenset(union) if len(union) <= _MAX_ALTERNATIVES else None
    return None  # classes, anchors, look-arounds, back-references: no literal


def _selectivity(factor: Factor) -> tuple[int, int]:
    # The shortest alternative bounds how rare a hit is; fewer alternatives break ties.
    return min(len(literal.text) for literal in factor), -len(factor)
