"""Any split of a stream into chunks, any retry of any chunk: the same stored points."""

from __future__ import annotations

import itertools
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from app.ingest import Ingestor
from app.jobs import job_spec, run_hyperparameters
from app.parsing import LogFormat, MetricDefinition, ParserLimits, parse_log
from app.records import RunStatus
from app.storage import SqlStorage

DEFINITIONS = [
    MetricDefinition("loss", r"loss=(\S+);"),
    MetricDefinition("acc", r"(?i)acc: (?P<value>[0-9.]+) at (?P<step>\d+)"),
    MetricDefinition("real", r"real (\S+)"),
]
STREAM = (
    b"epoch 1 loss=0.9; real 93.3%\r\n"
    b"bar 10%\rbar 50% loss=0.8;\r"
    b"\nACC: 0.5 at 10\n"
    b"\x1b[32mloss=0.7;\x1b[0m pr\xc3\xa9cision\n"
    b"noise \xff\xfe\n"
    b"acc: 0.75 at 20 real 0.25\n"
    b"loss=0.6;"
)
WHEN = datetime(2026, 11, 22, tzinfo=UTC)


def expected() -> list[tuple[str, float, int, int]]:
    parsed = parse_log(DEFINITIONS, STREAM, LogFormat.TEXT)
    return sorted((p.metric, p.value, p.step, p.line) for p in parsed.points)


@st.composite
def deliveries(draw):
    """Chunks with offsets, as a client with retries might send them: each piece is
    sent once or more, some again later, some overlapping what was sent."""
    cuts = sorted(set(draw(st.lists(st.integers(1, len(STREAM) - 1), max_size=8))))
    bounds = [0, *cuts, len(STREAM)]
    sends = []
    for start, end in itertools.pairwise(bounds):
        sends.append((start, end))
        if draw(st.booleans()):  # a retry of this chunk, or of a wider one
            sends.append((draw(st.integers(0, start)), end))
        if sends and draw(st.integers(0, 4)) == 0:  # an old chunk arrives late
            sends.append(draw(st.sampled_from(sends)))
    return sends


@settings(max_examples=60, deadline=None)
@given(sends=deliveries())
def test_retried_and_overlapping_chunks_store_each_point_once(sends):
    with tempfile.TemporaryDirectory() as folder:
        storage = SqlStorage(f"sqlite:///{Path(folder) / 'db'}", sqlite_synchronous="OFF")
        try:
            spec = job_spec("job", "loss", "Minimize", "latest", DEFINITIONS, LogFormat.TEXT, {})
            job = storage.create_job(spec)
            storage.create_run(job, "run", run_hyperparameters(job, {}))
            ingestor = Ingestor(storage, ParserLimits())
            for start, end in sends:
                ingestor.append(job, "run", "stdout", STREAM[start:end], start, WHEN)
            ingestor.complete(job, "run", RunStatus.COMPLETED, None)
            stored = []
            for definition in DEFINITIONS:
                series, _ = storage.metric_series(job, "run", definition.name, 0, 1000)
                stored += [(definition.name, p.value, p.step, p.line) for p in series]
            assert sorted(stored) == expected()
            assert b"".join(storage.read_log(job, "run", "stdout").pieces) == STREAM
        finally:
            storage.close()
