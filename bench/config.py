"""What to run and at which sizes: the full run, or `--quick` for a smoke run."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from bench.timing import MB

__all__ = ["PHASES", "UNSEEN", "BenchConfig", "quick"]

KiB, MiB = 1024, 1024 * 1024

# parse: (1) naive and (2) the parser in process; ripgrep: the reference; http: (3)
# end-to-end ingest; concurrent: 50 runs at once; memory: RSS against ingested bytes;
# scale: reads on jobs of 100 to 10,000 runs; reparse: each corpus stored, then
# re-parsed through the service's API; unseen: a corpus of another seed and mix, naive
# against HTTP ingest; job-page: Chromium loading tuning jobs' pages (bench/job_page.py,
# run by the command after the others, with a section of its own in RESULTS.md).
PHASES = (
    "parse",
    "ripgrep",
    "http",
    "reparse",
    "unseen",
    "concurrent",
    "memory",
    "scale",
    "job-page",
)

# The name of the corpus made with another seed and mix than the others (phase unseen).
UNSEEN = "unseen"


@dataclass(frozen=True)
class BenchConfig:
    phases: tuple[str, ...] = PHASES
    seed: int = 1
    sparse_bytes: int = 50 * MB
    dense_bytes: int = 10 * MB
    unseen_bytes: int = 20 * MB
    unseen_seed: int | None = None  # None: `seed` + 1
    parser_chunk: int = 1 * MiB
    http_chunks: tuple[int, ...] = (64 * KiB, 1 * MiB)
    # How the re-parse phase stores each corpus and the unseen corpus is posted.
    large_chunk: int = 1 * MiB
    repeats: int = 3  # rounds of naive and parser passes (each row's median is reported)
    concurrent_runs: int = 50
    concurrent_bytes: int = 50 * MB  # in all, split evenly between the runs
    concurrent_chunk: int = 64 * KiB
    memory_bytes: int = 500 * MB
    memory_first: int = 50 * MB  # the reading the others are compared with
    memory_chunk: int = 1 * MiB
    scale_runs: tuple[int, ...] = (100, 1_000, 10_000)
    scale_points: int = 10_000_000  # in the largest job; every run gets the same share
    scale_repeats: int = 20
    reuse_scale_db: bool = False  # copy a filled file from out_dir/cache when its schema fits
    # The job-page phase: tuning jobs of these sizes (points_per_run points a run), warm
    # page loads and cached answers per request, service starts for the cold figures.
    job_page_runs: tuple[int, ...] = (100, 1_000)
    job_page_repeats: int = 10
    job_page_cold: int = 3
    out_dir: Path = Path(__file__).resolve().parent / "out"
    quick: bool = False

    @property
    def unseen_corpus_seed(self) -> int:
        return self.seed + 1 if self.unseen_seed is None else self.unseen_seed

    @property
    def points_per_run(self) -> int:
        return max(1, self.scale_points // max(self.scale_runs))

    def runs(self, phase: str) -> bool:
        return phase in self.phases


def quick(config: BenchConfig) -> BenchConfig:
    """A smoke run of every phase in about a minute; its numbers mean little."""
    return replace(
        config,
        sparse_bytes=4 * MB,
        dense_bytes=1 * MB,
        unseen_bytes=2 * MB,
        repeats=1,
        concurrent_bytes=10 * MB,
        memory_bytes=40 * MB,
        memory_first=5 * MB,
        scale_runs=(10, 100, 500),
        scale_points=50_000,
        scale_repeats=5,
        job_page_runs=(10, 100),
        job_page_repeats=2,
        job_page_cold=1,
        quick=True,
    )
