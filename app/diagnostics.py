"""A run's diagnostics: for each metric that matched no line, whether its text occurs."""

from __future__ import annotations

from collections.abc import Iterator

from app.parsing.framing import LineFramer
from app.parsing.hints import hint_literals, lines_holding, unmatched_hint
from app.records import Job, Run
from app.storage import Storage

__all__ = ["HINT_SCAN_BYTES", "unmatched_hints"]

# Read at most this much of a run's logs for hints: enough for any typo to show.
HINT_SCAN_BYTES = 8 * 1024 * 1024


def unmatched_hints(storage: Storage, job: Job, run: Run) -> dict[str, str]:
    """For each of the job's metrics that no line of the run matched, a hint by name:
    whether the literal text its regex needs occurs in the run's logs, and how often."""
    matched = {summary.name for summary in run.metrics if summary.count or summary.rejected}
    wanted = {
        definition.name: literals
        for definition in job.metric_definitions
        if definition.name not in matched
        and (literals := hint_literals(definition.regex)) is not None
    }
    if not wanted or not run.streams:
        return {}
    lines = list(_lines(storage, job, run))
    truncated = sum(stream.next_offset for stream in run.streams) > HINT_SCAN_BYTES
    scope = f" (in the first {HINT_SCAN_BYTES // 2**20} MiB of its logs)" if truncated else ""
    return {
        name: unmatched_hint(literals, lines_holding(literals, lines)) + scope
        for name, literals in wanted.items()
    }


def _lines(storage: Storage, job: Job, run: Run) -> Iterator[bytes]:
    left = HINT_SCAN_BYTES
    framer = LineFramer(job.log_format)
    for stream in run.streams:
        if left <= 0:
            return
        stop = min(stream.next_offset, left)
        left -= stop
        data = b"".join(storage.read_log(job, run.name, stream.name, 0, stop).pieces)
        yield from framer.lines(data)
