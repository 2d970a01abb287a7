"""A whole log parsed at once: the regex tester behind `POST /v1/parse`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from app.parsing.definitions import (
    LogFormat,
    MetricDefinition,
    compile_definitions,
    rendering_reason,
)
from app.parsing.framing import LineFramer
from app.parsing.hints import hint_literals, lines_holding, unmatched_hint
from app.parsing.lines import line_text
from app.parsing.parser import Parser, ParserLimits
from app.records import Point, Rejection, StreamState, make_point

__all__ = ["DefinitionReport", "ParsedLog", "number_points", "parse_log"]


@dataclass(frozen=True)
class DefinitionReport:
    """How one definition saw the log: the rendering its regex was matched against and
    why, for a definition that matched no line whether its literal text occurred, and
    what matched it (`Parser.matched_by`)."""

    rendering: LogFormat
    rendering_reason: str
    hint: str | None = None
    matched_by: str = "regex module"


@dataclass(frozen=True)
class ParsedLog:
    """Every point (steps numbered) and every rejection of a log, and its line count.

    `texts` are the lines in the job's rendering (decoded, cleaned or rendered, cut
    at the line limit); `point_spans` and `rejection_spans` give, for each point and
    rejection in order, where its capture lies in its line's text (None for a time-out,
    and for a definition matched against another rendering, whose text differs).
    `definitions` reports on each definition, by name.
    """

    lines: int
    points: tuple[Point, ...]
    rejections: tuple[Rejection, ...]
    texts: tuple[str, ...] = ()
    point_spans: tuple[tuple[int, int] | None, ...] = ()
    rejection_spans: tuple[tuple[int, int] | None, ...] = ()
    definitions: Mapping[str, DefinitionReport] = field(default_factory=dict)


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
    keep_all = ParserLimits(
        max_line_bytes=base.max_line_bytes,
        regex_timeout=base.regex_timeout,
        timeouts_per_chunk=base.timeouts_per_chunk,
        rejections_kept=len(log) + 1,
    )
    compiled = compile_definitions(definitions, log_format)
    parser = Parser(compiled, log_format, keep_all, scanner)
    body = parser.feed(StreamState(), log)
    tail = parser.finish(body.state)
    points = tuple(number_points([*body.points, *tail.points], {}))
    rejections = body.rejections + tail.rejections
    texts = _line_texts(log, log_format, log_format, base.max_line_bytes)
    by_name = {definition.name: definition for definition in compiled}
    rendered = {log_format: texts}
    for definition in compiled:
        if definition.rendering not in rendered:
            rendered[definition.rendering] = _line_texts(
                log, log_format, definition.rendering, base.max_line_bytes
            )
    matched = {point.metric for point in points} | {r.metric for r in rejections}
    ways = parser.matched_by()
    reports = {}
    for given, definition in zip(definitions, compiled, strict=True):
        hint = None
        literals = hint_literals(definition.regex)
        if definition.name not in matched and literals:
            seen = rendered[definition.rendering]
            hint = unmatched_hint(literals, lines_holding(literals, (t.encode() for t in seen)))
        reason = rendering_reason(given, log_format)
        reports[definition.name] = DefinitionReport(
            definition.rendering, reason, hint, ways[definition.name]
        )

    def span(metric: str, line: int) -> tuple[int, int] | None:
        definition = by_name[metric]
        if definition.rendering is not log_format:
            return None
        try:
            match = definition.pattern.search(texts[line - 1], timeout=base.regex_timeout)
        except TimeoutError:
            return None
        if match is None or match.start(definition.value_group) < 0:
            return None
        return match.span(definition.value_group)

    return ParsedLog(
        lines=body.lines + tail.lines,
        points=points,
        rejections=rejections,
        texts=texts,
        point_spans=tuple(span(p.metric, p.line) for p in points),
        rejection_spans=tuple(
            span(r.metric, r.line) if r.capture is not None else None for r in rejections
        ),
        definitions=reports,
    )


def _line_texts(
    log: bytes, log_format: LogFormat, rendering: LogFormat, max_bytes: int
) -> tuple[str, ...]:
    """Every line of a whole log, cut as `log_format` cuts it, in `rendering`."""
    raws = LineFramer(log_format).lines(log)
    return tuple(line_text(raw, rendering, max_bytes) for raw in raws)


def number_points(points: Sequence[Point], counts: dict[str, int]) -> list[Point]:
    """Give each point without a `step` capture its 1-based number among its metric's points.

    Args:
        points: in arrival order.
        counts: points each metric has had so far; updated in place.
    """
    numbered: list[Point] = []
    append, seen = numbered.append, counts.get
    for point in points:
        metric, value, step, line, offset = point
        count = counts[metric] = seen(metric, 0) + 1
        if step is None:
            # The rule of `app.summaries.settled_step`. A new tuple only here (a point
            # with a step stays as it is), and not `_replace` nor `Point(...)`: this runs
            # once a point, and `_replace` costs as much as the search that found it.
            point = make_point((metric, value, count, line, offset))
        append(point)
    return numbered
