"""Matching a line's text, or a region's, against definitions within their time limits.

A `Matcher` searches lines with the `regex` module under two bounds: a time-out per line
(`ParserLimits.regex_timeout`, measured in the thread's own CPU time), and a budget of
CPU time per definition and chunk, so that lines which each stay under the time-out
cannot add up to minutes. A `Collector` gathers what one call yields.

Both are measured by `cpu_time`: the thread's CPU time less what it spent in full passes
of the garbage collector. Such a pass runs in whichever thread allocates at the wrong
moment, and in a service holding many objects it takes a hundred milliseconds, a whole
chunk's budget: charged to the regex searching then, it skipped lines of a harmless one.

Reading a thread's CPU clock is a system call (about 1 us here, as much as a short
search), so searches line by line are first charged by `wall_time`, a clock read in user
space that never counts less than the CPU clock does. Only a definition whose charges
come near its budget (`_WALL_SHARE` of it) makes the chunk change over to the CPU clock,
its charges cut to the CPU time the whole chunk has used so far (no definition can have
used more), so that waiting for a core or the GIL never skips a harmless regex's lines.
"""

from __future__ import annotations

import bisect
import gc
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import regex

from app.parsing.definitions import CompiledDefinition
from app.parsing.values import parse_step, parse_value
from app.records import Point, Rejection, StreamState, make_point

__all__ = [
    "NOT_A_NUMBER",
    "OVER_BUDGET",
    "SUSPENDED",
    "TIMED_OUT",
    "ChunkResult",
    "Collector",
    "LineWork",
    "Matcher",
    "ParserLimits",
    "RegionText",
    "in_line_order",
]

# Searches are charged by the wall clock until one definition's charges reach this share
# of its budget (see the module's docstring).
_WALL_SHARE = 0.25
# Sets of definitions whose order `Matcher.in_order` keeps.
_ORDERS_KEPT = 1024
NOT_A_NUMBER = "not a finite number"
TIMED_OUT = "timed out"
SUSPENDED = "skipped: the regex timed out too often in this chunk"
OVER_BUDGET = "skipped: the regex used up its CPU time for this chunk"


class _Collecting(threading.local):
    """The CPU and wall time this thread has spent in full garbage collections."""

    spent = 0.0
    started = 0.0
    spent_wall = 0.0
    started_wall = 0.0


_COLLECTING = _Collecting()


def _time_collection(phase: str, info: Mapping[str, int]) -> None:
    # The collector calls back in the thread it runs in, before and after each pass.
    # Only passes over the oldest generation, which visit every object, take long; the
    # young ones are left to whoever runs, as timing them (a system call each) costs the
    # service a few per cent.
    if info["generation"] < 2:
        return
    if phase == "start":
        _COLLECTING.started = time.thread_time()
        _COLLECTING.started_wall = time.perf_counter()
    else:
        _COLLECTING.spent += time.thread_time() - _COLLECTING.started
        _COLLECTING.spent_wall += time.perf_counter() - _COLLECTING.started_wall


gc.callbacks.append(_time_collection)


def cpu_time() -> float:
    """This thread's CPU time in seconds, less what it spent in full garbage collections."""
    return time.thread_time() - _COLLECTING.spent


def wall_time() -> float:
    """Seconds by the monotonic wall clock, less this thread's time in full garbage
    collections: over any stretch of this thread it counts at least what `cpu_time`
    does, and it is read without a system call."""
    return time.perf_counter() - _COLLECTING.spent_wall


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
    `cpu_spent` is the most time (seconds) any one definition was charged: its CPU time,
    or more while searches are charged by the wall clock (`Collector.use_cpu_clock`).
    """

    state: StreamState
    lines: int
    points: tuple[Point, ...]
    rejections: tuple[Rejection, ...]
    rejected: Mapping[str, int] = field(default_factory=dict)
    timeouts: Mapping[str, int] = field(default_factory=dict)
    cpu_spent: float = field(default=0.0, compare=False)


def in_line_order(points: Iterable[Point], order: Mapping[str, int]) -> list[Point]:
    """Points by line, and within a line in the job's `order` of definitions (one int
    a point as the key: half the time of a (line, index) tuple on a dense log). The
    indices need not start at 0 nor follow each other (a rendering's part of a job)."""
    span = max(order.values(), default=0) + 1
    return sorted(points, key=lambda point: point.line * span + order[point.metric])


class LineWork(NamedTuple):
    """A line to search: its text, number and offset, and the definitions to search it with."""

    text: str
    number: int
    offset: int
    definitions: Sequence[CompiledDefinition]


class RegionText:
    """A region's lines as the definitions see them, joined by `\\n`, with where each
    line starts in the text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        self.starts += itertools.accumulate(len(line) + 1 for line in text.split("\n")[:-1])

    def line(self, index: int) -> str:
        starts = self.starts
        end = starts[index + 1] - 1 if index + 1 < len(starts) else len(self.text)
        return self.text[starts[index] : end]


class Matcher:
    """Searches texts with one job's definitions (by their index in the job), within the
    limits. `bounded` holds the MULTILINE patterns of the definitions that may run once
    over a region of lines (`app.parsing.bounds`)."""

    def __init__(
        self,
        definitions: Sequence[CompiledDefinition],
        limits: ParserLimits,
        bounded: Mapping[int, regex.Pattern[str]],
    ) -> None:
        self.limits = limits
        self.bounded = bounded
        self._by_index = {definition.index: definition for definition in definitions}
        self._in_order: dict[frozenset[int], tuple[CompiledDefinition, ...]] = {}

    def in_order(self, indices: frozenset[int]) -> tuple[CompiledDefinition, ...]:
        """The definitions at `indices`, in the job's order: kept for each set, as the
        lines of a log hold few sets of literals."""
        ordered = self._in_order.get(indices)
        if ordered is None:
            ordered = tuple(sorted((self._by_index[i] for i in indices), key=lambda d: d.index))
            if len(self._in_order) >= _ORDERS_KEPT:
                self._in_order.clear()
            self._in_order[indices] = ordered
        return ordered

    def region(
        self,
        text: RegionText,
        numbers: tuple[int, Sequence[int]],
        index: int,
        out: Collector,
        screen: Callable[[str], bool],
    ) -> None:
        """Run a bounded definition once over a region's text.

        Args:
            numbers: the first line's number and each line's offset in the stream.
            screen: whether a line's text may match; for the lines searched one by one
                after the definition used up its budget here.
        """
        first_line, offsets = numbers
        definition = self._by_index[index]
        name = definition.name
        starts = text.starts
        # The search may take what its lines could each take, within the definition's
        # budget: a line that would time out alone stops it early, and then is searched
        # alone, like the lines after it.
        left = min(out.budget - out.spent.get(name, 0.0), self.limits.regex_timeout * len(starts))
        last = -1  # the last line with a match: lines up to it are done
        timed_out = left <= 0
        started = cpu_time()
        if not timed_out:
            # pos, endpos, overlapped, concurrent, partial, timeout
            matches = self.bounded[index].finditer(text.text, 0, None, False, True, False, left)
            try:
                for match in matches:
                    line = bisect.bisect_right(starts, match.start()) - 1
                    if line != last:
                        last = line
                        self.record(definition, match, first_line + line, offsets[line], out)
            except TimeoutError:
                timed_out = True
        out.spent[name] = out.spent.get(name, 0.0) + cpu_time() - started  # as lines are
        if timed_out:
            # Slow here: the rest of the lines one by one, under their own time-outs.
            rest = (
                LineWork(line_text, first_line + line, offsets[line], (definition,))
                for line in range(last + 1, len(starts))
                if screen(line_text := text.line(line))
            )
            self.lines(rest, out)

    def lines(self, lines: Iterable[LineWork], out: Collector) -> None:
        """Search each line's text with its definitions, within their budgets.

        The clock is read once a search, and each search is charged the time since the
        one before it ended, which includes the little work of getting to it (a line's
        text, a point recorded): a definition is never charged less than it used. The
        clock is `wall_time` until a charge reaches `out.wall_limit`, then `cpu_time`
        (`Collector.use_cpu_clock`).
        """
        timeouts, spent, budget = out.timeouts, out.spent, out.budget
        most_timeouts = self.limits.timeouts_per_chunk
        exact, wall_limit = out.exact, out.wall_limit
        clock = cpu_time() if exact else wall_time()
        for text, number, offset, definitions in lines:
            for definition in definitions:
                name = definition.name
                if spent.get(name, 0.0) >= budget:
                    out.reject(Rejection(name, number, offset, None, OVER_BUDGET))
                    continue
                if timeouts and timeouts.get(name, 0) >= most_timeouts:
                    out.reject(Rejection(name, number, offset, None, SUSPENDED))
                    continue
                slow = False
                try:
                    match = self._search(definition, text)
                except TimeoutError:
                    match, slow = self._search_again(definition, text)
                now = cpu_time() if exact else wall_time()
                used = spent[name] = spent.get(name, 0.0) + now - clock
                clock = now
                if not exact and used >= wall_limit:
                    exact = True
                    clock = out.use_cpu_clock()
                if slow:
                    out.reject(Rejection(name, number, offset, None, TIMED_OUT))
                elif match is not None:
                    self.record(definition, match, number, offset, out)

    @staticmethod
    def record(
        definition: CompiledDefinition,
        match: regex.Match[str],
        number: int,
        offset: int,
        out: Collector,
    ) -> None:
        """The point a match gives, or its rejection."""
        capture = match.group(definition.value_group)
        value = parse_value(capture) if capture is not None else None
        if value is None:
            out.reject(Rejection(definition.name, number, offset, capture or "", NOT_A_NUMBER))
            return
        step = parse_step(match.group("step")) if definition.has_step else None
        out.points.append(make_point((definition.name, value, step, number, offset)))

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
        cpu_mark = cpu_time()
        while cpu_time() - cpu_mark < self.limits.regex_timeout:
            try:
                return self._search(definition, text, concurrent=False), False
            except TimeoutError:
                continue
        return None, True


class Collector:
    """Gathers one call's points and rejections, keeping a few rejection examples."""

    def __init__(self, kept: int, budget: float) -> None:
        self.points: list[Point] = []
        self.budget = budget
        # Seconds each definition used: CPU seconds, or more (see `use_cpu_clock`).
        self.spent: dict[str, float] = {}
        self.started = cpu_time()
        self.exact = False  # whether searches are charged by the CPU clock
        self.wall_limit = budget * _WALL_SHARE
        self._kept = kept
        self._examples: dict[str, deque[Rejection]] = {}
        self._rejected: dict[str, int] = {}
        self.timeouts: dict[str, int] = {}

    def use_cpu_clock(self) -> float:
        """Charge searches by the CPU clock from now on; its reading.

        Charges so far may hold time spent waiting (for a core, for the GIL); none can
        exceed the CPU time this chunk has used in all, so each is cut to that.
        """
        now = cpu_time()
        used = now - self.started
        for name, charged in self.spent.items():
            self.spent[name] = min(charged, used)
        self.exact = True
        return now

    def reject(self, rejection: Rejection) -> None:
        counts = self._rejected if rejection.reason == NOT_A_NUMBER else self.timeouts
        counts[rejection.metric] = counts.get(rejection.metric, 0) + 1
        examples = self._examples.get(rejection.metric)
        if examples is None:
            examples = self._examples[rejection.metric] = deque(maxlen=self._kept)
        examples.append(rejection)

    def result(
        self, state: StreamState, lines: int, order: Mapping[str, int] | None = None
    ) -> ChunkResult:
        """What was gathered; with `order`, the points are put `in_line_order` (points
        that several parts of a job gathered, each in line order)."""
        if order is not None:
            self.points = in_line_order(self.points, order)
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
