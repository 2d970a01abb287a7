"""Measurements: what was timed, on how many bytes and lines, and the rates."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["MB", "Rate", "chunk_label", "timed", "timed_cpu"]

MB = 1_000_000  # rates are in MB/s, 10^6 bytes a second

T = TypeVar("T")


@dataclass(frozen=True)
class Rate:
    """One measured pass over a corpus (the median of `runs` passes)."""

    label: str
    corpus: str
    seconds: float
    size: int  # bytes
    lines: int
    runs: int = 1
    # CPU seconds of the process doing the work (the service's for HTTP rows), or None.
    # On a shared machine the wall clock also counts other work's turns on the cores;
    # the CPU time does not, so its ratios are the steadier ones.
    cpu_seconds: float | None = None

    @property
    def mb_s(self) -> float:
        return self.size / self.seconds / MB

    @property
    def cpu_mb_s(self) -> float | None:
        return self.size / self.cpu_seconds / MB if self.cpu_seconds else None

    @property
    def lines_s(self) -> float:
        return self.lines / self.seconds


def timed(work: Callable[[], T]) -> tuple[float, T]:
    """Seconds `work` took (time.perf_counter), and what it returned.

    `timed_cpu` also gives the CPU seconds.

    Collects garbage and freezes what is alive first, so that earlier results held by
    the benchmark are not scanned again by collections inside the timed work.
    """
    seconds, _cpu, result = timed_cpu(work)
    return seconds, result


def timed_cpu(work: Callable[[], T]) -> tuple[float, float, T]:
    """Wall seconds (time.perf_counter), CPU seconds (time.process_time), the result."""
    gc.collect()
    gc.freeze()
    try:
        cpu = time.process_time()
        start = time.perf_counter()
        result = work()
        return time.perf_counter() - start, time.process_time() - cpu, result
    finally:
        gc.unfreeze()


def chunk_label(size: int) -> str:
    """A chunk size as the issue writes it: 64 KiB, 1 MiB."""
    mib = 1 << 20
    return f"{size // mib} MiB" if size % mib == 0 else f"{size // 1024} KiB"
