"""A faster spelling of `.*?` where what follows it can only start with a few characters.

SageMaker's XGBoost regexes read `\\[(?<step>[0-9]+)\\].*?(?:\\t|#011)validation-error:`:
the lazy `.*?` walks the line one character at a time, trying the rest of the regex at
each, and on the dense corpus it is half of the `regex` module's time. When every match
of what follows (its continuation) starts with a character of a known set F that holds
no `\\n`, the rest can only match where such a character stands, so

    .*?   becomes   (?>[^F\\n]*)(?:[F](?>[^F\\n]*))*?

which skips to each character of F in turn, in one step, and tries the rest there: the
same positions, in the same order, as `.*?` tries with success (at any other position the
continuation fails at once), so every match, every capture and every backtracking path
into it are the same. The atomic groups give nothing back that could matter: a position
they skip holds no character of F.

The continuation is read through what matches no character (`\\b`, `\\B`) and out of a
group the `.*?` ends when that group is matched once: in SageMaker's own example
`Loss = (.*?);` the continuation is the `;`. Only what this module reads for certain is
rewritten; anything else (inline flags, which may fold case or let `.` match `\\n`, a
continuation that may match empty or starts with a class, an atomic or repeated group
around the `.*?`) leaves the `.*?` as it is.

Every definition's pattern is compiled so (`compile_definitions`), and so is the
MULTILINE form of those run over a whole region.
"""

from __future__ import annotations

from app.parsing.bounds import set_end

__all__ = ["unroll_lazy_dots"]

_LAZY_DOT = ".*?"
# Escapes that stand for one character.
_CHARACTER_ESCAPES = {"t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a"}
# After `(?`: the groups and look-arounds this module knows; any other letter is a flag.
_GROUP_OPENERS = (":", "=", "!", "<", "P", ">")
_LOOK_AROUNDS = ("(?=", "(?!", "(?<=", "(?<!")
_METACHARACTERS = frozenset(".^$*+?{}[]\\|()")
# Quantifiers that let the item before them match nothing.
_MAYBE_EMPTY = frozenset("?*{")
# Assertions between two characters, which match none.
_WORD_BOUNDARIES = ("\\b", "\\B")


def unroll_lazy_dots(pattern: str) -> str:
    """`pattern` with each `.*?` whose continuation's first characters are known
    rewritten as the module's doc says; `pattern` itself when there is none."""
    if _LAZY_DOT not in pattern or _has_inline_flags(pattern):
        return pattern
    out: list[str] = []
    # Where each group open around here starts. None is rewritten inside a look-around:
    # one matched backwards (a look-behind) tries positions in another order.
    opened: list[int] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if char == "[":
            end = set_end(pattern, i)
            if end is None:
                return pattern
            out.append(pattern[i:end])
            i = end
            continue
        if char == "(":
            opened.append(i)
        elif char == ")" and opened:
            opened.pop()
        elif pattern.startswith(_LAZY_DOT, i) and not _in_look_around(pattern, opened):
            first = _first_characters(pattern, i + len(_LAZY_DOT), opened)
            out.append(_LAZY_DOT if first is None else _skipping(first))
            i += len(_LAZY_DOT)
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _skipping(first: frozenset[str]) -> str:
    members = "".join(_escaped(char) for char in sorted(first))
    return f"(?>[^{members}\\n]*)(?:[{members}](?>[^{members}\\n]*))*?"


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _has_inline_flags(pattern: str) -> bool:
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
        elif pattern[i] == "[":
            end = set_end(pattern, i)
            if end is None:
                return True
            i = end
        elif pattern.startswith("(?", i):
            if not pattern.startswith(_GROUP_OPENERS, i + 2):
                return True
            i += 2
        else:
            i += 1
    return False


def _in_look_around(pattern: str, opened: list[int]) -> bool:
    return any(pattern.startswith(_LOOK_AROUNDS, start) for start in opened)


def _first_characters(pattern: str, start: int, opened: list[int]) -> frozenset[str] | None:
    """The characters every match of what follows `start` begins with, if it is a
    literal character or a group whose every alternative begins with one, and cannot
    match nothing; None otherwise.

    A `\\b` or `\\B` there matches no character: what follows it begins the match. So
    does the end of a group that the `.*?` ends (`opened`: where the groups open around
    `start` begin), when the group is matched once: what follows the group begins it.
    """
    if pattern.startswith(_WORD_BOUNDARIES, start):
        if _repeated(pattern, start + 2):
            return None
        return _first_characters(pattern, start + 2, opened)
    if pattern.startswith(")", start):
        if not opened or _group_body_start(pattern, opened[-1]) is None:
            return None  # a look-around, an atomic group, or another kind
        if _repeated(pattern, start + 1):
            return None
        return _first_characters(pattern, start + 1, opened[:-1])
    if pattern.startswith("(", start):
        return _group_first_characters(pattern, start)
    literal = _literal_at(pattern, start)
    if literal is None:
        return None
    char, end = literal
    return frozenset(char) if not _maybe_empty(pattern, end) else None


def _group_first_characters(pattern: str, start: int) -> frozenset[str] | None:
    body = _group_body_start(pattern, start)
    if body is None:
        return None
    first: set[str] = set()
    i, depth, alternative_start = body, 0, True
    while i < len(pattern):
        char = pattern[i]
        if alternative_start:
            literal = _literal_at(pattern, i)
            if literal is None or _maybe_empty(pattern, literal[1]):
                return None
            first.add(literal[0])
            alternative_start = False
        if char == "\\":
            i += 2
        elif char == "[":
            end = set_end(pattern, i)
            if end is None:
                return None
            i = end
        elif char == "(":
            depth += 1
            i += 1
        elif char == ")":
            if depth == 0:
                # The group as a whole must not be optional either.
                return frozenset(first) if not _maybe_empty(pattern, i + 1) else None
            depth -= 1
            i += 1
        elif char == "|" and depth == 0:
            alternative_start = True
            i += 1
        else:
            i += 1
    return None


def _group_body_start(pattern: str, start: int) -> int | None:
    """Where the body of the group opening at `start` begins: after `(`, `(?:`,
    `(?<name>` or `(?P<name>`; None for look-arounds and other groups."""
    if not pattern.startswith("(?", start):
        return start + 1
    for opener in ("(?:", "(?<", "(?P<"):
        if pattern.startswith(opener, start):
            if opener == "(?:":
                return start + 3
            if pattern.startswith(("(?<=", "(?<!"), start):
                return None
            close = pattern.find(">", start)
            name = pattern[start + len(opener) : close]
            return close + 1 if close > 0 and name.isidentifier() else None
    return None


def _literal_at(pattern: str, i: int) -> tuple[str, int] | None:
    """The one character the item at `i` matches, and where the item ends."""
    if i >= len(pattern):
        return None
    char = pattern[i]
    if char == "\\":
        escaped = pattern[i + 1 : i + 2]
        if escaped in _CHARACTER_ESCAPES:
            return _CHARACTER_ESCAPES[escaped], i + 2
        if escaped and escaped.isascii() and not escaped.isalnum() and escaped != "\n":
            return escaped, i + 2
        return None  # classes, anchors, references, `\x..` and the like
    if char in _METACHARACTERS or char == "\n":
        return None
    return char, i + 1


def _maybe_empty(pattern: str, after: int) -> bool:
    return pattern[after : after + 1] in _MAYBE_EMPTY


def _repeated(pattern: str, after: int) -> bool:
    """Whether a quantifier follows the item ending at `after`."""
    return _maybe_empty(pattern, after) or pattern.startswith("+", after)
