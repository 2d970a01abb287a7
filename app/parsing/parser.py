"""The streaming parser: a stream's bytes in, points out.

A `Parser` holds one job's compiled definitions and is immutable and thread-safe; the
state of each stream (offset, line count, the line not yet ended) is a `StreamState`
that the caller keeps and hands back with the next chunk. Feeding a stream in any split
gives the same points as feeding it whole.

Lines are cut from the raw bytes (`framing`), then decoded: line ends are ASCII, never
inside a UTF-8 sequence, so this decodes exactly as the whole stream would, and a
character split across two chunks lies whole in the held partial line.

A chunk's whole lines form a region. The definitions the compiled core takes (`core`:
PCRE2 and Hyperscan, where the extension is built) are matched there in one call, and the
lines it hands back by the `regex` module; the others are matched in Python, in two ways
that give the same points: definitions that provably stay within a line and may match on
many of its lines run once over the region (`bounds`, `Matcher.region`; a `.*?` there
skips ahead, `unroll`); the others are searched line by line on the lines a literal scan
picks (`screening`). The regexes alone decide what matches.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import regex

from app.parsing.bounds import line_bound
from app.parsing.core import CompiledCore, core_reason, core_status
from app.parsing.definitions import CompiledDefinition, LogFormat
from app.parsing.framing import LineFramer
from app.parsing.lines import line_text, plain_line_text, render_lines
from app.parsing.matching import (
    NOT_A_NUMBER,
    OVER_BUDGET,
    SUSPENDED,
    TIMED_OUT,
    ChunkResult,
    Collector,
    LineWork,
    Matcher,
    ParserLimits,
    RegionText,
    in_line_order,
)
from app.parsing.screening import Candidate, LiteralScreen
from app.parsing.unroll import unroll_lazy_dots
from app.records import StreamState

__all__ = [
    "NOT_A_NUMBER",
    "OVER_BUDGET",
    "SUSPENDED",
    "TIMED_OUT",
    "ChunkResult",
    "Parser",
    "ParserLimits",
]

# A screened line-bound definition runs over the whole region when its literals occur in
# the region's first _WIDE_SAMPLE bytes at least once in _WIDE_SHARE lines (and at least
# _WIDE_HITS times): then one scan costs less than a call per line.
_WIDE_SHARE = 16
_WIDE_HITS = 8
_WIDE_SAMPLE = 64 * 1024
_NONE: frozenset[int] = frozenset()


class Parser:
    """Applies one job's metric definitions to its log streams."""

    def __init__(
        self,
        definitions: Sequence[CompiledDefinition],
        log_format: LogFormat = LogFormat.TEXT,
        limits: ParserLimits | None = None,
        scanner: str = "auto",
    ) -> None:
        """
        Args:
            definitions: the job's compiled definitions, in order.
            log_format: how bytes are cut into lines (and cleaned, for definitions that
                do not ask for another rendering).
            limits: per-line bounds; defaults as in `ParserLimits`.
            scanner: `auto`, `hyperscan` or `find` to pick candidate lines with a
                literal scan, or `none` to search every definition on every line.
        """
        self.definitions = tuple(definitions)
        self.log_format = log_format
        self.framer = LineFramer(log_format)
        self._scanner = scanner
        self.limits = limits or ParserLimits()
        renderings = sorted({definition.rendering for definition in self.definitions})
        # Definitions matched against another rendering than the job's (a pasted
        # SageMaker regex with `#011` in a text job) get a part of their own: the lines
        # are cut once, and each part matches its definitions in its rendering.
        self._parts = tuple(
            Parser([d for d in self.definitions if d.rendering is r], log_format, limits, scanner)
            for r in (renderings if len(renderings) > 1 else ())
        )
        self.rendering = renderings[0] if len(renderings) == 1 else log_format
        mine = () if self._parts else self.definitions
        # The compiled core matches the definitions it takes; the `regex` module the rest,
        # and whatever lines the core leaves to it.
        self._core = (
            CompiledCore.build(mine, log_format, self.rendering, self.limits)
            if scanner == "auto"
            else None
        )
        if self._core is not None:
            mine = tuple(d for d in mine if d.index not in self._core.indices)
        self._screen = LiteralScreen(mine, self.rendering, scanner)
        bounds = {d.index: line_bound(d.regex) for d in (() if scanner == "none" else mine)}
        bounded = {
            index: regex.compile(unroll_lazy_dots(bound), regex.MULTILINE, cache_pattern=False)
            for index, bound in bounds.items()
            if bound is not None
        }
        self._matcher = Matcher(self.definitions, self.limits, bounded)
        self._order = {definition.name: definition.index for definition in self.definitions}
        # Each part gives its points in line order; together they are put in order again.
        self._merged = self._order if self._parts else None
        # Keep the partial line one byte past the limit: `line_text` looks at that byte
        # to cut at a character boundary, exactly as it does for a line seen whole.
        self._keep = self.limits.max_line_bytes + 1

    def matched_by(self) -> dict[str, str]:
        """How each definition is matched, by name: `compiled core`, or `regex module`
        and why (the core is off or not built, or does not take its regex)."""
        if self._parts:
            ways = {name: how for part in self._parts for name, how in part.matched_by().items()}
            return {definition.name: ways[definition.name] for definition in self.definitions}
        taken = self._core.indices if self._core is not None else frozenset()
        status = core_status()
        ways = {}
        for definition in self.definitions:
            if definition.index in taken:
                ways[definition.name] = "compiled core"
            elif status.startswith("pure Python"):
                ways[definition.name] = f"regex module: {status.removeprefix('pure Python: ')}"
            elif self._scanner != "auto":
                ways[definition.name] = f"regex module: the parser's scanner is {self._scanner!r}"
            else:
                why = core_reason(definition) or "PCRE2 refused its translation"
                ways[definition.name] = f"regex module: {why}"
        return ways

    def feed(self, state: StreamState, chunk: bytes, budget: float | None = None) -> ChunkResult:
        """Parse the next chunk of a stream.

        Args:
            state: the stream's state after the previous chunk (`StreamState()` at first).
            chunk: the bytes that follow, any length, any content.
            budget: CPU seconds each definition may spend on this chunk; by default
                `limits.cpu_budget(len(chunk))`.

        Returns:
            The points and rejections of the lines the chunk completes, and the new state.
        """
        out = Collector(
            self.limits.rejections_kept,
            self.limits.cpu_budget(len(chunk)) if budget is None else budget,
        )
        lines = state.lines
        partial, partial_length = state.partial, state.partial_length
        pos = 1 if state.skip_lf and chunk[:1] == b"\n" else 0
        framer = self.framer
        if partial_length and pos < len(chunk):
            end = framer.first_end(chunk, pos)
            if end < 0:
                kept = partial + chunk[pos : pos + self._keep - len(partial)]
                partial_length += len(chunk) - pos
                return out.result(
                    StreamState(state.next_offset + len(chunk), lines, kept, partial_length), 0
                )
            raw = partial + chunk[pos : min(end, pos + self._keep - len(partial))]
            self._match_partial(raw, lines + 1, state.next_offset - partial_length, out)
            lines += 1
            partial, partial_length = b"", 0
            pos = framer.after_end(chunk, end)

        region_end = framer.region_end(chunk, pos)
        if region_end > pos:
            lines += self._parse_region(
                chunk[pos:region_end], state.next_offset + pos, lines + 1, out
            )
        # A `\r` ending the chunk waits for the `\n` that may open the next one.
        skip_lf = framer.ends_with_cr(chunk, region_end) or (state.skip_lf and not chunk)
        if region_end < len(chunk):
            partial = chunk[region_end : region_end + self._keep]
            partial_length = len(chunk) - region_end
        new_state = StreamState(
            state.next_offset + len(chunk), lines, partial, partial_length, skip_lf
        )
        return out.result(new_state, lines - state.lines, self._merged)

    def finish(self, state: StreamState) -> ChunkResult:
        """Parse the line still held at the end of a stream, if any."""
        out = Collector(self.limits.rejections_kept, self.limits.cpu_budget(len(state.partial)))
        if not state.partial_length:
            return out.result(StreamState(state.next_offset, state.lines), 0)
        start = state.next_offset - state.partial_length
        self._match_partial(state.partial, state.lines + 1, start, out)
        return out.result(StreamState(state.next_offset, state.lines + 1), 1, self._merged)

    # Matching.

    def _parse_region(self, region: bytes, base: int, first_line: int, out: Collector) -> int:
        """Match the whole lines of `region`, which starts a line and ends a line; the
        lines are cut once for all the parts."""
        if not self.definitions:
            return self.framer.count(region)
        # A `\r\n` becomes an empty line in between, which no literal and no control byte
        # can fall in.
        hay = self.framer.with_lf_ends(region)
        for matcher in self._parts or (self,):
            matcher._match_region(region, hay, base, first_line, out)
        return self.framer.count(region, hay)

    def _match_region(
        self, region: bytes, hay: bytes, base: int, first_line: int, out: Collector
    ) -> None:
        """Match this parser's definitions against the region's lines (`hay`: the region
        with `\n` line ends)."""
        mark = len(out.points)
        deferred = self._core.scan(region, base, first_line, out) if self._core else []
        cr_in_lines = self.log_format is LogFormat.CLOUDWATCH
        wide = self._wide(hay)
        candidates: dict[int, Candidate] = {}
        # The literal scan picks lines for the screened definitions searched line by line.
        if any(index not in wide for index in self._screen.screened):
            limit = self.limits.max_line_bytes
            screen = self._screen
            candidates = screen.candidates(region, hay, cr_in_lines, self._keep, limit, wide)
        core_end = len(out.points)
        if wide:
            self._match_wide(region, base, first_line, wide, out)
        self._matcher.lines(self._lines(region, hay, base, first_line, candidates, wide), out)
        regex_end = len(out.points)
        self._matcher.lines(deferred, out)
        # Each source gave its points in line order (the core's, the regex module's, the
        # lines the core handed back): where more than one did, or definitions ran over
        # the whole region, one line's points go in the order of the definitions.
        sources = (core_end > mark) + (regex_end > core_end) + (len(out.points) > regex_end)
        if wide or sources > 1:
            out.points[mark:] = in_line_order(out.points[mark:], self._order)

    def _wide(self, hay: bytes) -> frozenset[int]:
        """The line-bound definitions to run once over the region: those run on every line,
        and screened ones whose literals occur often in its first bytes (a sample: this
        only decides how to search, never what matches)."""
        bounded = self._matcher.bounded
        if not bounded:
            return _NONE
        sample = hay[:_WIDE_SAMPLE]
        hits = self._screen.hits(sample)
        enough = max(_WIDE_HITS, (sample.count(b"\n") + 1) / _WIDE_SHARE)
        screened = self._screen.screened
        return frozenset(i for i in bounded if i not in screened or hits.get(i, 0) >= enough)

    def _match_wide(
        self, region: bytes, base: int, first_line: int, wide: frozenset[int], out: Collector
    ) -> None:
        """Run each of the `wide` definitions once over all the region's lines."""
        pieces = self.framer.pieces(region)
        offsets = list(itertools.accumulate((len(p) for p in pieces[:-1]), initial=base))
        text = RegionText(
            render_lines([self.framer.strip_end(p) for p in pieces], self.rendering, self._keep - 1)
        )
        always = {definition.index for definition in self._screen.always}
        for index in sorted(wide):

            def may_match(line: str, index: int = index) -> bool:
                return index in always or index in self._screen.screen(line.encode())

            self._matcher.region(text, (first_line, offsets), index, out, may_match)

    def _lines(
        self,
        region: bytes,
        hay: bytes,
        base: int,
        first_line: int,
        candidates: dict[int, Candidate],
        wide: frozenset[int],
    ) -> Iterator[LineWork]:
        """The lines to search one by one, with the definitions not run over the whole
        region: every line when some definition has no literal, else those the literal
        scan picked."""
        always = tuple(d for d in self._screen.always if d.index not in wide)
        if always:
            start = 0
            for number, piece in enumerate(self.framer.pieces(region), first_line):
                candidate = candidates.get(start)
                text = candidate.text if candidate is not None else None
                if text is None:
                    text = self._line_text(self.framer.strip_end(piece)[: self._keep])
                screened = candidate.definitions if candidate is not None else _NONE
                yield LineWork(text, number, base + start, self._chosen(screened, always))
                start += len(piece)
            return
        cleaned = self.rendering is LogFormat.TEXT
        # Every line end is a `\n` of `hay`, but a `\r\n` there counts two.
        crlf = self.log_format is LogFormat.TEXT and b"\r\n" in region
        number, counted_to = first_line, 0
        for start in sorted(candidates):
            candidate = candidates[start]
            number += hay.count(b"\n", counted_to, start)
            if crlf:
                number -= region.count(b"\r\n", counted_to, start)
            counted_to = start
            text = candidate.text
            if text is None:
                raw = region[start : min(candidate.end, start + self._keep)]
                # Lines with bytes that cleaning removes all have their text already.
                max_line = self.limits.max_line_bytes
                text = plain_line_text(raw, max_line) if cleaned else self._line_text(raw)
            yield LineWork(text, number, base + start, self._chosen(candidate.definitions, ()))

    def _match_partial(self, raw: bytes, number: int, offset: int, out: Collector) -> None:
        """Match a line assembled from a held partial line: one line, screened directly."""
        if self._parts:
            for part in self._parts:
                part._match_partial(raw, number, offset, out)
            return
        text = self._line_text(raw)
        screened = frozenset(self._screen.screen(text.encode()))
        always: Sequence[CompiledDefinition] = self._screen.always
        if self._core is not None:
            always = sorted([*always, *self._core.definitions], key=lambda d: d.index)
        work = LineWork(text, number, offset, self._chosen(screened, always))
        self._matcher.lines((work,), out)

    def _line_text(self, raw: bytes) -> str:
        return line_text(raw, self.rendering, self.limits.max_line_bytes)

    def _chosen(
        self, screened: frozenset[int], always: Sequence[CompiledDefinition]
    ) -> Sequence[CompiledDefinition]:
        """The `always` definitions and the `screened` ones, in the job's order."""
        if not screened:
            return always
        if not always:
            return self._matcher.in_order(screened)
        return sorted([*always, *self._matcher.in_order(screened)], key=lambda d: d.index)
