"""Everything one benchmark run measured, handed from the phases to the report."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.config import BenchConfig
from bench.http_ingest import Concurrent, MemoryGrowth
from bench.machine import Machine
from bench.points import Difference
from bench.ripgrep import RipgrepResult
from bench.scale import Fill, ScaleRead
from bench.timing import Rate

__all__ = ["CorpusStats", "Equality", "Results"]


@dataclass(frozen=True)
class CorpusStats:
    name: str
    size: int
    lines: int
    metric_lines: int  # lines with at least one point
    points: int


@dataclass(frozen=True)
class Equality:
    """One way of parsing compared with the naive baseline."""

    label: str
    corpus: str
    points: int
    differences: tuple[Difference, ...]


@dataclass
class Results:
    """Filled in phase by phase; phases not run leave their fields empty."""

    config: BenchConfig
    machine: Machine
    command: str
    load_before: str
    load_after: str = ""
    corpora: list[CorpusStats] = field(default_factory=list)
    rates: list[Rate] = field(default_factory=list)
    equality: list[Equality] = field(default_factory=list)
    ripgrep: RipgrepResult | None = None
    concurrent: Concurrent | None = None
    memory: MemoryGrowth | None = None
    peaks: list[tuple[str, int]] = field(default_factory=list)  # (phase, peak RSS bytes)
    fill: Fill | None = None
    scale: list[ScaleRead] = field(default_factory=list)
    selfcheck_failures: tuple[str, ...] = ()
    selfcheck_cases: int = 0
    notes: list[str] = field(default_factory=list)

    def rate(self, label_start: str, corpus: str) -> Rate | None:
        """The first rate whose label starts with `label_start`, on `corpus`."""
        return next(
            (r for r in self.rates if r.label.startswith(label_start) and r.corpus == corpus),
            None,
        )

    @property
    def equal(self) -> bool:
        return not self.selfcheck_failures and all(not e.differences for e in self.equality)
