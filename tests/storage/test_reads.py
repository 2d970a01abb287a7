"""Reading back: a metric's series a page at a time, a stream's raw bytes whole or in part."""

from __future__ import annotations

import pytest

from app.errors import StreamNotFound
from app.records import Point, RunSeries, RunStatus, SeriesPoint, StreamState

from .factories import T0, chunk, whole_log

# 40 lines ending in \r\n, then binary bytes with a euro sign split in two: 42 chunks,
# more than a storage may read in one go.
MANY_CHUNKS = [f"epoch {i} Loss = {1 / i!r};\r\n".encode() for i in range(1, 41)] + [
    b"\x00\xff\xfe binary \xe2\x82",
    b"\xac euro\n",
]
MANY_BYTES = b"".join(MANY_CHUNKS)


@pytest.fixture
def many_chunks(backend, make_job, make_run):
    job = make_job()
    run = make_run(job)
    offset = 0
    for number, piece in enumerate(MANY_CHUNKS, 1):
        state = StreamState(next_offset=offset + len(piece), lines=number)
        backend.append_chunk(job, run, chunk(piece, state, expected_offset=offset))
        offset += len(piece)
    return job, run


def test_raw_bytes_read_back_exactly_across_many_chunks(backend, many_chunks):
    job, run = many_chunks

    assert whole_log(backend, job, run, "stdout") == MANY_BYTES


@pytest.mark.parametrize(("start", "stop"), [(7, 1000), (500, 1200), (1000, None), (1, 2)])
def test_a_range_of_many_chunks_reads_back_exactly(backend, many_chunks, start, stop):
    job, run = many_chunks

    found = backend.read_log(job, run.name, "stdout", start, stop)

    assert b"".join(found.pieces) == MANY_BYTES[start:stop]


def test_each_stream_keeps_its_own_bytes(backend, make_job, make_run):
    job = make_job()
    run = make_run(job)
    backend.append_chunk(job, run, chunk(b"Loss = 0.5;\n", StreamState(next_offset=12, lines=1)))
    backend.append_chunk(
        job,
        run,
        chunk(b"UserWarning: lr is high\n", StreamState(next_offset=24, lines=1), stream="stderr"),
    )

    assert whole_log(backend, job, run, "stdout") == b"Loss = 0.5;\n"
    assert whole_log(backend, job, run, "stderr") == b"UserWarning: lr is high\n"


def test_an_unknown_stream_has_no_log(backend, make_job, make_run):
    job = make_job()
    run = make_run(job)
    backend.append_chunk(job, run, chunk(b"Loss = 0.5;\n", StreamState(next_offset=12, lines=1)))

    with pytest.raises(StreamNotFound):
        backend.read_log(job, run.name, "stderr")


FIVE_LOSSES = b"".join(f"epoch {i} Loss = 0.{i};\n".encode() for i in range(1, 6))  # 5 x 20 bytes


@pytest.fixture
def five_points(backend, make_job, make_run):
    job = make_job()
    run = make_run(job)
    backend.append_chunk(
        job,
        run,
        chunk(
            FIVE_LOSSES,
            StreamState(next_offset=100, lines=5),
            [Point("loss", i / 10, None, i, (i - 1) * 20) for i in range(1, 6)],
        ),
    )
    return job, run


def test_a_series_is_read_a_page_at_a_time(backend, five_points):
    job, run = five_points

    first = backend.metric_series(job, run.name, "loss", 0, 2)
    second = backend.metric_series(job, run.name, "loss", 2, 2)
    last = backend.metric_series(job, run.name, "loss", 4, 2)

    assert first == (
        [SeriesPoint(1, 0.1, T0, "stdout", 1, 0), SeriesPoint(2, 0.2, T0, "stdout", 2, 20)],
        2,
    )
    assert second == (
        [SeriesPoint(3, 0.3, T0, "stdout", 3, 40), SeriesPoint(4, 0.4, T0, "stdout", 4, 60)],
        4,
    )
    assert last == ([SeriesPoint(5, 0.5, T0, "stdout", 5, 80)], None)


def test_a_page_that_ends_the_series_has_no_next(backend, five_points):
    job, run = five_points

    points, after = backend.metric_series(job, run.name, "loss", 0, 5)

    assert ([p.step for p in points], after) == ([1, 2, 3, 4, 5], None)
    assert backend.metric_series(job, run.name, "loss", 5, 5) == ([], None)


@pytest.mark.parametrize("metric", ["GAN_loss", "accuracy"], ids=["defined", "undefined"])
def test_a_metric_without_points_has_an_empty_series(backend, five_points, metric):
    job, run = five_points

    assert backend.metric_series(job, run.name, metric, 0, 10) == ([], None)


# Byte ranges: a stream of three chunks, "epoch 1 Loss = 0.75;\n" (0-21),
# "epoch 2 Loss = 0.5;\n" (21-41) and "epoch 3 Loss = 0.25;\n" (41-62).
THREE_CHUNKS = [b"epoch 1 Loss = 0.75;\n", b"epoch 2 Loss = 0.5;\n", b"epoch 3 Loss = 0.25;\n"]


@pytest.fixture
def three_chunks(backend, make_job, make_run):
    job = make_job()
    run = make_run(job)
    offset = 0
    for number, piece in enumerate(THREE_CHUNKS, 1):
        state = StreamState(next_offset=offset + len(piece), lines=number)
        backend.append_chunk(job, run, chunk(piece, state, expected_offset=offset))
        offset += len(piece)
    return job, run


@pytest.mark.parametrize(
    ("start", "stop", "tail", "expected"),
    [
        (0, None, None, (0, 62, b"".join(THREE_CHUNKS))),
        (21, 41, None, (21, 41, b"epoch 2 Loss = 0.5;\n")),
        (15, 29, None, (15, 29, b"0.75;\nepoch 2 ")),
        (36, None, None, (36, 62, b"0.5;\nepoch 3 Loss = 0.25;\n")),
        (54, 1000, None, (54, 62, b"= 0.25;\n")),
        (62, None, None, (62, 62, b"")),
        (100, None, None, (62, 62, b"")),
        (30, 20, None, (30, 30, b"")),
        (0, None, 6, (56, 62, b"0.25;\n")),
        (0, None, 1000, (0, 62, b"".join(THREE_CHUNKS))),
        (0, None, 0, (62, 62, b"")),
    ],
    ids=[
        "whole",
        "one-chunk",
        "across-a-chunk-end",
        "to-the-end",
        "stop-beyond-the-end",
        "at-the-end",
        "start-beyond-the-end",
        "stop-before-start",
        "tail",
        "tail-beyond-the-start",
        "empty-tail",
    ],
)
def test_a_log_reads_a_byte_range(backend, three_chunks, start, stop, tail, expected):
    job, run = three_chunks

    found = backend.read_log(job, run.name, "stdout", start, stop, tail)

    assert (found.start, found.stop, b"".join(found.pieces)) == expected
    assert found.length == 62


# A job's series, thinned for an overview chart: more than `max_points` points show every
# ceil(count / max_points)-th by arrival and the last.


@pytest.fixture
def four_runs(backend, make_job, make_run):
    job = make_job()
    make_run(job, "ten", values=[n / 100 for n in range(1, 11)])
    make_run(job, "none")
    make_run(job, "three", values=[0.5, 0.25, 0.125], status=RunStatus.COMPLETED)
    make_run(job, "twelve", values=[n / 10 for n in range(1, 13)])
    return job


def test_a_job_series_thins_each_run_to_its_strided_points_and_last(backend, four_runs):
    found = backend.job_series(four_runs, "loss", 4, 100)

    assert found == [
        # stride 3: seqs 3, 6, 9 and the last, 10
        RunSeries(
            "ten", RunStatus.IN_PROGRESS, 0.1, 10, ((3, 0.03), (6, 0.06), (9, 0.09), (10, 0.1))
        ),
        RunSeries("three", RunStatus.COMPLETED, 0.125, 3, ((1, 0.5), (2, 0.25), (3, 0.125))),
        # stride 3 again, and the last is a multiple
        RunSeries(
            "twelve", RunStatus.IN_PROGRESS, 1.2, 12, ((3, 0.3), (6, 0.6), (9, 0.9), (12, 1.2))
        ),
    ]


def test_a_job_series_keeps_every_point_of_runs_that_fit(backend, four_runs):
    found = backend.job_series(four_runs, "loss", 12, 100)

    assert [len(s.points) for s in found] == [10, 3, 12]
    assert found[0].points == tuple((n, n / 100) for n in range(1, 11))


def test_a_job_series_takes_the_first_runs_by_creation(backend, four_runs):
    found = backend.job_series(four_runs, "loss", 2, 2)

    # stride 5 for ten points: 5 and 10; stride 2 for three: 2 and 3
    assert [(s.run, s.points) for s in found] == [
        ("ten", ((5, 0.05), (10, 0.1))),
        ("three", ((2, 0.25), (3, 0.125))),
    ]


@pytest.mark.parametrize("metric", ["GAN_loss", "accuracy", "lo\x00ss"])
def test_a_job_series_of_a_metric_without_points_is_empty(backend, four_runs, metric):
    assert backend.job_series(four_runs, metric, 4, 100) == []
