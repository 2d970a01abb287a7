"""Phases (1) and (2): the naive baseline and the service's parser, in this process."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.parsing import (
    LogFormat,
    MetricDefinition,
    Parser,
    ParserLimits,
    compile_definitions,
    number_points,
)
from app.records import Point, StreamState
from bench.naive import NaiveResult, naive_parse
from bench.points import PointRow, rows_of
from bench.timing import Rate, chunk_label, timed_cpu, timed_repeats

__all__ = ["Corpus", "Parsed", "parse_in_chunks", "time_naive", "time_parser"]


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
    """Phase (1), once: at a few MB/s one pass is long enough to time."""
    seconds, cpu, result = timed_cpu(lambda: naive_parse(definitions, corpus.data))
    assert isinstance(result, NaiveResult)
    rate = Rate(
        "naive (every line x every definition)",
        corpus.name,
        seconds,
        len(corpus.data),
        result.lines,
        cpu_seconds=cpu,
    )
    return Parsed(rate, result.points, result.lines)


def time_parser(
    definitions: Sequence[MetricDefinition],
    corpus: Corpus,
    scanner: str,
    chunk_size: int,
    repeats: int,
    budget: float,
    lines: int,
) -> Parsed:
    """Phase (2): `Parser.feed` on `chunk_size` chunks, then `finish`; the median of runs.

    `lines` is the corpus's line count (from the naive pass), for lines/s; the parser's
    own count is checked against it.
    """
    parser = Parser(compile_definitions(definitions), LogFormat.TEXT, ParserLimits(), scanner)
    seconds, cpu, runs, (points, parsed_lines) = timed_repeats(
        lambda: parse_in_chunks(parser, corpus.data, chunk_size), repeats, budget
    )
    if parsed_lines != lines:
        raise AssertionError(f"parser ({scanner}) counted {parsed_lines} lines, naive {lines}")
    label = f"parser, scanner {scanner!r}, {chunk_label(chunk_size)} chunks"
    rate = Rate(label, corpus.name, seconds, len(corpus.data), lines, runs, cpu)
    return Parsed(rate, rows_of(points), parsed_lines)


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
