"""Which regexes stay within a line, so that one search over many lines finds what a
search of each line alone would.

The parser matches each definition against each line's text. For a regex that cannot
match a line end (`\\n`) anywhere, not even inside a look-around, and that has no anchor
telling a line from a text of several (`\\A`, `\\Z`), compiling it with MULTILINE and
running it once over the region's lines joined by `\\n` gives, line by line, the same
leftmost match as searching each line: every attempt at a position sees the same
characters up to the line end, `^` and `$` match at the line's edges, `\\b` sees a
non-word character beyond them either way, and a look-behind at a line's start finds a
`\\n` it cannot match where a line alone has nothing. One C-level scan then replaces a
Python call per line.

Most regexes that could match a line end do so only through a class (`[^;]+`, `\\s`,
`\\W`), which a line's text never offers a `\\n` to: `line_bound` puts a guard before
each such class, `(?:(?!\\n)[^;])`, which changes nothing within a line and keeps the
class from the `\\n` between lines.

As in `literals`, the `regex` pattern is read with the standard library's parser, and
anything the two could read differently is refused: a refused regex is only searched
line by line, never matched wrongly.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from app.parsing.literals import sre, sre_parse, to_re_syntax

__all__ = ["line_bound", "set_end", "stays_in_line"]

_NEWLINE = ord("\n")
# Classes that hold `\n` (`\s`, `\D`, `\W`) and those that do not (`\d`, `\w`, `\S`).
_WITH_NEWLINE = {sre.CATEGORY_SPACE, sre.CATEGORY_NOT_DIGIT, sre.CATEGORY_NOT_WORD}
_WITHOUT_NEWLINE = {sre.CATEGORY_DIGIT, sre.CATEGORY_WORD, sre.CATEGORY_NOT_SPACE}
_LINE_EDGES = {sre.AT_BEGINNING, sre.AT_END, sre.AT_BOUNDARY, sre.AT_NON_BOUNDARY}


# Escapes outside a set that name a class holding `\n`.
_NEWLINE_CLASSES = frozenset("sDW")


def line_bound(pattern: str) -> str | None:
    """`pattern`, or the same pattern with guarded classes, if that provably stays in a
    line; None when neither does (the definition is then searched line by line)."""
    if stays_in_line(pattern):
        return pattern
    guarded = _guard_classes(pattern)
    return guarded if guarded is not None and stays_in_line(guarded) else None


def _guard_classes(pattern: str) -> str | None:
    """Each set, `\\s`, `\\D` and `\\W` outside a set, behind `(?!\\n)`; None for what
    this tokenizer does not read the way the `regex` module does (a `\\Q...\\E` quote)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "\\":
            escape = pattern[i : i + 2]
            if escape in ("\\Q", "\\E"):
                return None
            out.append(f"(?:(?!\\n){escape})" if escape[1:] in _NEWLINE_CLASSES else escape)
            i += 2
        elif char == "[":
            end = set_end(pattern, i)
            if end is None:
                return None
            members = pattern[i:end]
            out.append(f"(?:(?!\\n){members})" if _set_holds_newline(members) else members)
            i = end
        else:
            out.append(char)
            i += 1
    return "".join(out)


def set_end(pattern: str, start: int) -> int | None:
    """Where the set opening at `start` ends (past its `]`); None for a nested set."""
    i = start + 1
    if pattern.startswith("^", i):
        i += 1
    if pattern.startswith("]", i):  # a `]` first in a set is a member
        i += 1
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
        elif char == "[":
            return None  # `regex` nests sets (`[[a-z]--[aeiou]]`), `re` does not
        elif char == "]":
            return i + 1
        else:
            i += 1
    return None


def _set_holds_newline(members: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            parsed = list(sre_parse.parse(members))
    except (re.error, Warning, RecursionError, OverflowError, ValueError):
        return True
    if len(parsed) != 1:
        return True
    op, arg = parsed[0]
    if op is sre.IN:
        return _class_holds_newline(arg)
    return not _item_stays(op, arg, 0)  # a set of one member parses as that member


def stays_in_line(pattern: str) -> bool:
    """Whether `pattern` (known to compile) provably matches nothing across a line end
    and means the same in a text of lines as in each line (see the module's doc)."""
    translated = to_re_syntax(pattern)
    if translated is None:
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            tree = sre_parse.parse(translated)
    except (re.error, Warning, RecursionError, OverflowError, ValueError):
        return False
    flags = tree.state.flags
    if flags & re.VERBOSE and not pattern.isascii():
        return False
    try:
        return _sequence_stays(list(tree), flags)
    except RecursionError:
        return False


def _sequence_stays(items: list[tuple[Any, Any]], flags: int) -> bool:
    guarded = False
    for op, arg in items:
        # `(?!\n)` before a one-character item keeps that item from a `\n`.
        if guarded and op in (sre.IN, sre.ANY, sre.NOT_LITERAL):
            guarded = False
            continue
        guarded = op is sre.ASSERT_NOT and arg[0] == 1 and list(arg[1]) == [(sre.LITERAL, _NEWLINE)]
        if not guarded and not _item_stays(op, arg, flags):
            return False
    return True


def _item_stays(op: Any, arg: Any, flags: int) -> bool:
    if op is sre.LITERAL:
        return bool(arg != _NEWLINE)
    if op is sre.NOT_LITERAL:
        return bool(arg == _NEWLINE)
    if op is sre.ANY:
        return not flags & re.DOTALL
    if op is sre.IN:
        return not _class_holds_newline(arg)
    if op is sre.AT:
        return arg in _LINE_EDGES
    if op is sre.BRANCH:
        return all(_sequence_stays(list(branch), flags) for branch in arg[1])
    if op is sre.SUBPATTERN:
        _group, add_flags, del_flags, body = arg
        if del_flags & re.MULTILINE:
            return False  # `(?-m:^)` would not match at a line start within the region
        return _sequence_stays(list(body), (flags | add_flags) & ~del_flags)
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        return _sequence_stays(list(arg[2]), flags)
    if op is sre.ATOMIC_GROUP:
        return _sequence_stays(list(arg), flags)
    if op in (sre.ASSERT, sre.ASSERT_NOT):
        return _sequence_stays(list(arg[1]), flags)
    if op is sre.GROUPREF:
        return True  # repeats a group's text, which stays in the line
    if op is sre.GROUPREF_EXISTS:
        _group, yes, no = arg
        return _sequence_stays(list(yes), flags) and (
            no is None or _sequence_stays(list(no), flags)
        )
    return False  # anything else: not proven


def _class_holds_newline(items: list[tuple[Any, Any]]) -> bool:
    negated = False
    holds = False
    for op, arg in items:
        if op is sre.NEGATE:
            negated = True
        elif op is sre.LITERAL:
            holds = holds or arg == _NEWLINE
        elif op is sre.RANGE:
            holds = holds or arg[0] <= _NEWLINE <= arg[1]
        elif op is sre.CATEGORY:
            if arg in _WITH_NEWLINE:
                holds = True
            elif arg not in _WITHOUT_NEWLINE:
                return True  # a class this does not know: assume the worst
        else:
            return True
    return holds != negated
