"""Metric definitions applied to log streams: pure, streaming, free of I/O."""

from app.parsing.core import core_status
from app.parsing.definitions import (
    MAX_DEFINITIONS,
    CompiledDefinition,
    LogFormat,
    MetricDefinition,
    compile_definitions,
)
from app.parsing.dry_run import ParsedLog, number_points, parse_log
from app.parsing.parser import ChunkResult, Parser, ParserLimits

__all__ = [
    "MAX_DEFINITIONS",
    "ChunkResult",
    "CompiledDefinition",
    "LogFormat",
    "MetricDefinition",
    "ParsedLog",
    "Parser",
    "ParserLimits",
    "compile_definitions",
    "core_status",
    "number_points",
    "parse_log",
]
