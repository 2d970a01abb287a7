"""A re-parse stores a run's writes at once (`replay_writes.store_replay`): its summaries,
in the order ingest creates them, its kept rejection examples and its points are those
ingest stores chunk by chunk, over many chunks and two streams, on every backend."""

from __future__ import annotations

import dataclasses
import random
from datetime import timedelta

import pytest

from app.ingest import Ingestor
from app.parsing import ChunkResult, Parser, ParserLimits
from app.records import Job, MetricDefinition, RunStatus, StreamState
from app.reparse import RunReplay, reparse_run, start_reparse
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


def random_log(rng: random.Random, non_numbers: float) -> bytes:
    """Lines with points, progress redraws ended by `\\r`, `\\r\\n` ends, non-numbers
    (now and then more than a parse keeps as examples) and lines with none."""
    out = bytearray()
    for i in range(400):
        roll = rng.random()
        end = rng.choice((b"\n", b"\n", b"\r\n", b"\r"))
        if roll < 0.4:
            out += b"epoch %d acc=0.%d Loss = %d.25;" % (i, rng.randrange(99), rng.randrange(50))
        elif roll < 0.4 + non_numbers:
            out += b"Loss = nan?; acc=x"  # two non-numbers
        elif roll < 0.6:
            out += b"lr=1e-%d" % rng.randrange(9)
        else:
            out += b"nothing to see " * rng.randrange(4)
        out += end
    return bytes(out)


def cut(rng: random.Random, log: bytes) -> list[tuple[str, bytes]]:
    """The log cut into chunks of 1 to 300 bytes, most at a line end, on two streams."""
    found: list[tuple[str, bytes]] = []
    streams = {"stdout": 0, "stderr": 0}
    while any(at < len(log) for at in streams.values()):
        stream = rng.choice([name for name, at in streams.items() if at < len(log)])
        at = streams[stream]
        end = min(len(log), at + rng.randrange(1, 300))
        if rng.random() < 0.8:  # most chunks end at a line end, as shippers send them
            line_end = max(log.rfind(b"\n", at, end), log.rfind(b"\r", at, end))
            end = line_end + 1 if line_end >= at else end
        found.append((stream, log[at:end]))
        streams[stream] = end
    return found


class CountingParser:
    """A parser that counts the calls to `feed`."""

    def __init__(self, parser: Parser) -> None:
        self.parser = parser
        self.framer = parser.framer
        self.feeds = 0

    def feed(self, state: StreamState, chunk: bytes) -> ChunkResult:
        self.feeds += 1
        return self.parser.feed(state, chunk)

    def finish(self, state: StreamState) -> ChunkResult:
        return self.parser.finish(state)


@pytest.mark.parametrize(("seed", "non_numbers"), [(1, 0.02), (2, 0.02), (3, 0.3)])
def test_small_chunks_parsed_joined_give_what_ingest_gave(open_backend, seed, non_numbers):
    rng = random.Random(seed)
    backend = open_backend(rejections_kept=4)
    ingestor = Ingestor(backend, ParserLimits())
    spec = JobSpec("fresh", "loss", "Minimize", "latest", "text", DEFINITIONS, {})
    fresh = backend.create_job(spec)
    again = backend.create_job(
        dataclasses.replace(spec, name="again", metric_definitions=NONE_FOUND)
    )
    chunks = cut(rng, random_log(rng, non_numbers))
    for job in (fresh, again):
        backend.create_run(job, "run", {})
        for index, (stream, data) in enumerate(chunks):
            ingestor.append(job, "run", stream, data, None, T0 + timedelta(seconds=index))
        ingestor.complete(job, "run", RunStatus.COMPLETED, None)

    again = start_reparse(backend, again, DEFINITIONS)
    run_log = backend.read_run_log(again, "run")
    parser = CountingParser(ingestor.parser(again))
    replay = RunReplay(parser)  # type: ignore[arg-type]
    replay.feed(run_log)
    assert backend.replace_run_points(again, run_log.run, replay.seen, replay.complete)

    assert stored(backend, again) == stored(backend, fresh)
    assert len(chunks) > 100
    if non_numbers < 0.1:
        assert parser.feeds < len(chunks) / 2  # parsed joined, not chunk by chunk
    else:  # more rejections than a parse keeps: its chunks' shares unknown, parsed alone
        assert parser.feeds > len(chunks)
