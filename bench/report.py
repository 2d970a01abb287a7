"""The report: the equality check first, then tables, targets and RESULTS.md.

The same rows feed the terminal (aligned columns) and RESULTS.md (Markdown tables).
No speed is shown unless every way of parsing found exactly the naive baseline's points.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bench.config import UNSEEN
from bench.reparse import reparse_label
from bench.results import Results
from bench.timing import Rate, chunk_label

__all__ = ["Target", "render", "targets"]

MiB = 1 << 20
_LATENCY_LIMIT_MS = 50.0
_MEMORY_SLACK = 32 * MiB  # growth below this, or below 10% of the first reading, passes
# Columns whose last cell looks like this are numbers, aligned right on the terminal.
_NUMERIC = re.compile(r"[-+0-9.,x ()]+")


@dataclass(frozen=True)
class Target:
    name: str
    passed: bool | None  # None: not measured in this run
    detail: str

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: "n/a"}[self.passed]


@dataclass(frozen=True)
class _Table:
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


def render(results: Results, markdown: bool) -> str:
    """The whole report, for the terminal or as RESULTS.md."""
    out: list[str] = []
    if markdown:
        out += [
            "# Benchmark results",
            "",
            "Written by `python -m bench --write-results`; regenerate it rather than edit it. "
            "`bench/README.md` says what each phase measures and how.",
            "",
        ]
    out += _machine_lines(results, markdown)
    out += _equality_lines(results, markdown)
    if not results.equal:
        return "\n".join(out) + "\n"
    for table in _tables(results):
        out += _render_table(table, markdown)
    out += _render_table(_targets_table(targets(results)), markdown)
    if results.notes:
        out += ["Notes:" if not markdown else "## Notes", ""]
        out += [f"- {note}" for note in results.notes] + [""]
    return "\n".join(out) + "\n"


def targets(results: Results) -> list[Target]:
    """The issue's targets, each with PASS/FAIL (n/a when its phase did not run)."""
    found = [
        _ratio_target(
            "parser >= 5x naive (dense, 40 definitions)",
            results.rate("parser, scanner 'auto'", "dense"),
            results.rate("naive", "dense"),
            5.0,
        ),
        _ratio_target(
            "parser >= 20x naive (sparse, 40 definitions)",
            results.rate("parser, scanner 'auto'", "sparse"),
            results.rate("naive", "sparse"),
            20.0,
        ),
        _ratio_target(
            "parser >= 2x ripgrep's passes (sparse)",
            results.rate("parser, scanner 'auto'", "sparse"),
            results.rate("ripgrep", "sparse"),
            2.0,
            results.ripgrep.note if results.ripgrep is not None else None,
        ),
    ]
    for corpus in ("sparse", "dense"):
        found.append(
            _ratio_target(
                f"HTTP ingest + SQLite >= 0.7x parser ({corpus}, 1 MiB chunks)",
                results.rate("HTTP ingest + SQLite, 1 MiB", corpus),
                results.rate("parser, scanner 'auto'", corpus),
                0.7,
            )
        )
    for corpus in ("sparse", "dense"):
        found.append(
            _ratio_target(
                f"re-parse >= 1x parser ({corpus}, stored in 1 MiB chunks)",
                results.rate(reparse_label(results.config.large_chunk), corpus),
                results.rate("parser, scanner 'auto'", corpus),
                1.0,
            )
        )
    found.append(
        _ratio_target(
            "HTTP ingest >= 10x naive on a corpus never seen (another seed and mix, 1 MiB chunks)",
            results.rate("HTTP ingest + SQLite, 1 MiB", UNSEEN),
            results.rate("naive", UNSEEN),
            10.0,
        )
    )
    found += _scale_targets(results)
    found.append(_concurrent_target(results))
    found.append(_memory_target(results))
    return found


# Sections.


def _machine_lines(results: Results, markdown: bool) -> list[str]:
    machine = results.machine
    packages = ", ".join(f"{name} {version}" for name, version in machine.packages)
    config = results.config
    sizes = (
        f"sparse corpus {config.sparse_bytes / 1e6:g} MB, dense {config.dense_bytes / 1e6:g} MB, "
        f"seed {config.seed}; unseen (mixed) corpus {config.unseen_bytes / 1e6:g} MB, seed "
        f"{config.unseen_corpus_seed}; scale jobs of "
        f"{', '.join(f'{n:,}' for n in config.scale_runs)} runs x {config.points_per_run:,} points"
    )
    items = [
        ("Command", f"`{results.command}`" if markdown else results.command),
        ("Date", machine.when),
        ("CPU", f"{machine.cpu}, {machine.cores} cores, {machine.memory_gib:.0f} GiB"),
        (
            "Load average (1, 5, 15 min)",
            f"before {results.load_before}; after {results.load_after}",
        ),
        ("Python", f"{machine.python}, Linux {machine.kernel}"),
        ("Packages", packages),
        ("Parsing path", machine.parsing_core),
        ("ripgrep", machine.ripgrep or "not installed"),
        ("Commit", machine.commit),
        ("Sizes", sizes + (" (--quick: a smoke run, not a measurement)" if config.quick else "")),
    ]
    if markdown:
        return ["## Machine and run", "", *(f"- {k}: {v}" for k, v in items), ""]
    return [*(f"{k + ':':<29} {v}" for k, v in items), ""]


def _equality_lines(results: Results, markdown: bool) -> list[str]:
    head = "## Equality check" if markdown else "Equality check"
    lines = [head, ""]
    if results.selfcheck_failures:
        lines.append(
            "FAIL: the naive baseline disagrees with parse_log on the captures, so no speed "
            "is shown:"
        )
        lines += [f"  - {failure}" for failure in results.selfcheck_failures]
        return [*lines, ""]
    lines.append(
        f"Self-check: the naive baseline equals parse_log on {results.selfcheck_cases} "
        "capture/definition cases, and the comparison catches changed, missing and extra points."
    )
    for stats in results.corpora:
        lines.append(
            f"{stats.name} corpus: {stats.size:,} bytes, {stats.lines:,} lines, "
            f"{stats.metric_lines:,} with points ({stats.metric_lines / stats.lines:.1%}), "
            f"{stats.points:,} points"
        )
    for check in results.equality:
        if check.differences:
            lines.append(f"FAIL {check.label} on {check.corpus}: {check.points:,} points")
            lines += [f"  - {d.describe()}" for d in check.differences[:10]]
        else:
            lines.append(
                f"same points (metric, value, step, line, offset) as naive: {check.label} "
                f"on {check.corpus} ({check.points:,})"
            )
    if not results.equal:
        lines.append("")
        lines.append("FAIL: the ways of parsing disagree, so no speed is shown.")
    return [*lines, ""]


def _tables(results: Results) -> list[_Table]:
    tables = [_throughput_table(results, corpus.name) for corpus in results.corpora]
    if results.concurrent is not None:
        tables.append(_concurrent_table(results))
    if results.scale:
        tables.append(_scale_table(results))
    if results.peaks or results.memory is not None:
        tables.append(_memory_table(results))
    if results.memory is not None:
        tables.append(_growth_table(results))
    return tables


def _throughput_table(results: Results, corpus: str) -> _Table:
    naive = results.rate("naive", corpus)
    parser = results.rate("parser, scanner 'auto'", corpus)
    rows = []
    for rate in results.rates:
        if rate.corpus != corpus:
            continue
        rows.append(
            (
                rate.label,
                f"{rate.mb_s:,.2f}",
                f"{rate.lines_s:,.0f}",
                f"{rate.seconds:,.2f}",
                str(rate.runs),
                _ratio(rate, naive),
                _ratio(rate, parser),
                f"{rate.cpu_mb_s:,.2f}" if rate.cpu_mb_s is not None else "",
                _cpu_ratio(rate, naive),
            )
        )
    stats = next(s for s in results.corpora if s.name == corpus)
    kind = f"mixed records, seed {results.config.unseen_corpus_seed}, " if corpus == UNSEEN else ""
    return _Table(
        f"Throughput, {corpus} corpus ({kind}{stats.size / 1e6:,.1f} MB, {stats.lines:,} lines, "
        f"{stats.metric_lines / stats.lines:.1%} with points)",
        (
            "what",
            "MB/s",
            "lines/s",
            "seconds",
            "passes",
            "x naive",
            "x parser",
            "CPU MB/s",
            "CPU x naive",
        ),
        tuple(rows),
        f"Parsing path: {results.machine.parsing_core}. "
        "MB = 10^6 bytes. Naive and parser rows: the median of the rounds, each round one "
        "pass of each in turn. HTTP rows: from the first "
        "POST to the run's completion, one client on a keep-alive connection. ripgrep: the "
        "sum of its passes. The targets use the wall-clock columns; the CPU columns divide "
        "by the CPU time of the process doing the work (for HTTP rows, the service's only), "
        "which other work sharing the cores does not inflate. Re-parse: from POST "
        ".../reparse until GET .../reparse says done; its x parser column is the target's.",
    )


def _concurrent_table(results: Results) -> _Table:
    c = results.concurrent
    assert c is not None
    notes = [
        f"Each run posts {c.rate.size / c.runs / 1e6:,.2f} MB of the sparse corpus from its "
        f"own place in it, in {chunk_label(results.config.concurrent_chunk)} chunks, on its "
        "own connection; the clock runs from the moment all are ready to the last completion."
    ]
    if c.errors:
        notes.append("First errors: " + "; ".join(c.errors))
    if c.mismatched_runs:
        notes.append(
            f"Runs whose stored points differ from the parser's ({len(c.mismatched_runs)}), "
            "first ones: " + "; ".join(c.mismatched_runs[:3])
        )
    return _Table(
        "Concurrent ingest",
        ("runs", "MB", "seconds", "MB/s", "lines/s", "requests", "errors", "runs off", "time-outs"),
        (
            (
                str(c.runs),
                f"{c.rate.size / 1e6:,.1f}",
                f"{c.rate.seconds:,.2f}",
                f"{c.rate.mb_s:,.2f}",
                f"{c.rate.lines_s:,.0f}",
                f"{c.requests:,}",
                str(c.error_count),
                str(len(c.mismatched_runs)),
                str(c.timeouts),
            ),
        ),
        " ".join(notes),
    )


def _scale_table(results: Results) -> _Table:
    sizes = sorted({read.runs for read in results.scale})
    whats = list(dict.fromkeys(read.what for read in results.scale))
    rows = []
    for what in whats:
        cells = []
        by_size = {r.runs: r for r in results.scale if r.what == what}
        for size in sizes:
            read = by_size[size]
            cells.append(f"{read.median_ms:,.1f} ({read.p95_ms:,.1f})")
        growth = by_size[sizes[-1]].median_ms / by_size[sizes[0]].median_ms
        rows.append((what, *cells, f"{growth:,.1f}x"))
    fill = results.fill
    note = ""
    if fill is not None:
        reused = f" (copied from {fill.reused}, filled earlier)" if fill.reused else ""
        note = (
            f"Filled{reused} before the service started: each job created through the "
            "storage API, its runs, streams, summaries and points bulk-loaded with "
            "SQLAlchemy Core inserts into the schema's tables, row for row what "
            "SqlStorage.append_chunk and complete_run store "
            "(tests/bench checks it): "
            f"{fill.runs:,} runs, {fill.points:,} points in {fill.seconds:,.1f} s "
            f"({fill.points / fill.seconds:,.0f} points/s). Median ms (95th percentile) over "
            f"{results.scale[0].samples} requests after 2 warm-up ones, over HTTP on one "
            "keep-alive connection."
        )
    growth_head = f"growth {sizes[0]:,} -> {sizes[-1]:,} runs"
    return _Table(
        "Reads at scale, ms",
        ("request", *(f"{size:,} runs" for size in sizes), growth_head),
        tuple(rows),
        note,
    )


def _memory_table(results: Results) -> _Table:
    rows = tuple((phase, f"{peak / MiB:,.0f}") for phase, peak in results.peaks)
    return _Table(
        "Service peak memory by phase (VmHWM, reset between phases)",
        ("phase", "peak RSS MiB"),
        rows,
    )


def _growth_table(results: Results) -> _Table:
    memory = results.memory
    assert memory is not None
    rows = tuple((f"{sent / 1e6:,.0f}", f"{rss / MiB:,.1f}") for sent, rss in memory.checkpoints)
    sent = memory.checkpoints[-1][0] if memory.checkpoints else 0
    return _Table(
        "Service memory against ingested bytes (VmRSS after each amount)",
        ("MB ingested", "RSS MiB"),
        rows,
        f"{sent / 1e6:,.0f} MB of the sparse corpus in 1 MiB chunks, a new run per corpus "
        f"pass, in {memory.seconds:,.1f} s ({sent / 1e6 / memory.seconds:,.1f} MB/s).",
    )


def _targets_table(found: Sequence[Target]) -> _Table:
    return _Table(
        "Targets",
        ("target", "verdict", "numbers"),
        tuple((t.name, t.verdict, t.detail) for t in found),
    )


# Targets.


def _ratio_target(
    name: str, rate: Rate | None, base: Rate | None, at_least: float, why_not: str | None = None
) -> Target:
    """PASS when `rate` is at least `at_least` times `base` (wall-clock MB/s)."""
    if rate is None or base is None:
        return Target(name, None, why_not or "not measured")
    ratio = rate.mb_s / base.mb_s
    detail = f"{rate.mb_s:,.2f} vs {base.mb_s:,.2f} MB/s = {ratio:,.2f}x (need >= {at_least:g}x)"
    if rate.cpu_mb_s is not None and base.cpu_mb_s is not None:
        detail += f"; by CPU time {rate.cpu_mb_s / base.cpu_mb_s:,.2f}x"
    return Target(name, ratio >= at_least, detail)


def _scale_targets(results: Results) -> list[Target]:
    found = []
    sizes = sorted({read.runs for read in results.scale})
    for what, short in (("best", "best"), ("leaderboard, first page", "leaderboard page 1")):
        if not sizes:
            found.append(Target(f"{short} < {_LATENCY_LIMIT_MS:g} ms at 10,000 runs", None, ""))
            found.append(Target(f"{short} grows no faster than runs", None, "not measured"))
            continue
        by_size = {r.runs: r for r in results.scale if r.what == what}
        largest, smallest = by_size[sizes[-1]], by_size[sizes[0]]
        found.append(
            Target(
                f"{short} < {_LATENCY_LIMIT_MS:g} ms at {sizes[-1]:,} runs",
                largest.median_ms < _LATENCY_LIMIT_MS,
                f"median {largest.median_ms:,.1f} ms (p95 {largest.p95_ms:,.1f} ms)",
            )
        )
        growth, runs_growth = largest.median_ms / smallest.median_ms, sizes[-1] / sizes[0]
        found.append(
            Target(
                f"{short} grows no faster than runs",
                growth <= runs_growth,
                f"{smallest.median_ms:,.1f} -> {largest.median_ms:,.1f} ms = {growth:,.1f}x "
                f"for {runs_growth:,.0f}x the runs",
            )
        )
    return found


def _concurrent_target(results: Results) -> Target:
    c = results.concurrent
    name = "concurrent ingest: no errors, every point stored"
    if c is None:
        return Target(name, None, "not measured")
    detail = (
        f"{c.runs} runs, {c.rate.mb_s:,.2f} MB/s in all, {c.error_count} errors, "
        f"{len(c.mismatched_runs)} runs with wrong point counts, {c.timeouts} regex time-outs"
    )
    return Target(name, c.error_count == 0 and not c.mismatched_runs, detail)


def _memory_target(results: Results) -> Target:
    name = "service memory does not grow with ingested size"
    memory = results.memory
    if memory is None or len(memory.checkpoints) < 2:
        return Target(name, None, "not measured")
    (first_sent, first), (last_sent, last) = memory.checkpoints[0], memory.checkpoints[-1]
    allowed = max(_MEMORY_SLACK, first // 10)
    detail = (
        f"RSS {first / MiB:,.1f} MiB after {first_sent / 1e6:,.0f} MB, {last / MiB:,.1f} MiB "
        f"after {last_sent / 1e6:,.0f} MB (allowed growth {allowed / MiB:,.0f} MiB)"
    )
    return Target(name, last - first <= allowed, detail)


# Formatting.


def _ratio(rate: Rate, base: Rate | None) -> str:
    return f"{rate.mb_s / base.mb_s:,.2f}" if base is not None else ""


def _cpu_ratio(rate: Rate, base: Rate | None) -> str:
    if base is None or rate.cpu_mb_s is None or base.cpu_mb_s is None:
        return ""
    return f"{rate.cpu_mb_s / base.cpu_mb_s:,.2f}"


def _render_table(table: _Table, markdown: bool) -> list[str]:
    if markdown:
        lines = [f"## {table.title}", ""]
        lines.append("| " + " | ".join(table.headers) + " |")
        lines.append("|" + "|".join("---" for _ in table.headers) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in table.rows]
        return [*lines, "", *([table.note, ""] if table.note else [])]
    columns = list(zip(table.headers, *table.rows, strict=True))
    widths = [max(len(cell) for cell in column) for column in columns]
    numeric = [bool(table.rows) and bool(_NUMERIC.fullmatch(column[-1])) for column in columns]
    lines = [table.title]
    for row in (table.headers, *table.rows):
        cells = [
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(row, widths, numeric, strict=True)
        ]
        lines.append("  " + "  ".join(cells).rstrip())
    return [*lines, *([f"  {table.note}"] if table.note else []), ""]
