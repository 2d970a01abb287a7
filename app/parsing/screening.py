"""Which lines may match which definitions: one scan of a region for the literals that
the definitions' regexes need.

A line can only match a definition if it holds one of the definition's required
literals (`app.parsing.literals`), so a multi-literal scan of a whole region picks the
few lines worth searching. Definitions without a usable literal are `always` searched.
The regexes alone decide what matches: screening changes the speed, never the points.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from app.parsing.definitions import CompiledDefinition, LogFormat
from app.parsing.lines import REMOVED_FIRST, clean_text_lines, dirty_lines
from app.parsing.literals import Literal, required_literals
from app.parsing.prefilter import FindScanner, LiteralScanner, build_scanner

__all__ = ["Candidate", "LiteralScreen"]

# How many scans for parts of the literals a screen keeps (see `_scan_without`).
_SCANS_KEPT = 16
# Stands for every byte that starts a sequence cleaning removes, in `split` literals: no
# literal holds a control character, so none holds this.
_REMOVED = b"\x01"
_MARK_REMOVED = bytes.maketrans(REMOVED_FIRST, _REMOVED * len(REMOVED_FIRST))
_MARK_REMOVED_AND_CR = bytes.maketrans(REMOVED_FIRST + b"\r", _REMOVED * (len(REMOVED_FIRST) + 1))


class _Scan(NamedTuple):
    """A scanner for some of the literals, and which definitions need each of those."""

    scanner: LiteralScanner
    owners: tuple[frozenset[int], ...]


_UNBUILT = _Scan(FindScanner(()), ())  # `_scan_without`: no scan cached for that set yet


class Candidate(NamedTuple):
    """A line that may match screened definitions: where it ends, which ones, its text."""

    end: int
    definitions: frozenset[int]
    text: str | None  # the cleaned text, where screening needed it


class LiteralScreen:
    """The literals of one rendering's definitions, and a scanner for them."""

    def __init__(
        self, definitions: Sequence[CompiledDefinition], rendering: LogFormat, scanner: str
    ) -> None:
        """
        Args:
            scanner: as for `Parser`; `none` screens nothing: every definition is always
                searched.
        """
        literals: dict[Literal, set[int]] = {}
        always = []
        for definition in definitions:
            found = None if scanner == "none" else required_literals(definition.regex, rendering)
            if found is None:
                always.append(definition)
            for literal in found or ():
                literals.setdefault(literal, set()).add(definition.index)
        self.always = tuple(always)
        self.rendering = rendering
        self._literals = tuple(literals)
        # Which definitions need each literal, by the literal's index.
        self._owners = tuple(frozenset(owners) for owners in literals.values())
        self.screened = frozenset(index for owners in self._owners for index in owners)
        self._engine = scanner
        self._scanner: LiteralScanner | None = (
            build_scanner(self._literals, scanner) if self._literals else None
        )
        self._splits = self._split_scanner(scanner)
        # Scans for the literals of all but some definitions, by those left out.
        self._scans: dict[frozenset[int], _Scan | None] = {}

    def candidates(
        self,
        region: bytes,
        hay: bytes,
        cr_in_lines: bool,
        keep: int,
        max_line: int,
        skip: frozenset[int] = frozenset(),
    ) -> dict[int, Candidate]:
        """The lines of `region` that may match a screened definition not in `skip`, by
        start.

        Args:
            hay: `region` with a text log's `\\r`s turned into `\\n`s.
            cr_in_lines: whether a `\\r` may lie inside a line (a log that ends lines at
                `\\n` only), where cleaning removes it.
            keep: bytes of a line to keep for matching (one past `max_line`).
            skip: definitions searched another way (over the whole region): literals
                only they need are not looked for, which on a log where every line holds
                some spares most of the scan's hits.
        """
        scan = self._scan_without(skip)
        if scan is None:
            return {}
        found: dict[int, tuple[int, set[int]]] = {}
        line_start, line_end, owners = 0, -1, set[int]()
        for position, literal in scan.scanner.scan(hay):
            if not line_start <= position < line_end:
                line_start = hay.rfind(b"\n", 0, position) + 1
                line_end = hay.find(b"\n", position)
                owners = found.setdefault(line_start, (line_end, set()))[1]
            owners |= scan.owners[literal]
        candidates: dict[int, Candidate] = {}
        for start, (end, definitions) in found.items():
            candidates[start] = Candidate(end, frozenset(definitions), None)
        if self.rendering is LogFormat.TEXT:
            spans = dirty_lines(hay, carriage_return=cr_in_lines)
            # Raw hits on a dirty line say only that it is worth cleaning.
            hit = [candidates.pop(start, None) is not None for start, _ in spans]
            joinable = self._joinable(region, spans, cr_in_lines)
            spans = [span for i, span in enumerate(spans) if hit[i] or i in joinable]
            candidates.update(self._dirty_candidates(region, spans, keep, max_line, scan))
        return candidates

    def _scan_without(self, skip: frozenset[int]) -> _Scan | None:
        """A scan for the literals that some definition not in `skip` needs, with each
        literal's owners but those in `skip`; None when there is none. Built once for each
        `skip` (regions of one log mostly skip the same definitions)."""
        if self._scanner is None:
            return None
        if not skip:
            return _Scan(self._scanner, self._owners)
        # One lookup, not `in` then `[]`: parsers are shared by threads, and another may
        # clear the cache in between.
        cached = self._scans.get(skip, _UNBUILT)
        if cached is not _UNBUILT:
            return cached
        kept = [index for index, owners in enumerate(self._owners) if owners - skip]
        scan = (
            _Scan(
                build_scanner([self._literals[index] for index in kept], self._engine),
                tuple(self._owners[index] - skip for index in kept),
            )
            if kept
            else None
        )
        if len(self._scans) >= _SCANS_KEPT:
            self._scans.clear()
        self._scans[skip] = scan
        return scan

    def _split_scanner(self, scanner: str) -> LiteralScanner | None:
        """A scanner for each literal's `split` forms, where one pass finds them all.

        Cleaning can join a literal that a removed sequence splits: `lo\\x1b[0mss` is
        `loss` once cleaned. The raw bytes then hold a proper prefix of the literal
        right before a removed sequence's first byte (the part before the first
        sequence inside the occurrence); with that byte marked `_REMOVED`, the prefix
        and the mark are a literal of their own. A dirty line holding neither a literal
        nor a split one cannot hold a literal once cleaned. Prefixes end between
        characters, never inside one, as removed sequences do.

        None without a one-pass scanner (a `bytes.find` per prefix would cost more
        than cleaning every dirty line): then every dirty line is cleaned.
        """
        if self._scanner is None or not self._scanner.one_pass:
            return None
        splits = {
            Literal(literal.text[:cut] + _REMOVED, literal.caseless)
            for literal in self._literals
            for cut in range(1, len(literal.text))
            if literal.text[cut] & 0xC0 != 0x80  # not a UTF-8 continuation byte
        }
        ordered = sorted(splits, key=lambda literal: (literal.text, literal.caseless))
        return build_scanner(ordered, scanner) if ordered else None

    def _joinable(
        self, region: bytes, spans: Sequence[tuple[int, int]], cr_in_lines: bool
    ) -> set[int]:
        """Which of the dirty lines at `spans` hold a split literal (their index); every
        one when there is no split scanner."""
        if self._splits is None:
            return set(range(len(spans)))
        marks = _MARK_REMOVED_AND_CR if cr_in_lines else _MARK_REMOVED
        joined = b"\n".join(region[start:end] for start, end in spans).translate(marks)
        found: set[int] = set()
        line, counted_to = 0, 0
        for position, _ in sorted(self._splits.scan(joined)):
            line += joined.count(b"\n", counted_to, position)
            counted_to = position
            found.add(line)
        return found

    def _dirty_candidates(
        self,
        region: bytes,
        spans: Sequence[tuple[int, int]],
        keep: int,
        max_line: int,
        scan: _Scan,
    ) -> dict[int, Candidate]:
        """Which of the dirty lines at `spans` hold one of `scan`'s literals once cleaned:
        they are cleaned and screened again, all in one scan."""
        if not spans:
            return {}
        raws = [region[start : min(end, start + keep)] for start, end in spans]
        texts = clean_text_lines(raws, max_line)
        screened: dict[int, set[int]] = {}
        joined = "\n".join(texts).encode()
        line, counted_to = 0, 0
        for position, literal in sorted(scan.scanner.scan(joined)):
            line += joined.count(b"\n", counted_to, position)
            counted_to = position
            screened.setdefault(line, set()).update(scan.owners[literal])
        return {
            spans[line][0]: Candidate(spans[line][1], frozenset(found), texts[line])
            for line, found in screened.items()
        }

    def screen(self, line: bytes) -> set[int]:
        """The screened definitions whose literals `line` holds, tested one by one."""
        lowered = line.lower()
        return {
            owner
            for literal, owners in zip(self._literals, self._owners, strict=True)
            if literal.text.lower() in lowered and (literal.caseless or literal.text in line)
            for owner in owners
        }

    def hits(self, sample: bytes) -> dict[int, int]:
        """How often each screened definition's literals occur in `sample`."""
        lowered = sample.lower() if any(literal.caseless for literal in self._literals) else b""
        hits: dict[int, int] = {}
        for literal, owners in zip(self._literals, self._owners, strict=True):
            found = (lowered if literal.caseless else sample).count(literal.text)
            if found:
                for index in owners:
                    hits[index] = hits.get(index, 0) + found
        return hits
