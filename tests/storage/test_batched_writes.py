"""Chunks of many runs written at once (SQLite's group commit runs them in one
transaction, without a savepoint each unless one fails) are stored exactly as the
same chunks written one at a time: the same points, summaries, stream states, raw
bytes and objective values, on every backend; a chunk that fails in a batch fails
alone and leaves nothing behind."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from app.errors import StreamMoved
from app.ingest import Ingestor
from app.parsing import ParserLimits
from app.records import Job, RunStatus
from app.storage import ChunkWrite

from .factories import T0, whole_log

RUNS = 12
# Three chunks a run, split inside a line, with a \r redraw, a number that is no number
# and lines of two metrics.
CHUNKS = [
    b"[epoch 1] Loss = 0.75; GAN_loss=1.5;\n[epoch 2] Loss = 0.",
    b"5;\rprogress 50%\rdone\n[epoch 3] Loss = nan?; disc_train_loss=2;\n",
    b"[epoch 4] Loss = 0.25;\n[epoch 5] GAN_loss=0.125;\npartial Loss = 9",
]


def _stored(backend, job: Job, run: str) -> object:
    """Everything the backend keeps of a run, as plain values (no ids or run names)."""
    read = backend.get_run(job, run)
    series = {
        metric: list(backend.metric_series(job, run, metric, 0, 100)[0])
        for metric in ("loss", "GAN_loss", "disc_train_loss")
    }
    metrics = sorted(
        (m.name, m.count, m.last, m.last_step, m.last_timestamp, m.min, m.max, m.rejected)
        for m in read.metrics
    )
    examples = {m.name: m.examples for m in read.metrics}
    return (
        read.objective_value,
        series,
        metrics,
        examples,
        backend.read_stream(job, run, "stdout").state,
        whole_log(backend, job, read, "stdout"),
    )


def test_chunks_written_at_once_are_stored_as_written_one_at_a_time(backend, make_job, make_run):
    alone = make_job(name="alone")
    together = make_job(name="together")
    ingestor = Ingestor(backend, ParserLimits())
    for number in range(RUNS):
        make_run(alone, f"run-{number}")
        make_run(together, f"run-{number}")
    for number in range(RUNS):
        for data in CHUNKS:
            ingestor.append(alone, f"run-{number}", "stdout", data, None, T0)

    start = threading.Barrier(RUNS, timeout=60)

    def write_all(number: int) -> None:
        start.wait()
        for data in CHUNKS:
            ingestor.append(together, f"run-{number}", "stdout", data, None, T0)

    with ThreadPoolExecutor(RUNS) as pool:
        list(pool.map(write_all, range(RUNS)))

    for number in range(RUNS):
        expected = _stored(backend, alone, f"run-{number}")
        assert _stored(backend, together, f"run-{number}") == expected
    assert _stored(backend, alone, "run-0")[0] == 0.25  # the objective: the last loss


@pytest.mark.parametrize("stale", [0, 5, 11])
def test_a_chunk_that_fails_among_others_leaves_nothing_and_fails_alone(
    backend, make_job, make_run, stale
):
    job = make_job()
    runs = [make_run(job, f"run-{number}") for number in range(RUNS)]
    ingestor = Ingestor(backend, ParserLimits())
    for run in runs:
        ingestor.append(job, run.name, "stdout", CHUNKS[0], None, T0)
    snapshots = {run.name: backend.read_stream(job, run.name, "stdout") for run in runs}
    parser = ingestor.parser(job)
    start = threading.Barrier(RUNS, timeout=60)

    def write(number: int) -> str:
        snapshot = snapshots[f"run-{number}"]
        result = parser.feed(snapshot.state, CHUNKS[1], 10.0)
        write = ChunkWrite.parsed("stdout", snapshot.state.next_offset, result, CHUNKS[1], T0)
        if number == stale:  # parsed from an offset the stream has left
            write = replace(write, expected_offset=write.expected_offset - 1)
        start.wait()
        try:
            backend.append_chunk(job, snapshot.run, write)
        except StreamMoved:
            return "moved"
        return "stored"

    with ThreadPoolExecutor(RUNS) as pool:
        outcomes = list(pool.map(write, range(RUNS)))

    assert outcomes == ["moved" if n == stale else "stored" for n in range(RUNS)]
    for number, run in enumerate(runs):
        read = backend.get_run(job, run.name)
        chunks = CHUNKS[:1] if number == stale else CHUNKS[:2]
        assert whole_log(backend, job, run, "stdout") == b"".join(chunks)
        counts = {m.name: (m.count, m.rejected) for m in read.metrics}
        # CHUNKS[1] completes epoch 2's loss and rejects epoch 3's "nan?".
        assert counts["loss"] == ((1, 0) if number == stale else (2, 1))
        assert read.status is RunStatus.IN_PROGRESS
