"""From a line's raw bytes to the text the definitions are matched against."""

from __future__ import annotations

import re

from app.parsing.definitions import LogFormat

__all__ = [
    "CLEANED",
    "REMOVED_FIRST",
    "clean_text_lines",
    "dirty_lines",
    "line_text",
    "plain_line_text",
    "render_lines",
]

# What cleaning a `text` line removes: CSI (`ESC [ ... final`) and OSC (`ESC ] ... BEL` or
# `ESC ] ... ESC \`) sequences, then any other C0 control character but tab. Text lines
# never hold `\n` or `\r`; the OSC body excludes `\n` anyway so that lines joined by `\n`
# clean exactly as one by one. The run page removes the same from the lines it shows
# (it is handed this source, which JavaScript reads alike).
CLEANED = r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)|[\x00-\x08\x0b-\x1f]"
# `render_lines` cleans in two steps: CLEANED's ESC sequences, then each character its
# class removes. Deleting every other byte (`bytes.translate`) leaves those a text holds.
_ESC = 0x1B
_ESCAPE_SEQUENCES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b\n]*(?:\x07|\x1b\\))")
_CLEANED_ALONE = {*range(0x00, 0x09), *range(0x0B, 0x20)}
_NOT_CLEANED = bytes(sorted({*range(256)} - _CLEANED_ALONE))
# What CloudWatch (through the syslog agent SageMaker uses) shows as `#` and three octal
# digits: C0 control characters, `\r` and DEL included, `\n` being the line end.
_SHOWN_IN_OCTAL = {*range(0x00, 0x0A), *range(0x0B, 0x20), 0x7F}
_NOT_SHOWN_IN_OCTAL = bytes(sorted({*range(256)} - _SHOWN_IN_OCTAL))
# The bytes that cleaning removes or that start a removed sequence (but `\r`, a line end
# in text logs): a line holding one may match only after cleaning, so literal hits in its
# raw bytes do not tell which definitions may match it. All of them become NUL in one
# `translate`, which `bytes.find` then skips through at C speed (a regex character class
# over the chunk costs ten times more).
REMOVED_FIRST = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_MARK_DIRTY = bytes.maketrans(REMOVED_FIRST, b"\x00" * len(REMOVED_FIRST))
_MARK_DIRTY_AND_CR = bytes.maketrans(REMOVED_FIRST + b"\r", b"\x00" * (len(REMOVED_FIRST) + 1))


def line_text(raw: bytes, log_format: LogFormat, max_bytes: int) -> str:
    """Decode and clean one line for matching (`render_lines` of it alone).

    Args:
        raw: the line's bytes, without its line end.
        log_format: `text` removes ANSI sequences and control characters but tab
            (`CLEANED`); `cloudwatch` renders control characters as `#ooo`.
        max_bytes: only the line's first `max_bytes` bytes are matched; a character cut
            by that limit is dropped whole.

    Returns:
        The text, with undecodable bytes as U+FFFD.
    """
    return render_lines([raw], log_format, max_bytes)


def plain_line_text(raw: bytes, max_bytes: int) -> str:
    """`line_text` of a `text` line known to hold no byte that cleaning removes."""
    return _truncate(raw, max_bytes).decode("utf-8", "replace")


def clean_text_lines(raws: list[bytes], max_bytes: int) -> list[str]:
    """`line_text` of many `text` lines at once (`render_lines`)."""
    return render_lines(raws, LogFormat.TEXT, max_bytes).split("\n")


def render_lines(raws: list[bytes], rendering: LogFormat, max_bytes: int) -> str:
    """`line_text` of many lines, joined by `\\n`: one decode for all, and the control
    characters the text holds, read from its bytes at C speed, dealt with in C loops.

    For a `text` rendering, cleaning goes in two steps: first the ESC sequences, which a
    regex finds from their literal ESC, then every other character that `CLEANED` removes
    by `str.replace`. That removes what `CLEANED` does (a character it removes alone is
    never inside a sequence but an OSC's body, which goes whole in both), at a tenth of
    the cost of its character class tried at each position. Neither rendering touches a
    `\\n`, so each line's text is exactly what `line_text` gives for it alone.
    """
    joined = b"\n".join(_truncate(raw, max_bytes) for raw in raws)
    text = joined.decode("utf-8", "replace")
    # Decoding keeps every ASCII byte as it is, so the text holds the controls the bytes do.
    if rendering is LogFormat.CLOUDWATCH:
        for code in set(joined.translate(None, _NOT_SHOWN_IN_OCTAL)):
            text = text.replace(chr(code), f"#{code:03o}")
        return text
    removed = set(joined.translate(None, _NOT_CLEANED))
    if _ESC in removed:
        text = _ESCAPE_SEQUENCES.sub("", text)
    for code in removed:
        text = text.replace(chr(code), "")
    return text


def dirty_lines(hay: bytes, carriage_return: bool = False) -> list[tuple[int, int]]:
    """The lines of `hay` (ended by `\\n`) that hold a byte cleaning removes.

    Args:
        hay: whole lines of a text log whose `\\r`s are already `\\n`s.
        carriage_return: whether a `\\r` in a line counts too (lines of a log that
            ends lines at `\\n` only, cleaned as text).

    Returns:
        (start, end) of each such line, in order; `end` is its `\\n` or `len(hay)`.
    """
    marked = hay.translate(_MARK_DIRTY_AND_CR if carriage_return else _MARK_DIRTY)
    spans = []
    position = marked.find(b"\x00")
    while position >= 0:
        end = hay.find(b"\n", position)
        if end < 0:
            end = len(hay)
        spans.append((hay.rfind(b"\n", 0, position) + 1, end))
        position = marked.find(b"\x00", end)
    return spans


def _truncate(raw: bytes, max_bytes: int) -> bytes:
    return raw if len(raw) <= max_bytes else raw[: _char_boundary(raw, max_bytes)]


def _char_boundary(raw: bytes, limit: int) -> int:
    # Step back over UTF-8 continuation bytes so the cut falls between characters.
    cut = limit
    while cut > limit - 3 and cut > 0 and 0x80 <= raw[cut] <= 0xBF:
        cut -= 1
    return cut
