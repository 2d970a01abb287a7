"""Phases (1) and (2): the naive baseline and the service's parser, in this process."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from app.parsing import (
    LogFormat,
    MetricDefinition,
    Parser,
    ParserLimits,
    compile_definitions,
    number_points,
)
from app.records import Point, StreamState
from bench.timing import Rate, chunk_label, timed_cpu
from tests.parsing.naive import NaiveResult, PointRow, naive_parse, rows_of

__all__ = ["Corpus", "Parsed", "parse_in_chunks", "time_in_process", "time_naive"]


@dataclass(frozen=True)
class Corpus:
    name: str  # sparse | dense
    data: bytes
    path: str  # where it is written, for ripgrep


@dataclass(frozen=True)
class Parsed:
    """A timed parse and what it found."""

    rate: Rate
    points: list[PointRow]
    lines: int


def time_naive(definitions: Sequence[MetricDefinition], corpus: Corpus) -> Parsed:
    """Phase (1) alone, one pass: the points and lines the ingest phases are checked with."""
    seconds, cpu, result = timed_cpu(partial(naive_parse, definitions, corpus.data))
    return Parsed(_naive_rate(corpus, result, seconds, cpu, 1), result.points, result.lines)


def time_in_process(
    definitions: Sequence[MetricDefinition],
    corpus: Corpus,
    scanners: Sequence[str],
    chunk_size: int,
    rounds: int,
) -> tuple[Parsed, list[Parsed]]:
    """Phases (1) and (2) on one corpus, side by side: each round times one naive pass,
    then one pass of the parser with each scanner (`Parser.feed` on `chunk_size` chunks,
    then `finish`); each row is the median of its rounds.

    A shared machine's speed drifts by tens of per cent from one minute to the next.
    Passes timed next to each other drift alike, so their ratio holds; a naive pass timed
    minutes before the parser's made it swing from 1x to 2x between two runs.

    Returns:
        The naive baseline, and the parser with each scanner, in the order given.
    """
    if rounds < 1:
        raise ValueError(f"at least one round is needed, got {rounds}")
    parsers = [
        Parser(compile_definitions(definitions), LogFormat.TEXT, ParserLimits(), scanner)
        for scanner in scanners
    ]
    naive_times: list[tuple[float, float]] = []
    parser_times: list[list[tuple[float, float]]] = [[] for _ in parsers]
    found: list[tuple[list[Point], int]] = []
    for _ in range(rounds):
        seconds, cpu, naive = timed_cpu(partial(naive_parse, definitions, corpus.data))
        naive_times.append((seconds, cpu))
        found.clear()
        for parser, times in zip(parsers, parser_times, strict=True):
            parse = partial(parse_in_chunks, parser, corpus.data, chunk_size)
            seconds, cpu, parsed = timed_cpu(parse)
            times.append((seconds, cpu))
            found.append(parsed)
    rows = []
    for scanner, times, (points, lines) in zip(scanners, parser_times, found, strict=True):
        if lines != naive.lines:
            raise AssertionError(f"parser ({scanner}) counted {lines} lines, naive {naive.lines}")
        label = f"parser, scanner {scanner!r}, {chunk_label(chunk_size)} chunks"
        seconds, cpu = _medians(times)
        rate = Rate(label, corpus.name, seconds, len(corpus.data), lines, rounds, cpu)
        rows.append(Parsed(rate, rows_of(points), lines))
    seconds, cpu = _medians(naive_times)
    naive_rate = _naive_rate(corpus, naive, seconds, cpu, rounds)
    return Parsed(naive_rate, naive.points, naive.lines), rows


def _naive_rate(corpus: Corpus, result: NaiveResult, seconds: float, cpu: float, runs: int) -> Rate:
    label = "naive (every line x every definition)"
    return Rate(label, corpus.name, seconds, len(corpus.data), result.lines, runs, cpu)


def _medians(times: list[tuple[float, float]]) -> tuple[float, float]:
    """The median wall and CPU seconds of passes, as (seconds, cpu_seconds)."""
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def parse_in_chunks(parser: Parser, data: bytes, chunk_size: int) -> tuple[list[Point], int]:
    """Feed `data` as one stream in chunks; the numbered points and the line count."""
    state = StreamState()
    points: list[Point] = []
    for start in range(0, len(data), chunk_size):
        result = parser.feed(state, data[start : start + chunk_size])
        state = result.state
        points.extend(result.points)
    tail = parser.finish(state)
    points.extend(tail.points)
    return number_points(points, {}), tail.state.lines
