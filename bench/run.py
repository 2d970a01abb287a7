"""Runs the phases in order and gathers what they measured.

Order: check the yardsticks; make the corpora; (1) naive and (2) parser in process with
no service running, their passes taken in turn; the ripgrep reference; then one service
for (3) end-to-end ingest, the re-parse of each corpus, the unseen corpus (its naive and
parser passes first, then over HTTP), the 50 concurrent runs and the memory check; then the scale
jobs, filled through the storage API, and a second service started on them for the
reads. Nothing is printed about speed here: the report prints it only if every way of
parsing agreed.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from app.parsing import LogFormat, Parser, ParserLimits, compile_definitions
from bench.config import UNSEEN, BenchConfig
from bench.corpus import CorpusKind, generate
from bench.definitions import BENCH_DEFINITIONS, OBJECTIVE
from bench.http_ingest import concurrent_ingest, create_job, ingest_run, memory_growth
from bench.inprocess import Corpus, Parsed, time_in_process, time_naive
from bench.machine import describe_machine, load_average
from bench.points import compare_points
from bench.reparse import reparse_job
from bench.results import CorpusStats, Equality, Results
from bench.ripgrep import ripgrep_available, time_ripgrep
from bench.scale import prepare_scale_database, time_reads
from bench.selfcheck import run_selfcheck
from bench.service import Service
from bench.timing import chunk_label
from tests.parsing.naive import PointRow

__all__ = ["run_benchmark"]

# `auto` is hyperscan where installed; `find` the path without it. (`none`, every
# definition on every line, runs at a third of the naive baseline's speed, because each
# search with a time-out reads the CPU clock twice: too slow to time on 50 MB.)
SCANNERS = ("auto", "find")
_JOB = "bench"
# Phases that check their points against the naive baseline's on the sparse and dense corpora.
_NEEDS_NAIVE = ("parse", "http", "reparse")
_SERVICE_PHASES = ("http", "reparse", "unseen", "concurrent", "memory")


def run_benchmark(config: BenchConfig, command: str) -> Results:
    results = Results(
        config=config,
        machine=describe_machine(ripgrep_available()),
        command=command,
        load_before=load_average(),
    )
    work = config.out_dir / "run"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    _progress("checking the naive baseline and the equality check on the captures")
    check = run_selfcheck()
    results.selfcheck_cases = check.cases
    results.selfcheck_failures = check.failures
    if check.failures:
        return results

    corpora = _make_corpora(config, work)
    naive: dict[str, Parsed] = {}
    if any(config.runs(p) for p in _NEEDS_NAIVE):
        for corpus in corpora.values():
            naive[corpus.name] = _parse_in_process(config, corpus, results)
            results.corpora.append(_stats(corpus, naive[corpus.name]))
    if config.runs("ripgrep"):
        _progress("ripgrep reference on the sparse corpus")
        lines = naive["sparse"].lines if "sparse" in naive else corpora["sparse"].data.count(b"\n")
        results.ripgrep = time_ripgrep(BENCH_DEFINITIONS, corpora["sparse"], lines)
        if results.ripgrep.rate is not None:
            results.rates.append(results.ripgrep.rate)
        if results.ripgrep.note:
            results.notes.append(f"ripgrep: {results.ripgrep.note}")
    if any(config.runs(p) for p in _SERVICE_PHASES):
        _ingest_phases(config, work, corpora, naive, results)
    if config.runs("scale"):
        _scale_phase(config, work, results)
    results.load_after = load_average()
    return results


def _make_corpora(config: BenchConfig, work: Path) -> dict[str, Corpus]:
    wanted = [CorpusKind.SPARSE]
    if any(config.runs(p) for p in _NEEDS_NAIVE):
        wanted.append(CorpusKind.DENSE)
    if not any(config.runs(p) for p in ("parse", "ripgrep", *_SERVICE_PHASES)):
        return {}
    corpora = {}
    for kind in wanted:
        size = config.sparse_bytes if kind is CorpusKind.SPARSE else config.dense_bytes
        _progress(f"generating the {kind.value} corpus ({size / 1e6:.0f} MB, seed {config.seed})")
        data = generate(kind, size, config.seed)
        path = work / f"{kind.value}.log"
        path.write_bytes(data)
        corpora[kind.value] = Corpus(kind.value, data, str(path))
    return corpora


def _parse_in_process(config: BenchConfig, corpus: Corpus, results: Results) -> Parsed:
    """(1) and (2) on one corpus, their passes side by side (`time_in_process`); only
    (1), once, when the parser is not timed. The naive baseline, which the others are
    checked against."""
    if not config.runs("parse"):
        _progress(f"(1) naive baseline on the {corpus.name} corpus")
        reference = time_naive(BENCH_DEFINITIONS, corpus)
        results.rates.append(reference.rate)
        return reference
    _progress(
        f"(1) naive baseline and (2) parser, scanners {', '.join(SCANNERS)}, on the "
        f"{corpus.name} corpus, {config.repeats} rounds"
    )
    reference, parsed = time_in_process(
        BENCH_DEFINITIONS, corpus, SCANNERS, config.parser_chunk, config.repeats
    )
    results.rates.append(reference.rate)
    for each in parsed:
        results.rates.append(each.rate)
        results.equality.append(_equality(each.rate.label, corpus, reference, each.points))
    return reference


def _ingest_phases(
    config: BenchConfig,
    work: Path,
    corpora: dict[str, Corpus],
    naive: dict[str, Parsed],
    results: Results,
) -> None:
    _progress("starting the service on a fresh SQLite file")
    with Service(work / "ingest.db", work / "service-ingest.log") as service:
        results.peaks.append(("service started, idle", service.peak_rss()))
        with service.client() as client:
            create_job(client, _JOB, BENCH_DEFINITIONS, OBJECTIVE)
        metrics = [d.name for d in BENCH_DEFINITIONS]
        if config.runs("http"):
            for corpus in corpora.values():
                for chunk in config.http_chunks:
                    label = f"{corpus.name}, {chunk_label(chunk)} chunks"
                    _progress(f"(3) HTTP ingest, {label}")
                    run = f"{corpus.name}-{chunk // 1024}k"
                    done = ingest_run(
                        service, _JOB, run, corpus, chunk, naive[corpus.name].lines, metrics
                    )
                    results.rates.append(done.rate)
                    results.peaks.append((f"HTTP ingest, {label}", done.peak_rss))
                    results.equality.append(
                        _equality(done.rate.label, corpus, naive[corpus.name], done.points)
                    )
        if config.runs("reparse"):
            for corpus in corpora.values():
                for stored in (config.large_chunk, None):
                    how = f"{chunk_label(stored)} chunks" if stored else "chunks of whole lines"
                    _progress(f"re-parse of a job holding the {corpus.name} corpus in {how}")
                    reparsed = reparse_job(
                        service,
                        f"reparse-{corpus.name}-{'lines' if stored is None else stored}",
                        corpus,
                        BENCH_DEFINITIONS,
                        OBJECTIVE,
                        stored,
                        naive[corpus.name].lines,
                    )
                    results.rates.append(reparsed.rate)
                    results.peaks.append(
                        (f"{reparsed.rate.label}, {corpus.name}", reparsed.peak_rss)
                    )
                    results.equality.append(
                        _equality(reparsed.rate.label, corpus, naive[corpus.name], reparsed.points)
                    )
        if config.runs("unseen"):
            _unseen_phase(config, work, service, results)
        parser = Parser(
            compile_definitions(BENCH_DEFINITIONS), LogFormat.TEXT, ParserLimits(), "auto"
        )
        if config.runs("concurrent"):
            _progress(f"{config.concurrent_runs} runs posting at once")
            per_run = config.concurrent_bytes // config.concurrent_runs
            concurrent = concurrent_ingest(
                service,
                _JOB,
                corpora["sparse"],
                parser,
                config.concurrent_runs,
                per_run,
                config.concurrent_chunk,
            )
            results.concurrent = concurrent
            results.peaks.append((concurrent.rate.label, concurrent.peak_rss))
        if config.runs("memory"):
            total, first = config.memory_bytes, config.memory_first
            checkpoints = sorted({first, *(total * k // 5 for k in range(1, 6))})
            _progress(f"memory: ingesting {total / 1e6:.0f} MB of the sparse corpus")
            results.memory = memory_growth(
                service, _JOB, corpora["sparse"], total, checkpoints, config.memory_chunk
            )
            results.peaks.append(
                (f"ingest of {total / 1e6:.0f} MB (memory check)", results.memory.peak_rss)
            )


def _unseen_phase(config: BenchConfig, work: Path, service: Service, results: Results) -> None:
    """A corpus made with another seed and mix than the others (`CorpusKind.MIXED`):
    naive and parser passes in this process, then posted over HTTP in 1 MiB chunks to a
    run of the benchmark's job."""
    seed = config.unseen_corpus_seed
    _progress(
        f"generating the unseen corpus (mixed, {config.unseen_bytes / 1e6:.0f} MB, seed {seed})"
    )
    data = generate(CorpusKind.MIXED, config.unseen_bytes, seed)
    path = work / "unseen.log"
    path.write_bytes(data)
    corpus = Corpus(UNSEEN, data, str(path))
    _progress("(1) naive baseline and (2) parser on the unseen corpus, one round")
    reference, parsed = time_in_process(
        BENCH_DEFINITIONS, corpus, ("auto",), config.parser_chunk, 1
    )
    results.corpora.append(_stats(corpus, reference))
    results.rates.append(reference.rate)
    for each in parsed:
        results.rates.append(each.rate)
        results.equality.append(_equality(each.rate.label, corpus, reference, each.points))
    _progress("(3) HTTP ingest of the unseen corpus, 1 MiB chunks")
    metrics = [d.name for d in BENCH_DEFINITIONS]
    done = ingest_run(service, _JOB, UNSEEN, corpus, config.large_chunk, reference.lines, metrics)
    results.rates.append(done.rate)
    results.peaks.append(("HTTP ingest, unseen corpus", done.peak_rss))
    results.equality.append(_equality(done.rate.label, corpus, reference, done.points))


def _scale_phase(config: BenchConfig, work: Path, results: Results) -> None:
    database = work / "scale.db"
    runs = ", ".join(f"{n:,}" for n in config.scale_runs)
    _progress(
        f"scale: filling jobs of {runs} runs, {config.points_per_run:,} points a run, "
        "(job through the storage API, rows bulk-loaded with SQL)"
    )
    cache = config.out_dir / "cache" if config.reuse_scale_db else None
    results.fill = prepare_scale_database(
        database, config.scale_runs, config.points_per_run, config.seed, cache
    )
    _progress("scale: starting the service on the filled file; timing reads")
    with Service(database, work / "service-scale.log") as service:
        service.reset_peak()
        results.scale = time_reads(service, config.scale_runs, config.scale_repeats)
        results.peaks.append(("scale reads", service.peak_rss()))


def _equality(label: str, corpus: Corpus, reference: Parsed, points: list[PointRow]) -> Equality:
    differences = compare_points(reference.points, points)
    return Equality(label, corpus.name, len(points), tuple(differences))


def _stats(corpus: Corpus, parsed: Parsed) -> CorpusStats:
    metric_lines = len({row[3] for row in parsed.points})
    return CorpusStats(
        corpus.name, len(corpus.data), parsed.lines, metric_lines, len(parsed.points)
    )


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)
