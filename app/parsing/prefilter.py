"""Multi-literal scanners: where in a chunk any definition's required literal occurs.

Hyperscan finds all literals in one pass at hundreds of MB/s. Where it is not installed
(it ships wheels for x86-64 only) `bytes.find`, once per literal, does the same job more
slowly: each pass is a C loop over the chunk, far faster than one alternation of all the
literals in the standard `re` module, which tries every alternative at every byte.
Either way the scanner only proposes lines; the definitions' own regexes decide every
match.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Sequence

from app.parsing.literals import Literal

try:
    import hyperscan
except ImportError:  # pragma: no cover - depends on the platform
    hyperscan = None  # type: ignore[assignment]

__all__ = [
    "FindScanner",
    "HyperscanScanner",
    "LiteralScanner",
    "build_scanner",
    "hyperscan_available",
]


class LiteralScanner(abc.ABC):
    """Finds occurrences of a fixed list of literals in a block of bytes. Thread-safe.

    Every occurrence is reported, overlapping ones included, so the literals a line holds
    tell which definitions may match it. `one_pass` says whether the scan passes over the
    data once for all the literals, so that hundreds of them cost about what a few do.
    """

    one_pass: bool = False

    @abc.abstractmethod
    def scan(self, data: bytes) -> list[tuple[int, int]]:
        """(position inside the occurrence, index of the literal) for occurrences in `data`."""


class HyperscanScanner(LiteralScanner):
    one_pass = True

    def __init__(self, literals: Sequence[Literal]) -> None:
        self._database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._database.compile(
            expressions=[literal.text for literal in literals],
            ids=list(range(len(literals))),
            elements=len(literals),
            flags=[hyperscan.HS_FLAG_CASELESS if lit.caseless else 0 for lit in literals],
            literal=True,
        )
        # A scratch space may serve one scan at a time: one per thread.
        self._local = threading.local()

    def scan(self, data: bytes) -> list[tuple[int, int]]:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._database)
        hits: list[tuple[int, int]] = []

        def on_match(index: int, _start: int, end: int, _flags: int, _context: object) -> None:
            hits.append((end - 1, index))

        self._database.scan(data, match_event_handler=on_match, scratch=scratch)
        return hits


class FindScanner(LiteralScanner):
    """The scanner without an accelerator: `bytes.find` per literal, no regex engine.

    Caseless literals are looked for in the chunk lowered once (ASCII only, as hyperscan's
    caseless flag folds).
    """

    def __init__(self, literals: Sequence[Literal]) -> None:
        self._literals = [
            (index, literal.text.lower() if literal.caseless else literal.text, literal.caseless)
            for index, literal in enumerate(literals)
        ]
        self._any_caseless = any(literal.caseless for literal in literals)

    def scan(self, data: bytes) -> list[tuple[int, int]]:
        lowered = data.lower() if self._any_caseless else data
        hits: list[tuple[int, int]] = []
        for index, text, caseless in self._literals:
            hay = lowered if caseless else data
            find = hay.find
            position = find(text)
            while position >= 0:
                hits.append((position, index))
                position = find(text, position + 1)
        hits.sort()  # in stream order, as hyperscan reports them
        return hits


def hyperscan_available() -> bool:
    return hyperscan is not None


def build_scanner(literals: Sequence[Literal], engine: str = "auto") -> LiteralScanner:
    """A scanner for `literals`.

    Args:
        literals: what to look for; at least one.
        engine: `hyperscan`, `find` (no accelerator: `bytes.find` per literal) or `auto`
            (hyperscan when installed and usable on this CPU). `regex` is the old name
            of `find` (from when it was one `re` alternation), taken for one release.

    Raises:
        ValueError: for an unknown engine, or `hyperscan` where it is not installed.
    """
    if engine not in ("auto", "hyperscan", "find", "regex"):
        raise ValueError(f"unknown literal scanner {engine!r}")
    if engine in ("find", "regex") or (engine == "auto" and hyperscan is None):
        return FindScanner(literals)
    if hyperscan is None:
        raise ValueError("the hyperscan scanner was asked for, but hyperscan is not installed")
    try:
        return HyperscanScanner(literals)
    except hyperscan.HyperscanError:
        if engine == "hyperscan":
            raise
        return FindScanner(literals)  # e.g. a CPU without the instructions it needs
