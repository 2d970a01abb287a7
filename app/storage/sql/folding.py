"""A chunk write folded into its run's summaries, and its points' rows: the one rule that
ingest (a chunk at a time) and re-parse (a run's writes at once) both store by."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from app.records import MetricSummary, Point, RejectionExample
from app.storage.records import ChunkWrite
from app.summaries import by_metric, fold

__all__ = ["WriteByMetric", "fold_write", "summary_values"]


class WriteByMetric:
    """A write's points and kept rejections by metric, and every metric it touches."""

    def __init__(self, write: ChunkWrite) -> None:
        self.write = write
        self.points: Mapping[str, list[Point]] = by_metric(write.points)
        examples: dict[str, list[RejectionExample]] = {}
        for rejection in write.rejections:
            examples.setdefault(rejection.metric, []).append(
                RejectionExample(write.stream, rejection.line, rejection.capture, rejection.reason)
            )
        self.examples: Mapping[str, list[RejectionExample]] = examples
        self.names = set(self.points) | set(write.rejected) | set(write.timeouts) | set(examples)


def fold_write(
    grouped: WriteByMetric,
    names: Iterable[str],
    summaries: dict[str, MetricSummary],
    ids: Mapping[str, int],
    stream_id: int,
    examples_kept: int,
) -> list[tuple[Any, ...]]:
    """Fold the write's metrics `names` into `summaries` (replaced in it) and return their
    points' rows, in the order of `statements.POINT_COLUMNS`.

    Args:
        ids: each metric's summary row id; stream_id: the write's stream's id.
        examples_kept: how many rejection examples a summary keeps.
    """
    write = grouped.write
    timestamp = write.timestamp.timestamp()
    rows: list[tuple[Any, ...]] = []
    for name in names:
        summary, numbered = fold(
            summaries[name],
            grouped.points.get(name, ()),
            write.timestamp,
            grouped.examples.get(name, ()),
            write.rejected.get(name, 0),
            write.timeouts.get(name, 0),
            examples_kept,
        )
        summaries[name] = summary
        metric_id = ids[name]
        rows += [
            (metric_id, p.seq, p.step, p.value, timestamp, stream_id, p.line, p.offset)
            for p in numbered
        ]
    return rows


def summary_values(summary: MetricSummary) -> dict[str, Any]:
    """A summary's columns as `update_summary` writes them (examples as JSON text, which
    `statements` passes to the driver)."""
    stamp = summary.last_timestamp
    return {
        "count": summary.count,
        "last": summary.last,
        "last_step": summary.last_step,
        "last_timestamp": stamp.timestamp() if stamp is not None else None,
        "min": summary.min,
        "max": summary.max,
        "rejected": summary.rejected,
        "timeouts": summary.timeouts,
        "examples": json.dumps([list(example) for example in summary.examples]),
    }
