"""A whole log parsed at once: the regex tester behind `POST /v1/parse`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.parsing.definitions import LogFormat, MetricDefinition, compile_definitions
from app.parsing.parser import Parser, ParserLimits
from app.records import Point, Rejection, StreamState

__all__ = ["ParsedLog", "number_points", "parse_log"]


@dataclass(frozen=True)
class ParsedLog:
    """Every point (steps numbered) and every rejection of a log, and its line count."""

    lines: int
    points: tuple[Point, ...]
    rejections: tuple[Rejection, ...]


def parse_log(
    definitions: Sequence[MetricDefinition],
    log: bytes,
    log_format: LogFormat = LogFormat.TEXT,
    limits: ParserLimits | None = None,
    scanner: str = "auto",
) -> ParsedLog:
    """Parse a complete log as one stream of a new run.

    Args:
        definitions: the metric definitions, validated here.
        log: the log's bytes; its last line need not end with a line end.
        log_format: as for a job.
        limits: per-line bounds; all rejections are kept whatever `rejections_kept` says.
        scanner: as for `Parser`.

    Raises:
        InvalidMetricDefinition: as `compile_definitions` does.
    """
    base = limits or ParserLimits()
    keep_all = ParserLimits(base.max_line_bytes, base.regex_timeout, rejections_kept=len(log) + 1)
    parser = Parser(compile_definitions(definitions), log_format, keep_all, scanner)
    body = parser.feed(StreamState(), log)
    tail = parser.finish(body.state)
    points = number_points([*body.points, *tail.points], {})
    return ParsedLog(body.lines + tail.lines, tuple(points), body.rejections + tail.rejections)


def number_points(points: Sequence[Point], counts: dict[str, int]) -> list[Point]:
    """Give each point without a `step` capture its 1-based number among its metric's points.

    Args:
        points: in arrival order.
        counts: points each metric has had so far; updated in place.
    """
    numbered = []
    for point in points:
        count = counts[point.metric] = counts.get(point.metric, 0) + 1
        numbered.append(point if point.step is not None else point._replace(step=count))
    return numbered
