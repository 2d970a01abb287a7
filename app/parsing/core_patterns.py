"""A definition's regex as the compiled core matches it: PCRE2 syntax that matches every
line exactly as the `regex` module does, or a reason the core leaves it to `regex`.

The pattern is read with the standard library's parser (`literals.to_re_syntax`, which
refuses what the two could read differently) and written out again node by node. What
the two engines could disagree on is not left to PCRE2:

- Every character a pattern can match (a literal, a class, `.`, a literal or class under
  case folding, `\\b`'s idea of a word character) becomes an explicit PCRE2 class of code
  points, computed by the `regex` module itself over every code point: whatever Unicode
  version and case-folding table `regex` has, the class holds exactly its members.
- `^`, `$`, `\\A` and `\\Z` become `\\A` and `\\z`: a line's text holds no `\\n`, so each
  is the text's edge in both engines. `\\b` becomes look-arounds on the explicit word
  class.
- Refused (the definition stays on the `regex` path): back-references and conditionals,
  atomic groups and possessive repeats, `\\B`, a repeat of something that can match the
  empty string (engines differ on its captures), a look-behind of varying width (PCRE2
  10.42 has none), a group inside a look-around, repeat counts above PCRE2's 65,535,
  LOCALE, and anything the standard parser cannot read.

Groups keep their numbers, so the value and step groups are the same numbers in both.
The differential tests (tests/parsing/test_core*.py) generate texts from what this
accepts and compare the core with `regex` on them.
"""

from __future__ import annotations

import array
import functools
import re
import sys
import warnings
from dataclasses import dataclass
from typing import Any

import regex

from app.parsing.literals import sre, sre_parse, to_re_syntax

__all__ = ["CorePattern", "core_pattern"]

_MAX_COUNT = 65535
# `re`'s flag bits as its parser records them, and the `regex` module's for the same.
_RE_IGNORECASE, _RE_DOTALL, _RE_ASCII, _RE_LOCALE = 2, 16, 256, 4
_KEPT = (_RE_IGNORECASE, _RE_DOTALL, _RE_ASCII)
_LETTERS = {_RE_IGNORECASE: "i", _RE_DOTALL: "s", _RE_ASCII: "a"}
_CATEGORIES = {
    sre.CATEGORY_DIGIT: r"\d",
    sre.CATEGORY_NOT_DIGIT: r"\D",
    sre.CATEGORY_SPACE: r"\s",
    sre.CATEGORY_NOT_SPACE: r"\S",
    sre.CATEGORY_WORD: r"\w",
    sre.CATEGORY_NOT_WORD: r"\W",
}
# `[:`, `[=` or `[.` after an unescaped `[`: a POSIX class (or collating element) in a set.
_POSIX_CLASS = regex.compile(r"(?<!\\)(?:\\\\)*\[[^\]]*\[[:=.]")
_REFUSED = {
    sre.GROUPREF: "a back-reference",
    sre.GROUPREF_EXISTS: "a conditional group",
    sre.ATOMIC_GROUP: "an atomic group",
    sre.POSSESSIVE_REPEAT: "a possessive repeat",
}
_EDGES = {
    sre.AT_BEGINNING: r"\A",
    sre.AT_BEGINNING_STRING: r"\A",
    sre.AT_END: r"\z",
    sre.AT_END_STRING: r"\z",
}


@dataclass(frozen=True)
class CorePattern:
    """A definition's regex for the core: its PCRE2 pattern, and the numbers of its value
    group and its step group (0: none)."""

    pcre2: str
    value_group: int
    step_group: int


class _Refused(Exception):
    """The pattern holds something the core does not take."""


def core_pattern(pattern: str, value_group: int | str, has_step: bool) -> CorePattern | str:
    """The core's form of a definition's regex.

    Args:
        pattern: the regex, as the definition has it.
        value_group: the group whose capture is the value (a number or a name).
        has_step: whether the regex has a `step` group.

    Returns:
        The pattern, or why the core leaves it to the `regex` module.
    """
    spelled = to_re_syntax(pattern)
    if spelled is None:
        return "it uses syntax only the regex module reads"
    if _POSIX_CLASS.search(spelled):
        # `regex` reads `[[:alpha:]]` as a POSIX class, the standard parser as a set
        # `[[:alph]` and a `]`, with a warning at most.
        return "a POSIX class"
    try:
        with warnings.catch_warnings():
            # A warning is the standard parser saying it may read the pattern otherwise
            # than `regex` does (a nested set): refused, not guessed at.
            warnings.simplefilter("error")
            parsed = sre_parse.parse(spelled)
    except Warning as warning:
        return f"the standard parser may read it otherwise ({warning})"
    except (re.error, OverflowError, RecursionError, ValueError) as error:
        return f"the standard parser cannot read it ({error})"
    flags = parsed.state.flags
    if flags & _RE_LOCALE:
        return "LOCALE"
    if flags & re.VERBOSE and not pattern.isascii():
        # The two parsers may not agree on which non-ASCII characters are white space.
        return "VERBOSE with non-ASCII characters"
    groups = parsed.state.groupdict
    number = groups.get(value_group) if isinstance(value_group, str) else value_group
    if number is None:
        return f"no group {value_group!r}"
    try:
        written = _Writer().sequence(list(parsed), _Scope.of(flags))
    except _Refused as refusal:
        return str(refusal)
    except RecursionError:
        return "it is nested too deeply"
    return CorePattern(written, number, groups.get("step", 0) if has_step else 0)


def _kept(flags: int) -> int:
    return sum(flag for flag in _KEPT if flags & flag)


def _letters(flags: int) -> str:
    return "".join(letter for flag, letter in _LETTERS.items() if flags & flag)


@dataclass(frozen=True)
class _Scope:
    """The flags in force at a node: `flags` as the standard parser counts them, and how
    the `regex` module sees them there (`opening`: the pattern's global flags, then each
    scoped group `(?a:...)` around the node, `depth` of them). The `regex` module does
    not read scoped flags as global ones (`(?i)(?a:[A-Z])` matches the Kelvin sign,
    `(?ia)[A-Z]` does not), so a class inside a scoped group is computed inside the
    same groups."""

    flags: int
    opening: str
    depth: int = 0

    @classmethod
    def of(cls, flags: int) -> _Scope:
        kept = _kept(flags)
        return cls(kept, f"(?{_letters(kept)})" if kept else "")

    def inner(self, add: int, remove: int) -> _Scope:
        if not _kept(add | remove):
            return self
        flags = (self.flags | _kept(add)) & ~_kept(remove)
        removed = f"-{_letters(_kept(remove))}" if _kept(remove) else ""
        return _Scope(flags, f"{self.opening}(?{_letters(_kept(add))}{removed}:", self.depth + 1)

    def members(self, source: str) -> str:
        """The explicit class of `source` (one character's worth of `regex` syntax) here."""
        return _char_class(f"{self.opening}(?:{source})+{')' * self.depth}")


class _Writer:
    """Writes a parsed pattern as PCRE2 syntax."""

    def __init__(self) -> None:
        self.in_assertion = False

    def sequence(self, items: list[tuple[Any, Any]], scope: _Scope) -> str:
        return "".join(self.node(op, av, scope) for op, av in items)

    def node(self, op: Any, av: Any, scope: _Scope) -> str:
        # Without case folding or a scoped group, a literal, `.` or a set of literals and
        # ranges matches what it lists; anything else is computed by `regex`.
        listed = not scope.flags & _RE_IGNORECASE and not scope.depth
        if op is sre.LITERAL:
            return _range(av, av) if listed else scope.members(f"\\U{av:08x}")
        if op is sre.NOT_LITERAL:
            return _outside([(av, av)]) if listed else scope.members(f"[^\\U{av:08x}]")
        if op is sre.ANY:
            if not listed:
                return scope.members(".")
            return "[\\x{0}-\\x{10ffff}]" if scope.flags & _RE_DOTALL else _outside([(10, 10)])
        if op is sre.IN:
            plain = listed and all(o in (sre.LITERAL, sre.RANGE, sre.NEGATE) for o, _ in av)
            return _plain_set(av) if plain else scope.members(_set_source(av))
        if op is sre.BRANCH:
            return "(?:" + "|".join(self.sequence(list(b), scope) for b in av[1]) + ")"
        if op is sre.SUBPATTERN:
            group, add, remove, body = av
            if (add | remove) & _RE_ASCII:
                # `regex` applies a scoped ASCII flag to the classes right in the group
                # but not in a non-capturing group inside it, nor to case folding.
                raise _Refused("a scoped (?a:...) group")
            inner = self.sequence(list(body), scope.inner(add, remove))
            if group is None:
                return f"(?:{inner})"
            if self.in_assertion:
                raise _Refused("a group inside a look-around")
            return f"({inner})"
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            return self.repeat(op, av, scope)
        if op is sre.AT:
            return self.edge(av, scope)
        if op in (sre.ASSERT, sre.ASSERT_NOT):
            return self.assertion(op, av, scope)
        raise _Refused(_REFUSED.get(op, str(op).lower()))

    def repeat(self, op: Any, av: Any, scope: _Scope) -> str:
        low, high, body = av
        if body.getwidth()[0] == 0:
            raise _Refused("a repeat of what can match the empty string")
        if low > _MAX_COUNT or (high != sre.MAXREPEAT and high > _MAX_COUNT):
            raise _Refused(f"a repeat count above {_MAX_COUNT}")
        inner = self.sequence(list(body), scope)
        count = f"{{{low},}}" if high == sre.MAXREPEAT else f"{{{low},{high}}}"
        return f"(?:{inner}){count}" + ("?" if op is sre.MIN_REPEAT else "")

    def edge(self, at: Any, scope: _Scope) -> str:
        if at in _EDGES:
            return _EDGES[at]
        if at is sre.AT_BOUNDARY:
            word = scope.members(r"\w")
            return f"(?:(?<={word})(?!{word})|(?<!{word})(?={word}))"
        raise _Refused("\\B" if at is sre.AT_NON_BOUNDARY else f"the anchor {str(at).lower()}")

    def assertion(self, op: Any, av: Any, scope: _Scope) -> str:
        direction, body = av
        low, high = body.getwidth()
        if direction < 0 and low != high:
            raise _Refused("a look-behind of varying width")
        outer, self.in_assertion = self.in_assertion, True
        try:
            inner = self.sequence(list(body), scope)
        finally:
            self.in_assertion = outer
        kind = ("(?<=" if direction < 0 else "(?=") if op is sre.ASSERT else None
        if kind is None:
            kind = "(?<!" if direction < 0 else "(?!"
        return f"{kind}{inner})"


def _plain_set(items: list[tuple[Any, Any]]) -> str:
    """A set of literals and ranges alone, without case folding: its members are its own."""
    ranges = sorted(
        (av, av) if op is sre.LITERAL else tuple(av) for op, av in items if op is not sre.NEGATE
    )
    if any(op is sre.NEGATE for op, _ in items):
        return _outside(ranges)
    return _listed(ranges)


def _outside(ranges: list[tuple[int, int]]) -> str:
    """A class of every code point but those in `ranges`."""
    kept, next_first = [], 0
    for first, last in sorted(ranges):
        if first > next_first:
            kept.append((next_first, first - 1))
        next_first = max(next_first, last + 1)
    if next_first <= 0x10FFFF:
        kept.append((next_first, 0x10FFFF))
    return _listed(kept)


def _listed(ranges: list[tuple[int, int]]) -> str:
    """A PCRE2 class of `ranges`; one that can match nothing where there are none."""
    if not ranges:
        return "(*FAIL)"
    return "[" + "".join(_range(first, last) for first, last in ranges) + "]"


def _set_source(items: list[tuple[Any, Any]]) -> str:
    """A parsed set written back for the `regex` module."""
    parts: list[str] = []
    for op, av in items:
        if op is sre.NEGATE:
            parts.insert(0, "^")
        elif op is sre.LITERAL:
            parts.append(f"\\U{av:08x}")
        elif op is sre.RANGE:
            parts.append(f"\\U{av[0]:08x}-\\U{av[1]:08x}")
        elif op is sre.CATEGORY and av in _CATEGORIES:
            parts.append(_CATEGORIES[av])
        else:
            raise _Refused(f"{str(op).lower()} in a set")
    return "[" + "".join(parts) + "]"


@functools.cache
def _every_code_point() -> str:
    """Every code point a line's text can hold (all but surrogates), in order: decoded
    from UTF-32 at C speed (a third of joining a million `chr`s)."""
    points = array.array("I", range(0xD800))
    points.extend(range(0xE000, 0x110000))
    if points.itemsize != 4:  # no 32-bit unsigned int here
        return "".join(map(chr, points))
    return points.tobytes().decode("utf-32-le" if sys.byteorder == "little" else "utf-32-be")


def _code_point(index: int) -> int:
    return index if index < 0xD800 else index + 0x800


@functools.lru_cache(maxsize=4096)
def _char_class(runs: str) -> str:
    """An explicit PCRE2 class of the code points a `regex` pattern matching runs of one
    character (`(?i)(?:x)+`) matches, as the `regex` module decides."""
    ranges: list[tuple[int, int]] = []
    for match in regex.compile(runs, regex.V0).finditer(_every_code_point()):
        first, last = _code_point(match.start()), _code_point(match.end() - 1)
        if last - first != match.end() - 1 - match.start():  # across the surrogates
            ranges += [(first, 0xD7FF), (0xE000, last)]
        else:
            ranges.append((first, last))
    return _listed(ranges)


def _range(first: int, last: int) -> str:
    if first == last:
        return f"\\x{{{first:x}}}"
    return f"\\x{{{first:x}}}-\\x{{{last:x}}}"
