"""The streaming parser: a stream's bytes in, points out.

A `Parser` holds one job's compiled definitions and is immutable and thread-safe; the
state of each stream (offset, line count, the line not yet ended) is a `StreamState`
that the caller keeps and hands back with the next chunk. Feeding a stream in any split
gives the same points as feeding it whole.

Lines are cut from the raw bytes and decoded one at a time: line ends are ASCII and
never occur inside a UTF-8 sequence, so this decodes exactly as the whole stream would,
and a character split across two chunks lies whole in the held partial line.

Most lines of a training log match nothing. Where a definition's regex needs a literal
(`Loss = ` in `Loss = (.*?);`), one scan of the chunk for all such literals picks the
candidate lines, and only those are decoded and matched; definitions without a usable
literal run on every line. The regexes alone decide what matches, so the scan can only
change the speed, never the points.
"""

from __future__ import annotations

import bisect
import itertools
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import regex

from app.parsing.bounds import line_bound
from app.parsing.definitions import CompiledDefinition, LogFormat
from app.parsing.lines import (
    clean_text_lines,
    count_line_ends,
    dirty_lines,
    line_text,
    plain_line_text,
    render_lines,
)
from app.parsing.literals import Literal, required_literals
from app.parsing.prefilter import LiteralScanner, build_scanner
from app.parsing.values import parse_step, parse_value
from app.records import Point, Rejection, StreamState

__all__ = ["ChunkResult", "Parser", "ParserLimits"]

NOT_A_NUMBER = "not a finite number"
TIMED_OUT = "timed out"
SUSPENDED = "skipped: the regex timed out too often in this chunk"
OVER_BUDGET = "skipped: the regex used up its CPU time for this chunk"
_CR_TO_LF = bytes.maketrans(b"\r", b"\n")
_LINE_END = regex.compile("\n")
# A screened line-bound definition runs over the whole region when its literals occur in
# the region's first _WIDE_SAMPLE bytes at least once in _WIDE_SHARE lines (and at least
# _WIDE_HITS times): then one scan costs less than a call per line.
_WIDE_SHARE = 16
_WIDE_HITS = 8
_WIDE_SAMPLE = 64 * 1024


@dataclass(frozen=True)
class ParserLimits:
    """Bounds on the work one line may cost.

    `max_line_bytes`: a longer line is matched on its first `max_line_bytes` bytes.
    `regex_timeout`: seconds one regex may search one line before the line is skipped
    for that definition. `timeouts_per_chunk`: after that many time-outs in one chunk,
    a definition is skipped for the rest of the chunk (each skipped line counts as a
    time-out), so a hostile regex costs at most that many time-outs' worth of CPU per
    chunk. `rejections_kept`: how many rejections per definition a result keeps as
    examples (all are counted). `cpu_budget`: the CPU time a definition may spend on a
    chunk, summed over its lines, so lines that each stay just under the time-out
    cannot add up to minutes.
    """

    max_line_bytes: int = 64 * 1024
    regex_timeout: float = 0.005
    timeouts_per_chunk: int = 10
    rejections_kept: int = 5
    cpu_floor: float = 0.05
    cpu_per_kib: float = 0.001

    def cpu_budget(self, size: int) -> float:
        """Seconds of CPU one definition may spend on `size` bytes in all: `cpu_floor`
        plus `cpu_per_kib` a KiB. Then it skips the rest (each line counted as a time-out)."""
        return self.cpu_floor + self.cpu_per_kib * size / 1024


@dataclass(frozen=True)
class ChunkResult:
    """What one chunk (or the end of a stream) yielded.

    `rejected` and `timeouts` count per metric; `rejections` keeps the latest
    `ParserLimits.rejections_kept` examples of each metric, in stream order;
    `cpu_spent` is the most CPU time (seconds) any one definition spent.
    """

    state: StreamState
    lines: int
    points: tuple[Point, ...]
    rejections: tuple[Rejection, ...]
    rejected: Mapping[str, int] = field(default_factory=dict)
    timeouts: Mapping[str, int] = field(default_factory=dict)
    cpu_spent: float = field(default=0.0, compare=False)


class _Candidate(NamedTuple):
    """A line that may match screened definitions: where it ends, which ones, its text."""

    end: int
    definitions: frozenset[int]
    text: str | None  # the cleaned text, where screening needed it


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
            log_format: how bytes are cut into lines and cleaned.
            limits: per-line bounds; defaults as in `ParserLimits`.
            scanner: `auto`, `hyperscan` or `regex` to pick candidate lines with a
                literal scan, or `none` to run every definition on every line.
        """
        self.definitions = tuple(definitions)
        self.log_format = log_format
        self.limits = limits or ParserLimits()
        renderings = sorted({definition.rendering for definition in self.definitions})
        # Definitions matched against another rendering than the job's (a pasted
        # SageMaker regex with `#011` in a text job) get a parser of their own over the
        # same lines: the lines are cut the same way, so the states agree.
        self._parts = (
            tuple(
                Parser(
                    [d for d in self.definitions if d.rendering is rendering],
                    log_format,
                    limits,
                    scanner,
                )
                for rendering in renderings
            )
            if len(renderings) > 1
            else ()
        )
        self.rendering = renderings[0] if len(renderings) == 1 else log_format
        # A part's definitions keep their index in the job: `_match` looks them up by it.
        self._by_index = {definition.index: definition for definition in self.definitions}
        self._always: tuple[CompiledDefinition, ...] = ()
        literals: dict[Literal, set[int]] = {}
        always = []
        for definition in () if self._parts else self.definitions:
            found = (
                None if scanner == "none" else required_literals(definition.regex, self.rendering)
            )
            if found is None:
                always.append(definition)
            for literal in found or ():
                literals.setdefault(literal, set()).add(definition.index)
        self._always = tuple(always)
        # Definitions whose regex stays within a line (`bounds`), compiled to run once over
        # a region of many lines where they may match on many of them.
        bounds = {
            definition.index: line_bound(definition.regex)
            for definition in (() if scanner == "none" or self._parts else self.definitions)
        }
        self._bounded = {
            index: regex.compile(bound, regex.MULTILINE, cache_pattern=False)
            for index, bound in bounds.items()
            if bound is not None
        }
        self._order = {definition.name: definition.index for definition in self.definitions}
        self._literals = tuple(literals)
        # Which definitions need each literal, by the literal's index.
        self._owners = tuple(frozenset(owners) for owners in literals.values())
        self._screened = frozenset(index for owners in self._owners for index in owners)
        self._scanner: LiteralScanner | None = (
            build_scanner(self._literals, scanner) if self._literals else None
        )
        # Keep the partial line one byte past the limit: `line_text` looks at that byte
        # to cut at a character boundary, exactly as it does for a line seen whole.
        self._keep = self.limits.max_line_bytes + 1
        self._max_line = self.limits.max_line_bytes

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
        if self._parts:
            return self._merged([part.feed(state, chunk, budget) for part in self._parts])
        out = _Collector(
            self.limits.rejections_kept,
            self.limits.cpu_budget(len(chunk)) if budget is None else budget,
        )
        lines = state.lines
        partial, partial_length = state.partial, state.partial_length
        pos = 1 if state.skip_lf and chunk[:1] == b"\n" else 0
        skip_lf = state.skip_lf and not chunk

        if partial_length and pos < len(chunk):
            end = self._first_line_end(chunk, pos)
            if end < 0:
                kept = partial + chunk[pos : pos + self._keep - len(partial)]
                partial_length += len(chunk) - pos
                return out.result(
                    StreamState(state.offset + len(chunk), lines, kept, partial_length), 0
                )
            raw = partial + chunk[pos : min(end, pos + self._keep - len(partial))]
            self._match_partial(raw, lines + 1, state.offset - partial_length, out)
            lines += 1
            partial, partial_length = b"", 0
            pos = self._after_line_end(chunk, end)

        region_end = self._last_line_end(chunk, pos)
        if region_end > pos:
            lines += self._parse_region(chunk[pos:region_end], state.offset + pos, lines + 1, out)
        if region_end > 0 and region_end == len(chunk) and chunk[-1:] == b"\r":
            skip_lf = self.log_format is LogFormat.TEXT
        if region_end < len(chunk):
            partial = chunk[region_end : region_end + self._keep]
            partial_length = len(chunk) - region_end
        new_state = StreamState(state.offset + len(chunk), lines, partial, partial_length, skip_lf)
        return out.result(new_state, lines - state.lines)

    def finish(self, state: StreamState) -> ChunkResult:
        """Parse the line still held at the end of a stream, if any."""
        if self._parts:
            return self._merged([part.finish(state) for part in self._parts])
        out = _Collector(self.limits.rejections_kept, self.limits.cpu_budget(len(state.partial)))
        if not state.partial_length:
            return out.result(StreamState(state.offset, state.lines), 0)
        start = state.offset - state.partial_length
        self._match_partial(state.partial, state.lines + 1, start, out)
        return out.result(StreamState(state.offset, state.lines + 1), 1)

    def _merged(self, results: Sequence[ChunkResult]) -> ChunkResult:
        """One result from the parts' results for the same lines: points in line order,
        then in the order of the job's definitions, as one parser would give them."""
        order = {definition.name: definition.index for definition in self.definitions}
        points = sorted(
            (point for result in results for point in result.points),
            key=lambda point: (point.line, order[point.metric]),
        )
        rejections = sorted(
            (rejection for result in results for rejection in result.rejections),
            key=lambda rejection: (rejection.line, rejection.metric),
        )
        first = results[0]
        return ChunkResult(
            first.state,
            first.lines,
            tuple(points),
            tuple(rejections),
            {name: n for result in results for name, n in result.rejected.items()},
            {name: n for result in results for name, n in result.timeouts.items()},
            max(result.cpu_spent for result in results),
        )

    # Cutting lines.

    def _first_line_end(self, chunk: bytes, pos: int) -> int:
        newline = chunk.find(b"\n", pos)
        if self.log_format is LogFormat.CLOUDWATCH:
            return newline
        carriage = chunk.find(b"\r", pos)
        if newline < 0 or carriage < 0:
            return max(newline, carriage)
        return min(newline, carriage)

    def _after_line_end(self, chunk: bytes, end: int) -> int:
        return end + (2 if chunk[end : end + 2] == b"\r\n" else 1)

    def _last_line_end(self, chunk: bytes, pos: int) -> int:
        last = chunk.rfind(b"\n", pos)
        if self.log_format is LogFormat.TEXT:
            last = max(last, chunk.rfind(b"\r", pos))
        return last + 1 if last >= 0 else pos

    # Matching.

    def _parse_region(self, region: bytes, base: int, first_line: int, out: _Collector) -> int:
        """Match the whole lines of `region`, which starts a line and ends a line."""
        line_count = count_line_ends(region, self.log_format)
        if not self.definitions:
            return line_count
        text_log = self.log_format is LogFormat.TEXT
        # Same length, so positions carry over; `\r\n` becomes an empty line in between,
        # which no literal and no control byte can fall in.
        hay = region.translate(_CR_TO_LF) if text_log and b"\r" in region else region
        wide = self._wide(hay)
        # The literal scan picks lines for the screened definitions left to search line by
        # line; when every one runs over the whole region, it has nothing to pick.
        narrow = any(index not in wide for index in self._screened)
        candidates = self._candidates(region, hay) if narrow else {}
        if wide:
            mark = len(out.points)
            self._match_wide(region, base, first_line, wide, out)
            candidates = {
                start: candidate._replace(definitions=candidate.definitions - wide)
                for start, candidate in candidates.items()
                if candidate.definitions - wide or self._always
            }
            self._match_candidates(region, hay, base, first_line, candidates, wide, out)
            # One line's points in the order of the definitions, as line by line.
            order = self._order
            out.points[mark:] = sorted(out.points[mark:], key=lambda p: (p.line, order[p.metric]))
        else:
            self._match_candidates(region, hay, base, first_line, candidates, wide, out)
        return line_count

    def _match_candidates(
        self,
        region: bytes,
        hay: bytes,
        base: int,
        first_line: int,
        candidates: dict[int, _Candidate],
        wide: frozenset[int],
        out: _Collector,
    ) -> None:
        """Match, line by line, the definitions not matched over the whole region."""
        text_log = self.log_format is LogFormat.TEXT
        cleaned = self.rendering is LogFormat.TEXT
        if any(definition.index not in wide for definition in self._always):
            self._match_every_line(region, base, first_line, candidates, out, wide)
            return
        # Every line end is a `\n` of `hay`, but a `\r\n` there counts two.
        crlf = text_log and b"\r\n" in region
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
                text = plain_line_text(raw, self._max_line) if cleaned else self._line_text(raw)
            self._match(text, number, base + start, candidate.definitions, out)

    def _wide(self, hay: bytes) -> frozenset[int]:
        """The line-bound definitions to run once over the region: those run on every line,
        and screened ones whose literals occur often in its first bytes (a sample: this
        only decides how to search, never what matches)."""
        if not self._bounded:
            return frozenset()
        sample = hay[:_WIDE_SAMPLE]
        lines = sample.count(b"\n") + 1
        lowered = sample.lower() if any(literal.caseless for literal in self._literals) else b""
        hits: dict[int, int] = {}
        for literal, owners in zip(self._literals, self._owners, strict=True):
            found = (lowered if literal.caseless else sample).count(literal.text)
            if found:
                for index in owners:
                    hits[index] = hits.get(index, 0) + found
        return frozenset(
            index
            for index in self._bounded
            if index not in self._screened
            or hits.get(index, 0) >= max(_WIDE_HITS, lines / _WIDE_SHARE)
        )

    def _match_wide(
        self,
        region: bytes,
        base: int,
        first_line: int,
        wide: frozenset[int],
        out: _Collector,
    ) -> None:
        """Run each of the `wide` definitions once over all the region's lines."""
        always = {definition.index for definition in self._always}
        if self.log_format is LogFormat.TEXT:
            pieces = region.splitlines(keepends=True)
            raws = [piece.rstrip(b"\r\n") for piece in pieces]
        else:
            pieces = [piece + b"\n" for piece in region.split(b"\n")[:-1]]
            raws = [piece[:-1] for piece in pieces]
        starts = list(itertools.accumulate((len(piece) for piece in pieces[:-1]), initial=0))
        text = render_lines(raws, self.rendering, self.limits.max_line_bytes)
        line_starts = [0]
        line_starts += [match.end() for match in _LINE_END.finditer(text)]
        for index in sorted(wide):
            definition = self._by_index[index]
            name = definition.name
            left = out.budget - out.spent.get(name, 0.0)
            last = -1  # the last line with a match: lines up to it are done
            started = time.thread_time()
            try:
                if left <= 0:
                    raise TimeoutError
                matches = self._bounded[index].finditer(text, 0, None, False, True, False, left)
                for match in matches:
                    line = bisect.bisect_right(line_starts, match.start()) - 1
                    if line != last:
                        last = line
                        self._record(definition, match, first_line + line, base + starts[line], out)
            except TimeoutError:
                # Slow here: the rest of the lines one by one, under their own time-outs
                # (those the literal scan picked, for a screened definition).
                for line in range(last + 1, len(raws)):
                    end = line_starts[line + 1] - 1 if line + 1 < len(line_starts) else len(text)
                    line_text = text[line_starts[line] : end]
                    if index not in always and index not in self._screen(line_text.encode()):
                        continue
                    self._match_definitions(
                        line_text,
                        first_line + line,
                        base + starts[line],
                        (definition,),
                        out,
                    )
                continue
            finally:
                out.spent[name] = out.spent.get(name, 0.0) + time.thread_time() - started

    def _candidates(self, region: bytes, hay: bytes) -> dict[int, _Candidate]:
        """The lines of `region` that may match a screened definition, by start.

        `hay` is `region` with a text log's `\\r`s turned into `\\n`s.
        """
        if self._scanner is None:
            return {}
        found: dict[int, tuple[int, set[int]]] = {}
        line_start, line_end, owners = 0, -1, set[int]()
        for position, literal in self._scanner.scan(hay):
            if not line_start <= position < line_end:
                line_start = hay.rfind(b"\n", 0, position) + 1
                line_end = hay.find(b"\n", position)
                owners = found.setdefault(line_start, (line_end, set()))[1]
            owners |= self._owners[literal]
        candidates: dict[int, _Candidate] = {}
        for start, (end, definitions) in found.items():
            candidates[start] = _Candidate(end, frozenset(definitions), None)
        if self.rendering is LogFormat.TEXT:
            # A `\r` inside a line (lines end at `\n` only) is cleaned away too.
            spans = dirty_lines(hay, carriage_return=self.log_format is LogFormat.CLOUDWATCH)
            for start, _ in spans:
                candidates.pop(start, None)
            candidates.update(self._dirty_candidates(region, spans))
        return candidates

    def _dirty_candidates(
        self, region: bytes, spans: Sequence[tuple[int, int]]
    ) -> dict[int, _Candidate]:
        """Lines holding control bytes that may match once cleaned.

        Cleaning can join a literal that an escape sequence split, so what the raw
        bytes held says nothing; the cleaned lines are screened again, all in one scan.
        """
        if not spans or self._scanner is None:
            return {}
        raws = [region[start : min(end, start + self._keep)] for start, end in spans]
        texts = clean_text_lines(raws, self.limits.max_line_bytes)
        screened: dict[int, set[int]] = {}
        joined = "\n".join(texts).encode()
        line, counted_to = 0, 0
        for position, literal in sorted(self._scanner.scan(joined)):
            line += joined.count(b"\n", counted_to, position)
            counted_to = position
            screened.setdefault(line, set()).update(self._owners[literal])
        return {
            spans[line][0]: _Candidate(spans[line][1], frozenset(found), texts[line])
            for line, found in screened.items()
        }

    def _screen(self, line: bytes) -> set[int]:
        """The screened definitions whose literals `line` holds, tested one by one."""
        lowered = line.lower()
        return {
            owner
            for literal, owners in zip(self._literals, self._owners, strict=True)
            if literal.text.lower() in lowered and (literal.caseless or literal.text in line)
            for owner in owners
        }

    def _match_every_line(
        self,
        region: bytes,
        base: int,
        first_line: int,
        candidates: dict[int, _Candidate],
        out: _Collector,
        skip: frozenset[int] = frozenset(),
    ) -> None:
        always = tuple(d for d in self._always if d.index not in skip)
        if self.log_format is LogFormat.TEXT:
            # `bytes.splitlines` ends lines at `\n`, `\r\n` and `\r` only, as text logs do.
            pieces = region.splitlines(keepends=True)
        else:
            pieces = [piece + b"\n" for piece in region.split(b"\n")[:-1]]
        start = 0
        no_screened: frozenset[int] = frozenset()
        for number, piece in enumerate(pieces, first_line):
            candidate = candidates.get(start)
            text = candidate.text if candidate is not None else None
            if text is None:
                raw = piece.rstrip(b"\r\n") if self.log_format is LogFormat.TEXT else piece[:-1]
                text = self._line_text(raw[: self._keep])
            screened = candidate.definitions if candidate is not None else no_screened
            self._match(text, number, base + start, screened, out, always)
            start += len(piece)

    def _match_partial(self, raw: bytes, number: int, offset: int, out: _Collector) -> None:
        """Match a line assembled from a held partial line: one line, screened directly."""
        text = self._line_text(raw)
        self._match(text, number, offset, frozenset(self._screen(text.encode())), out)

    def _search(
        self, definition: CompiledDefinition, text: str, concurrent: bool = True
    ) -> regex.Match[str] | None:
        # Positional (pos, endpos, concurrent, partial, timeout): keyword arguments cost
        # the `regex` module a microsecond a call, as much as a short search. `concurrent`
        # releases the GIL while matching: a slow regex of one job does not stall the
        # threads ingesting for others.
        return definition.pattern.search(
            text, 0, None, concurrent, False, self.limits.regex_timeout
        )

    def _search_again(
        self, definition: CompiledDefinition, text: str
    ) -> tuple[regex.Match[str] | None, bool]:
        """After a time-out: the match, and whether the regex really is slow.

        The `regex` module times a search by a clock that runs while the thread waits:
        for a core, and, with `concurrent`, for the GIL to come back. With many runs
        ingesting on few cores, searches that need microseconds time out. So the search
        is tried again holding the GIL, until it has used the budget in this thread's
        own CPU time; only then has the line timed out. A slow regex holds the GIL for
        one budget a line, at most `timeouts_per_chunk` times a chunk.
        """
        cpu_mark = time.thread_time()
        while time.thread_time() - cpu_mark < self.limits.regex_timeout:
            try:
                return self._search(definition, text, concurrent=False), False
            except TimeoutError:
                continue
        return None, True

    def _line_text(self, raw: bytes) -> str:
        return line_text(raw, self.rendering, self.limits.max_line_bytes)

    def _match(
        self,
        text: str,
        number: int,
        offset: int,
        screened: frozenset[int],
        out: _Collector,
        always: Sequence[CompiledDefinition] | None = None,
    ) -> None:
        """Run the always-run definitions (or `always`) and the `screened` ones on a line."""
        definitions: Sequence[CompiledDefinition] = self._always if always is None else always
        if screened:
            chosen = [self._by_index[index] for index in screened]
            definitions = sorted([*definitions, *chosen], key=lambda d: d.index)
        self._match_definitions(text, number, offset, definitions, out)

    def _match_definitions(
        self,
        text: str,
        number: int,
        offset: int,
        definitions: Sequence[CompiledDefinition],
        out: _Collector,
    ) -> None:
        """Search a line's text with each of `definitions`, within their budgets."""
        timeouts, spent, budget = out.timeouts, out.spent, out.budget
        for definition in definitions:
            name = definition.name
            if spent.get(name, 0.0) >= budget:
                out.reject(Rejection(name, number, offset, None, OVER_BUDGET))
                continue
            if timeouts and timeouts.get(name, 0) >= self.limits.timeouts_per_chunk:
                out.reject(Rejection(name, number, offset, None, SUSPENDED))
                continue
            started = time.thread_time()
            try:
                match = self._search(definition, text)
            except TimeoutError:
                match, slow = self._search_again(definition, text)
                if slow:
                    spent[name] = spent.get(name, 0.0) + time.thread_time() - started
                    out.reject(Rejection(name, number, offset, None, TIMED_OUT))
                    continue
            spent[name] = spent.get(name, 0.0) + time.thread_time() - started
            if match is not None:
                self._record(definition, match, number, offset, out)

    @staticmethod
    def _record(
        definition: CompiledDefinition,
        match: regex.Match[str],
        number: int,
        offset: int,
        out: _Collector,
    ) -> None:
        """The point a match gives, or its rejection."""
        capture = match.group(definition.value_group)
        value = parse_value(capture) if capture is not None else None
        if value is None:
            out.reject(Rejection(definition.name, number, offset, capture or "", NOT_A_NUMBER))
            return
        step = parse_step(match.group("step")) if definition.has_step else None
        out.points.append(Point(definition.name, value, step, number, offset))


class _Collector:
    """Gathers one call's points and rejections, keeping a few rejection examples."""

    def __init__(self, kept: int, budget: float) -> None:
        self.points: list[Point] = []
        self.budget = budget
        self.spent: dict[str, float] = {}  # CPU seconds each definition used
        self._kept = kept
        self._examples: dict[str, deque[Rejection]] = {}
        self._rejected: dict[str, int] = {}
        self.timeouts: dict[str, int] = {}

    def reject(self, rejection: Rejection) -> None:
        counts = self._rejected if rejection.reason == NOT_A_NUMBER else self.timeouts
        counts[rejection.metric] = counts.get(rejection.metric, 0) + 1
        examples = self._examples.get(rejection.metric)
        if examples is None:
            examples = self._examples[rejection.metric] = deque(maxlen=self._kept)
        examples.append(rejection)

    def result(self, state: StreamState, lines: int) -> ChunkResult:
        rejections = sorted(
            (r for examples in self._examples.values() for r in examples),
            key=lambda r: (r.line, r.metric),
        )
        return ChunkResult(
            state,
            lines,
            tuple(self.points),
            tuple(rejections),
            self._rejected,
            self.timeouts,
            max(self.spent.values(), default=0.0),
        )
