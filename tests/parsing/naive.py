"""The naive oracle: every line, every definition, `regex.search`.

The tests' oracle (tests/parsing/test_differential.py), and the benchmark's baseline and
yardstick (`python -m bench` times it, and every faster way of parsing must find its
points): one parser, owned by the tests. Written from the parsing contract (README), not
from `app.parsing`, so that comparing its points with the service's checks both: it
shares only the value rules
(`parse_value`, `parse_step`). Lines end at `\\n`, `\\r\\n` or a lone `\\r` (text) or
at `\\n` only (cloudwatch); each is cut to its first `max_line_bytes` bytes between
characters, decoded as UTF-8 with U+FFFD for bad bytes, and cleaned (text: ANSI CSI
and OSC sequences and C0 controls but tab removed; cloudwatch: controls as `#ooo`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import regex

from app.parsing import LogFormat, MetricDefinition
from app.parsing.values import parse_step, parse_value
from app.records import Point

__all__ = ["NaiveResult", "PointRow", "naive_parse", "rows_of"]

# (metric, value, step, line, offset): a stored point's identity, offset included.
PointRow = tuple[str, float, int, int, int]

_TEXT_JUNK = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: ESC [ parameters intermediates final
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC: ESC ] text, ended by BEL or ESC \
    r"|[\x00-\x08\x0a-\x1f]"  # any other C0 control character but tab
)
_CLOUDWATCH_CONTROLS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
# A regex that names a CloudWatch escape (`#011`, ..., `#037`, `#177`) is matched against
# CloudWatch's rendering unless its definition says otherwise.
_CLOUDWATCH_ESCAPE = re.compile(r"#(?:0[0-3][0-7]|177)")


@dataclass(frozen=True)
class NaiveResult:
    lines: int
    points: list[PointRow]


@dataclass(frozen=True)
class _Definition:
    name: str
    pattern: regex.Pattern[str]
    value_group: int | str
    has_step: bool
    rendering: LogFormat


def naive_parse(
    definitions: Sequence[MetricDefinition],
    log: bytes,
    log_format: LogFormat = LogFormat.TEXT,
    max_line_bytes: int = 64 * 1024,
) -> NaiveResult:
    """Parse a whole log as one stream: every definition searched on every line.

    Returns:
        The line count and the points as `(metric, value, step, line, offset)`, steps
        numbered per metric where the regex has no integer `step` capture.
    """
    compiled = [_compile(d, log_format) for d in definitions]
    counts = {d.name: 0 for d in compiled}
    points: list[PointRow] = []
    offset = 0
    number = 0
    for number, piece in enumerate(_raw_lines(log, log_format), 1):
        start = offset
        offset += len(piece)
        raw = _strip_line_end(piece, log_format)
        texts = {
            rendering: _line_text(raw, rendering, max_line_bytes)
            for rendering in {d.rendering for d in compiled}
        }
        for definition in compiled:
            match = definition.pattern.search(texts[definition.rendering])
            if match is None:
                continue
            capture = match.group(definition.value_group)
            value = parse_value(capture) if capture is not None else None
            if value is None:
                continue
            counts[definition.name] += 1
            step = parse_step(match.group("step")) if definition.has_step else None
            if step is None:
                step = counts[definition.name]
            points.append((definition.name, value, step, number, start))
    return NaiveResult(number, points)


def rows_of(points: Iterable[Point]) -> list[PointRow]:
    """Numbered parser points as the oracle's rows (every `step` must be set)."""
    rows = []
    for point in points:
        assert point.step is not None, "number the points first"
        rows.append((point.metric, point.value, point.step, point.line, point.offset))
    return rows


def _compile(definition: MetricDefinition, log_format: LogFormat) -> _Definition:
    pattern = regex.compile(definition.regex)
    names = pattern.groupindex
    value_group: int | str
    if "value" in names:
        value_group = "value"
    elif names.get("step") == 1:
        value_group = 2
    else:
        value_group = 1
    rendering = definition.log_format or (
        LogFormat.CLOUDWATCH if _CLOUDWATCH_ESCAPE.search(definition.regex) else log_format
    )
    return _Definition(definition.name, pattern, value_group, "step" in names, rendering)


def _raw_lines(log: bytes, log_format: LogFormat) -> list[bytes]:
    """The lines with their line ends, the last one possibly without."""
    if log_format is LogFormat.TEXT:
        # For bytes, `splitlines` ends lines at exactly `\n`, `\r\n` and `\r`.
        return log.splitlines(keepends=True)
    pieces = log.split(b"\n")
    lines = [piece + b"\n" for piece in pieces[:-1]]
    if pieces[-1]:
        lines.append(pieces[-1])
    return lines


def _strip_line_end(piece: bytes, log_format: LogFormat) -> bytes:
    if log_format is LogFormat.CLOUDWATCH:  # lines end at `\n` only: a `\r` is text
        return piece[:-1] if piece.endswith(b"\n") else piece
    if piece.endswith(b"\r\n"):
        return piece[:-2]
    if piece.endswith((b"\n", b"\r")):
        return piece[:-1]
    return piece


def _line_text(raw: bytes, log_format: LogFormat, max_bytes: int) -> str:
    if len(raw) > max_bytes:
        cut = max_bytes
        # Back over at most three UTF-8 continuation bytes: the cut falls before the
        # character they belong to.
        while cut > max_bytes - 3 and raw[cut] & 0xC0 == 0x80:
            cut -= 1
        raw = raw[:cut]
    text = raw.decode("utf-8", "replace")
    if log_format is LogFormat.CLOUDWATCH:
        return _CLOUDWATCH_CONTROLS.sub(lambda m: f"#{ord(m.group()):03o}", text)
    return _TEXT_JUNK.sub("", text)
