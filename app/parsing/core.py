"""The compiled matching core, and which definitions it matches.

`app/parsing/_core.c`, built with the package where PCRE2 and Hyperscan's headers are
(`make` installs Debian's `libpcre2-dev` and `libhyperscan-dev`), matches a region's
lines against many definitions in one call: a Hyperscan scan for the definitions'
required literals picks the lines, PCRE2's JIT searches them, and the points come back
as `Point`s in line order (see the C file's opening comment for what it leaves to
Python). A definition goes to the core only when `core_patterns` can write its regex
so that PCRE2 matches exactly what the `regex` module does; the others, and every line
the core hands back, are matched by the `regex` module as before.

Where the extension was not built, or `LOGMETRICS_CORE=off` is set, every definition
takes the `regex` path; `core_status()` says which path runs and why, and the service
says it at start and in `/metrics`.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from typing import Any

from app.parsing.core_patterns import CorePattern, core_pattern
from app.parsing.definitions import CompiledDefinition, LogFormat
from app.parsing.lines import line_text
from app.parsing.literals import required_literals
from app.parsing.matching import (
    NOT_A_NUMBER,
    Collector,
    LineWork,
    ParserLimits,
    in_line_order,
)
from app.parsing.values import parse_step, parse_value
from app.records import Point, Rejection, make_point

__all__ = ["CompiledCore", "core_reason", "core_status"]

# PCRE2's match limit for one search of one line: about half a millisecond of a hostile
# regex's backtracking here (tests/parsing/test_core.py's catastrophic pattern); a search
# that reaches it goes to the `regex` module, under its time-out.
MATCH_LIMIT = 200_000


def _load() -> tuple[Any, str]:
    """The extension module (None where it is not used) and the status line."""
    if os.environ.get("LOGMETRICS_CORE", "").strip().lower() in ("off", "0", "false", "no"):
        return None, "pure Python: the compiled core is off (LOGMETRICS_CORE=off)"
    try:
        module = importlib.import_module("app.parsing._core")
    except ImportError as error:
        return None, f"pure Python: the compiled core is not built ({error})"
    pcre2, hyperscan, jit = module.versions()
    if not jit:
        return None, f"pure Python: PCRE2 {pcre2} has no JIT here"
    return module, f"compiled core (PCRE2 {pcre2} with JIT, Hyperscan {hyperscan})"


_CORE, _STATUS = _load()


def core_status() -> str:
    """Which path parses: "compiled core (PCRE2 ..., Hyperscan ...)" or "pure Python: why"."""
    return _STATUS


def core_reason(definition: CompiledDefinition) -> str | None:
    """Why the core does not take a definition (None: it does, where the core is built)."""
    written = core_pattern(definition.regex, definition.value_group, definition.has_step)
    return written if isinstance(written, str) else None


class CompiledCore:
    """One rendering's definitions that the core takes, compiled for it."""

    def __init__(
        self,
        definitions: Sequence[tuple[CompiledDefinition, CorePattern]],
        log_format: LogFormat,
        rendering: LogFormat,
        limits: ParserLimits,
    ) -> None:
        self.definitions = tuple(definition for definition, _ in definitions)
        self.indices = frozenset(definition.index for definition in self.definitions)
        self._names = tuple(definition.name for definition in self.definitions)
        self._order = {definition.name: definition.index for definition in self.definitions}
        self._rendering = rendering
        self._limits = limits
        owners: dict[tuple[bytes, bool], list[int]] = {}
        compiled = []
        for position, (definition, pattern) in enumerate(definitions):
            literals = required_literals(definition.regex, rendering)
            for literal in literals or ():
                owners.setdefault((literal.text, literal.caseless), []).append(position)
            compiled.append(
                (
                    pattern.pcre2.encode(),
                    pattern.value_group,
                    pattern.step_group,
                    not literals,  # no literal every match holds: every line
                )
            )
        self._core = _CORE.Core(
            compiled,
            [(text, caseless, positions) for (text, caseless), positions in owners.items()],
            log_format is LogFormat.TEXT,
            rendering is LogFormat.CLOUDWATCH,
            limits.max_line_bytes,
            MATCH_LIMIT,
            limits.timeouts_per_chunk,
        )

    @classmethod
    def build(
        cls,
        definitions: Sequence[CompiledDefinition],
        log_format: LogFormat,
        rendering: LogFormat,
        limits: ParserLimits,
    ) -> CompiledCore | None:
        """The core for those of `definitions` it takes; None if it takes none or is not
        built."""
        if _CORE is None:
            return None
        taken = []
        for definition in definitions:
            written = core_pattern(definition.regex, definition.value_group, definition.has_step)
            if not isinstance(written, str):
                taken.append((definition, written))
        try:
            return cls(taken, log_format, rendering, limits) if taken else None
        except _CORE.CoreError:
            pass
        # A pattern PCRE2 or its JIT refuses (a class too large for its compiled size):
        # that definition goes by `regex`, the others by the core.
        compiled = []
        for definition, pattern in taken:
            try:
                cls([(definition, pattern)], log_format, rendering, limits)
            except _CORE.CoreError:
                continue
            compiled.append((definition, pattern))
        return cls(compiled, log_format, rendering, limits) if compiled else None

    def scan(self, region: bytes, base: int, first_line: int, out: Collector) -> list[LineWork]:
        """Match the core's definitions against a region of whole lines, into `out`.

        Args:
            region: the lines' raw bytes, each with its line end.
            base: the region's offset in its stream; first_line: its first line's number.

        Returns:
            The work the core leaves to the `regex` module: lines it does not match
            (not UTF-8, longer than the limit), searches that reached the match limit,
            and the lines of a definition that used its budget, in line order.
        """
        spent = out.spent
        budgets = [out.budget - spent.get(name, 0.0) for name in self._names]
        points, raws, deferred, seconds, _limits, _lines = self._core.scan(
            region, base, first_line, budgets, self._names, Point
        )
        for name, used in zip(self._names, seconds, strict=True):
            if used:
                spent[name] = spent.get(name, 0.0) + used
        mark = len(out.points)
        out.points += points
        for position, number, offset, capture, step_capture in raws:
            self._record(self.definitions[position], number, offset, capture, step_capture, out)
        if raws:
            out.points[mark:] = in_line_order(out.points[mark:], self._order)
        return self._deferred(region, deferred)

    @staticmethod
    def _record(
        definition: CompiledDefinition,
        number: int,
        offset: int,
        capture: str | None,
        step_capture: str | None,
        out: Collector,
    ) -> None:
        """A match whose capture the core left to Python: as `Matcher.record`."""
        value = parse_value(capture) if capture is not None else None
        if value is None:
            out.reject(Rejection(definition.name, number, offset, capture or "", NOT_A_NUMBER))
            return
        step = parse_step(step_capture) if definition.has_step else None
        out.points.append(make_point((definition.name, value, step, number, offset)))

    def _deferred(
        self, region: bytes, deferred: list[tuple[int, int, int, int, int]]
    ) -> list[LineWork]:
        work: list[LineWork] = []
        keep = self._limits.max_line_bytes + 1
        for number, offset, start, end, position in deferred:
            chosen = self.definitions if position < 0 else (self.definitions[position],)
            if work and work[-1].number == number:
                last = work[-1]
                merged = sorted({*last.definitions, *chosen}, key=lambda d: d.index)
                work[-1] = last._replace(definitions=merged)
                continue
            raw = region[start : min(end, start + keep)]
            text = line_text(raw, self._rendering, self._limits.max_line_bytes)
            work.append(LineWork(text, number, offset, chosen))
        return work
