"""What a user's regex may cost, judged from its text before it is compiled.

The `regex` module expands counted repeats when it compiles: `(a{1000007})` takes
about 200 MB, `((?:ab|cd){1000000})` overflows the C stack and kills the process. So
the size a pattern expands to is bounded first: every atom counts 1, each alternative
1 more, and a counted repeat `{n}`, `{n,m}` or `{n,}` multiplies what it repeats by its
largest count (n + 1 for `{n,}`), through every level of nesting. `*`, `+` and `?` are
loops, not copies, and multiply nothing.

The scan is conservative: it never counts less than the compiled pattern holds, and
may count more (text in a verbose pattern's comments counts as atoms).
"""

from __future__ import annotations

import re

__all__ = ["MAX_PATTERN_COST", "pattern_cost"]

# About 2.5 MB compiled at most (measured: `((?:ab|cd){400})`, cost 2,002); 40 such
# definitions stay near 100 MB.
MAX_PATTERN_COST = 2_000

_COUNTED = re.compile(r"\{(\d*)(,(\d*))?\}")
_BRACED_ESCAPES = "pPNxuUg"  # \p{L}, \N{DASH}, \x{263a}, \g<1> ...: one atom, not a repeat


def pattern_cost(pattern: str) -> int:
    """The size `pattern` may expand to when compiled, in atoms (see the module)."""
    # One frame per open group: (its cost so far, the cost of its last item).
    frames: list[list[int]] = [[0, 0]]
    i, end = 0, len(pattern)
    while i < end:
        char = pattern[i]
        frame = frames[-1]
        if char == "\\":
            i = _after_escape(pattern, i)
            frame[0] += 1
            frame[1] = 1
            continue
        if char == "[":
            i = _after_class(pattern, i)
            frame[0] += 1
            frame[1] = 1
            continue
        if char == "(":
            if pattern.startswith("(?#", i):
                close = pattern.find(")", i)
                i = end if close < 0 else close + 1
                continue
            frames.append([0, 0])
            i += 1
            continue
        if char == ")" and len(frames) > 1:
            inner = frames.pop()[0]
            frames[-1][0] += inner
            frames[-1][1] = inner
            i += 1
            continue
        if char == "{":
            counted = _COUNTED.match(pattern, i)
            if counted is not None and (counted.group(1) or counted.group(3)):
                low = int(counted.group(1) or 0)
                high = counted.group(3)
                times = low + 1 if counted.group(2) and not high else max(low, int(high or 0))
                frame[0] += frame[1] * (times - 1)
                frame[1] *= times
                i = counted.end()
                continue
        if char in "*+?":
            i += 1
            continue
        frame[0] += 1  # a literal, `.`, `|`, `^`, `$`, or a `{` that is no repeat
        frame[1] = 1
        i += 1
    while len(frames) > 1:  # unbalanced: the compiler will refuse it; count it all
        inner = frames.pop()[0]
        frames[-1][0] += inner
    return frames[0][0]


def _after_escape(pattern: str, i: int) -> int:
    if i + 1 >= len(pattern):
        return i + 1
    if pattern[i + 1] in _BRACED_ESCAPES and i + 2 < len(pattern) and pattern[i + 2] in "{<":
        close = pattern.find("}" if pattern[i + 2] == "{" else ">", i + 3)
        return len(pattern) if close < 0 else close + 1
    return i + 2


def _after_class(pattern: str, i: int) -> int:
    """The position after the character class opening at `i` (nested sets included)."""
    depth, i = 1, i + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1  # a `]` first is a literal
    while i < len(pattern) and depth:
        char = pattern[i]
        if char == "\\":
            i = _after_escape(pattern, i)
            continue
        if pattern.startswith("[:", i):
            close = pattern.find(":]", i + 2)
            if close >= 0:
                i = close + 2
                continue
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        i += 1
    return i
