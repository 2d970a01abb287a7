"""Where a log's lines end: the one place that says it.

A `text` log ends a line at `\\n`, `\\r\\n` or a lone `\\r` (each redraw of a progress bar
is a line). A `cloudwatch` log ends one at `\\n` only: a `\\r` there is text, which the
CloudWatch rendering shows as `#015`. Line ends are ASCII bytes, never inside a UTF-8
sequence, so lines are cut from raw bytes before anything is decoded.

In a stream cut into chunks, a `\\r\\n` may fall across two of them. As httpx's
`LineDecoder` does, the `\\r` ends the line at once and the framer says so
(`ends_with_cr`); the caller carries that into the next chunk and skips a `\\n` that
opens it (`StreamState.skip_lf`), so the pair counts as one line end, never two.
"""

from __future__ import annotations

from app.parsing.definitions import LogFormat

__all__ = ["LineFramer"]

_CR_TO_LF = bytes.maketrans(b"\r", b"\n")


class LineFramer:
    """Cuts one log format's bytes into lines. Stateless: what carries over between the
    chunks of a stream is the caller's (`StreamState`). `cr_ends` says whether a `\r`
    ends a line (the run page is handed it, to cut a log's tail as the parser does)."""

    def __init__(self, log_format: LogFormat) -> None:
        self.log_format = log_format
        self.cr_ends = log_format is LogFormat.TEXT

    def first_end(self, chunk: bytes, pos: int = 0) -> int:
        """Where the first line end at or after `pos` is, or -1."""
        newline = chunk.find(b"\n", pos)
        if not self.cr_ends:
            return newline
        carriage = chunk.find(b"\r", pos)
        if newline < 0 or carriage < 0:
            return max(newline, carriage)
        return min(newline, carriage)

    def after_end(self, chunk: bytes, end: int) -> int:
        """Where the next line starts, after the line end at `end`."""
        return end + (2 if self.cr_ends and chunk[end : end + 2] == b"\r\n" else 1)

    def region_end(self, chunk: bytes, pos: int = 0) -> int:
        """Where the last whole line from `pos` on ends (past its line end), or `pos`
        when no line ends there: `chunk[pos:region_end]` is a region of whole lines."""
        last = chunk.rfind(b"\n", pos)
        if self.cr_ends:
            last = max(last, chunk.rfind(b"\r", pos))
        return last + 1 if last >= 0 else pos

    def ends_with_cr(self, chunk: bytes, region_end: int) -> bool:
        """Whether the chunk's last line end is a `\\r` at its very end, which a `\\n`
        opening the next chunk would complete as `\\r\\n`."""
        return self.cr_ends and 0 < region_end == len(chunk) and chunk[-1:] == b"\r"

    def count(self, data: bytes, lf_ended: bytes | None = None) -> int:
        """How many lines end in `data` (a `\r\n` ends one).

        Args:
            lf_ended: `with_lf_ends(data)`, if the caller has it: a pass fewer.
        """
        if not self.cr_ends:
            return data.count(b"\n")
        if b"\r" not in data:
            return data.count(b"\n")
        ends = (
            lf_ended.count(b"\n") if lf_ended is not None else data.count(b"\n") + data.count(b"\r")
        )
        return ends - data.count(b"\r\n")

    def pieces(self, region: bytes) -> list[bytes]:
        """A region's lines, each with its line end."""
        if self.cr_ends:
            # `bytes.splitlines` ends lines at `\n`, `\r\n` and `\r` only, as text logs do.
            return region.splitlines(keepends=True)
        return [piece + b"\n" for piece in region.split(b"\n")[:-1]]

    def strip_end(self, piece: bytes) -> bytes:
        """A line without its line end."""
        if self.cr_ends:
            return piece.rstrip(b"\r\n")
        return piece[:-1] if piece.endswith(b"\n") else piece

    def lines(self, log: bytes) -> list[bytes]:
        """A whole log's lines without their line ends; the last need not end."""
        if self.cr_ends:
            return log.splitlines()
        lines = log.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        return lines

    def with_lf_ends(self, region: bytes) -> bytes:
        """The region, of the same length, with every line end a `\\n` (a `\\r\\n` becomes
        an empty line in between): positions carry over, and one byte finds them all."""
        return region.translate(_CR_TO_LF) if self.cr_ends and b"\r" in region else region
