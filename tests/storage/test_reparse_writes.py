"""A re-parse stores a run's writes at once (`replay_writes.store_replay`): its summaries,
in the order ingest creates them, its kept rejection examples and its points are those
ingest stores chunk by chunk, over many chunks and two streams, on every backend."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from app.ingest import Ingestor
from app.parsing import ParserLimits
from app.records import Job, MetricDefinition, RunStatus
from app.reparse import reparse_run, start_reparse
from app.storage import JobSpec, Storage

from .factories import T0

# `acc` appears first in the log but sorts after `Loss`; `lr` comes only in the last chunks.
DEFINITIONS = (
    MetricDefinition("loss", "Loss = (.*?);"),
    MetricDefinition("acc", r"acc=(\S+)"),
    MetricDefinition("lr", r"lr=([0-9.e-]+)"),
)
NONE_FOUND = (MetricDefinition("loss", "Los = (.*?);"),)


def chunks() -> list[tuple[str, bytes]]:
    """60 small chunks: points on both streams, lines cut across chunks, non-numbers
    (rejections, more than the summaries keep) and a last line with no end."""
    found = []
    for i in range(60):
        stream = "stderr" if i % 7 == 3 else "stdout"
        value = b"x" if i % 5 == 0 else b"%d.5" % i
        found.append((stream, b"acc=0.%02d step Loss = %s; trailing" % (i, value)))
        found.append((stream, b" words\n" if i < 50 else b" lr=1e-%d\n" % (i % 4)))
    found.append(("stdout", b"acc=0.99 Loss = 0.125;"))
    return found


def fill(backend: Storage, ingestor: Ingestor, job: Job) -> None:
    backend.create_run(job, "run", {})
    for index, (stream, data) in enumerate(chunks()):
        ingestor.append(job, "run", stream, data, None, T0 + timedelta(seconds=index))
    ingestor.complete(job, "run", RunStatus.COMPLETED, None)


def stored(backend: Storage, job: Job) -> dict[str, object]:
    run = backend.get_run(job, "run")
    return {
        "objective": run.objective_value,
        # In the order the storage lists them, which follows their creation.
        "summaries": [
            (
                m.name,
                m.count,
                m.last,
                m.last_step,
                m.last_timestamp,
                m.min,
                m.max,
                m.rejected,
                m.timeouts,
                tuple(m.examples),
            )
            for m in run.metrics
        ],
        "points": {
            d.name: backend.metric_series(job, "run", d.name, 0, 1000)[0] for d in DEFINITIONS
        },
    }


def test_a_reparsed_run_stores_the_rows_ingest_stores(open_backend):
    backend = open_backend(rejections_kept=3)
    ingestor = Ingestor(backend, ParserLimits())
    spec = JobSpec("fresh", "loss", "Minimize", "min", "text", DEFINITIONS, {})
    fresh = backend.create_job(spec)
    again = backend.create_job(
        dataclasses.replace(spec, name="again", metric_definitions=NONE_FOUND)
    )
    for job in (fresh, again):
        fill(backend, ingestor, job)
    assert backend.get_run(again, "run").metrics == ()

    again = start_reparse(backend, again, DEFINITIONS)
    assert reparse_run(backend, ingestor, again, "run")

    expected = stored(backend, fresh)
    assert stored(backend, again) == expected
    summaries = expected["summaries"]
    assert [s[0] for s in summaries] == ["acc", "loss", "lr"]  # type: ignore[index]
    loss = summaries[1]  # type: ignore[index]
    assert loss[1:3] == (49, 0.125)  # 48 numbers and the last line's; 12 rejected
    assert loss[5:8] == (0.125, 59.5, 12)
    # The last 3 of the 12 kept, newest last: chunks 45 (stderr's 7th line), 50 and 55.
    assert [example[:2] for example in loss[9]] == [("stderr", 7), ("stdout", 44), ("stdout", 48)]
    assert expected["objective"] == 0.125
