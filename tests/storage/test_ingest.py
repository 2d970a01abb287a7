"""Storing parsed chunks and run ends: points, summaries, objective values, raw bytes."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.errors import RunEnded, StreamMoved
from app.records import (
    MetricDefinition,
    MetricSummary,
    Point,
    Rejection,
    RejectionExample,
    RunStatus,
    SeriesPoint,
    StreamInfo,
    StreamState,
    TimedValue,
)
from app.storage import JobSpec

from .factories import GAN_DEFINITIONS, T0, T1, T2, chunk, whole_log

EPOCHS_1_2 = b"epoch 1 Loss = 0.75;\nepoch 2 Loss = 0.5;\n"  # 21 + 20 bytes
EPOCHS_1_2_WRITE = chunk(
    EPOCHS_1_2,
    StreamState(next_offset=41, lines=2),
    [Point("loss", 0.75, None, 1, 0), Point("loss", 0.5, None, 2, 21)],
    timestamp=T0,
)
# Then a line with an explicit step, and one without.
STEP_100_EPOCH_4 = b"step 100 Loss = 0.25;\nepoch 4 Loss = 0.125;\n"  # 22 + 22 bytes
STEP_100_EPOCH_4_WRITE = chunk(
    STEP_100_EPOCH_4,
    StreamState(next_offset=85, lines=4),
    [Point("loss", 0.25, 100, 3, 41), Point("loss", 0.125, None, 4, 63)],
    expected_offset=41,
    timestamp=T1,
)

# Epochs 1 and 2, then epoch 3's line without its line end, held by the parser.
HELD_WRITE = chunk(
    EPOCHS_1_2 + b"epoch 3 Loss = 0.25;",
    StreamState(next_offset=61, lines=2, partial=b"epoch 3 Loss = 0.25;", partial_length=20),
    [Point("loss", 0.75, None, 1, 0), Point("loss", 0.5, None, 2, 21)],
)


def test_points_are_numbered_by_arrival_and_steps_default_to_that_number(
    backend, make_job, make_run
):
    job = make_job()
    run = make_run(job)

    backend.append_chunk(job, run, EPOCHS_1_2_WRITE)
    backend.append_chunk(job, run, STEP_100_EPOCH_4_WRITE)

    assert backend.metric_series(job, run.name, "loss", 0, 10) == (
        [
            SeriesPoint(1, 0.75, T0, "stdout", 1, 0),
            SeriesPoint(2, 0.5, T0, "stdout", 2, 21),
            SeriesPoint(100, 0.25, T1, "stdout", 3, 41),
            SeriesPoint(4, 0.125, T1, "stdout", 4, 63),
        ],
        None,
    )


def test_metric_values_are_read_by_time_from_start_up_to_end(backend, make_job, make_run):
    job = make_job()
    run = make_run(job)
    backend.append_chunk(job, run, EPOCHS_1_2_WRITE)  # at T0
    backend.append_chunk(job, run, STEP_100_EPOCH_4_WRITE)  # at T1

    assert backend.metric_values(job, run.name, "loss", T0, T1) == [
        TimedValue(T0.timestamp(), 0.75),
        TimedValue(T0.timestamp(), 0.5),
    ]
    assert backend.metric_values(job, run.name, "loss", T1, T2) == [
        TimedValue(T1.timestamp(), 0.25),
        TimedValue(T1.timestamp(), 0.125),
    ]
    assert backend.metric_values(job, run.name, "loss", T2, T2 + (T2 - T1)) == []
    assert backend.metric_values(job, run.name, "acc", T0, T2) == []
    assert backend.metric_values(job, run.name, "lo\x00ss", T0, T2) == []


def test_append_chunk_stores_the_streams_new_position(backend, make_job, make_run):
    job = make_job()
    run = make_run(job)
    backend.append_chunk(job, run, EPOCHS_1_2_WRITE)

    stop_reason = backend.append_chunk(
        job,
        run,
        chunk(
            b"epoch 3 Loss = 0.",
            StreamState(next_offset=58, lines=2, partial=b"epoch 3 Loss = 0.", partial_length=17),
            expected_offset=41,
        ),
    )

    assert stop_reason is None
    (stream,) = backend.get_run(job, run.name).streams
    assert stream == StreamInfo("stdout", next_offset=58, lines=2, partial_length=17)


def test_summaries_count_and_keep_the_last_min_and_max(backend, make_job, make_run):
    job = make_job()
    run = make_run(job)

    backend.append_chunk(job, run, EPOCHS_1_2_WRITE)
    backend.append_chunk(job, run, STEP_100_EPOCH_4_WRITE)

    assert backend.get_run(job, run.name).metrics == (
        MetricSummary(
            "loss", count=4, last=0.125, last_step=4, last_timestamp=T1, min=0.125, max=0.75
        ),
    )


def test_each_metric_is_numbered_and_summarized_on_its_own(backend, make_job, make_run):
    job = make_job()
    run = make_run(job)
    data = b"GAN_loss=0.138318; Loss = 16.020744;\n[1,1]<stderr>: GAN_loss=0.25;\n"

    backend.append_chunk(
        job,
        run,
        chunk(
            data,
            StreamState(next_offset=67, lines=2),
            [
                Point("GAN_loss", 0.138318, None, 1, 0),
                Point("loss", 16.020744, None, 1, 0),
                Point("GAN_loss", 0.25, None, 2, 37),
            ],
        ),
    )

    summaries = {summary.name: summary for summary in backend.get_run(job, run.name).metrics}
    assert summaries == {
        "GAN_loss": MetricSummary(
            "GAN_loss", count=2, last=0.25, last_step=2, last_timestamp=T0, min=0.138318, max=0.25
        ),
        "loss": MetricSummary(
            "loss",
            count=1,
            last=16.020744,
            last_step=1,
            last_timestamp=T0,
            min=16.020744,
            max=16.020744,
        ),
    }
    assert backend.metric_series(job, run.name, "GAN_loss", 0, 10) == (
        [
            SeriesPoint(1, 0.138318, T0, "stdout", 1, 0),
            SeriesPoint(2, 0.25, T0, "stdout", 2, 37),
        ],
        None,
    )


def test_a_metric_is_numbered_across_the_runs_streams(backend, make_job, make_run):
    job = make_job()
    run = make_run(job)

    backend.append_chunk(
        job,
        run,
        chunk(
            b"epoch 1 Loss = 0.75;\n",
            StreamState(next_offset=21, lines=1),
            [Point("loss", 0.75, None, 1, 0)],
            stream="algo-1-stdout",
        ),
    )
    backend.append_chunk(
        job,
        run,
        chunk(
            b"epoch 1 Loss = 0.5;\n",
            StreamState(next_offset=20, lines=1),
            [Point("loss", 0.5, None, 1, 0)],
            stream="algo-2-stdout",
        ),
    )

    assert backend.metric_series(job, run.name, "loss", 0, 10) == (
        [
            SeriesPoint(1, 0.75, T0, "algo-1-stdout", 1, 0),
            SeriesPoint(2, 0.5, T0, "algo-2-stdout", 1, 0),
        ],
        None,
    )


@pytest.mark.parametrize(("strategy", "expected"), [("latest", 1.0), ("min", 0.5), ("max", 3.0)])
def test_the_objective_value_follows_the_jobs_strategy(
    backend, make_job, make_run, strategy, expected
):
    job = make_job(strategy=strategy)
    run = make_run(job)
    first = b"Loss = 2.0;\nLoss = 0.5;\n"  # 12 + 12 bytes
    second = b"Loss = 3.0;\nLoss = 1.0;\nGAN_loss=0.1;\n"  # 12 + 12 + 14 bytes

    backend.append_chunk(
        job,
        run,
        chunk(
            first,
            StreamState(next_offset=24, lines=2),
            [Point("loss", 2.0, None, 1, 0), Point("loss", 0.5, None, 2, 12)],
        ),
    )
    backend.append_chunk(
        job,
        run,
        chunk(
            second,
            StreamState(next_offset=62, lines=5),
            [
                Point("loss", 3.0, None, 3, 24),
                Point("loss", 1.0, None, 4, 36),
                Point("GAN_loss", 0.1, None, 5, 48),
            ],
            expected_offset=24,
        ),
    )

    assert backend.get_run(job, run.name).objective_value == expected


def test_latest_means_last_by_arrival_not_highest_step(backend, make_job, make_run):
    job = make_job(strategy="latest")
    run = make_run(job)

    backend.append_chunk(
        job,
        run,
        chunk(
            b"step 20 Loss = 0.25;\nstep 10 Loss = 0.5;\n",
            StreamState(next_offset=40, lines=2),
            [Point("loss", 0.25, 20, 1, 0), Point("loss", 0.5, 10, 2, 21)],
        ),
    )

    assert backend.get_run(job, run.name).objective_value == 0.5


def test_other_metrics_leave_the_objective_value_unset(backend, make_job, make_run):
    job = make_job()
    run = make_run(job)

    backend.append_chunk(
        job,
        run,
        chunk(
            b"GAN_loss=0.138318;\n",
            StreamState(next_offset=19, lines=1),
            [Point("GAN_loss", 0.138318, None, 1, 0)],
        ),
    )

    assert backend.get_run(job, run.name).objective_value is None


def test_a_chunk_from_a_stale_offset_is_refused_and_changes_nothing(backend, make_job, make_run):
    job = make_job()
    run = make_run(job)
    backend.append_chunk(job, run, EPOCHS_1_2_WRITE)

    with pytest.raises(StreamMoved):
        backend.append_chunk(
            job,
            run,
            chunk(
                b"epoch 3 Loss = 0.25;\n",
                StreamState(next_offset=21, lines=1),
                [Point("loss", 0.25, None, 1, 0)],
                expected_offset=0,
            ),
        )

    assert backend.read_stream(job, run.name, "stdout").state == StreamState(
        next_offset=41, lines=2
    )
    assert whole_log(backend, job, run, "stdout") == EPOCHS_1_2
    assert [p.value for p in backend.metric_series(job, run.name, "loss", 0, 10)[0]] == [0.75, 0.5]
    assert backend.get_run(job, run.name).objective_value == 0.5


def test_a_first_chunk_must_start_a_new_stream_at_offset_zero(backend, make_job, make_run):
    job = make_job()
    run = make_run(job)

    with pytest.raises(StreamMoved):
        backend.append_chunk(
            job, run, chunk(b"epoch 3\n", StreamState(next_offset=49, lines=3), expected_offset=41)
        )

    assert backend.get_run(job, run.name).streams == ()


def test_an_ended_run_takes_no_more_chunks(backend, make_job, make_run):
    job = make_job()
    run = make_run(job)
    backend.append_chunk(job, run, EPOCHS_1_2_WRITE)
    backend.complete_run(job, run, RunStatus.COMPLETED, None, T2, ())

    with pytest.raises(RunEnded) as refused:
        backend.append_chunk(job, run, STEP_100_EPOCH_4_WRITE)

    assert refused.value.message == "run 'run-0001' has ended (Completed)"
    assert whole_log(backend, job, run, "stdout") == EPOCHS_1_2
    assert backend.get_run(job, run.name).objective_value == 0.5


def test_a_streams_parsing_state_reads_back_as_stored(backend, make_job, make_run):
    job = make_job()
    run = make_run(job)
    held = StreamState(next_offset=58, lines=2, partial=b"epoch 3 Loss = 0.", partial_length=17)
    after_cr = StreamState(next_offset=9, lines=1, skip_lf=True)
    backend.append_chunk(job, run, chunk(EPOCHS_1_2 + b"epoch 3 Loss = 0.", held))
    backend.append_chunk(job, run, chunk(b" 10/100\r", after_cr, stream="stderr"))

    assert backend.read_stream(job, run.name, "stdout").state == held
    assert backend.read_stream(job, run.name, "algo-2-stdout").state == StreamState()
    assert dict(backend.read_run_streams(job, run.name).streams) == {
        "stdout": held,
        "stderr": after_cr,
    }


def test_a_run_lists_its_streams_by_name(backend, make_job, make_run):
    job = make_job()
    run = make_run(job)
    for stream, state in [
        ("stdout", StreamState(next_offset=41, lines=2)),
        ("stderr", StreamState(next_offset=5, lines=0, partial=b"Warn:", partial_length=5)),
        ("algo-2-stdout", StreamState(next_offset=41, lines=2)),
    ]:
        backend.append_chunk(job, run, chunk(b"x" * state.next_offset, state, stream=stream))

    assert backend.get_run(job, run.name).streams == (
        StreamInfo("algo-2-stdout", next_offset=41, lines=2, partial_length=0),
        StreamInfo("stderr", next_offset=5, lines=0, partial_length=5),
        StreamInfo("stdout", next_offset=41, lines=2, partial_length=0),
    )


REAL_DEFINITIONS = (*GAN_DEFINITIONS, MetricDefinition("real", r"real (\S+)"))


def _real_rejections(backend, job, run):
    """Three rejected captures and a timeout of `real`, in two chunks."""
    backend.append_chunk(
        job,
        run,
        chunk(
            b"real 93.3% gen 0.0%\nreal 94.1% gen 0.0%\n",
            StreamState(next_offset=40, lines=2),
            rejections=[
                Rejection("real", 1, 0, "93.3%", "not a finite number"),
                Rejection("real", 2, 20, "94.1%", "not a finite number"),
            ],
            rejected={"real": 2},
        ),
    )
    backend.append_chunk(
        job,
        run,
        chunk(
            b"real 95.0% gen 0.0%\nreal " + b"9" * 20 + b"\n",
            StreamState(next_offset=86, lines=4),
            rejections=[
                Rejection("real", 3, 40, "95.0%", "not a finite number"),
                Rejection("real", 4, 60, None, "timed out"),
            ],
            rejected={"real": 1},
            timeouts={"real": 1},
            expected_offset=40,
        ),
    )


def test_rejections_are_counted_and_the_latest_kept_as_examples(open_backend):
    backend = open_backend(rejections_kept=3)
    job = backend.create_job(_real_job())
    run = backend.create_run(job, None, {})

    _real_rejections(backend, job, run)

    assert backend.get_run(job, run.name).metrics == (
        MetricSummary(
            "real",
            count=0,
            last=None,
            last_step=None,
            last_timestamp=None,
            min=None,
            max=None,
            rejected=3,
            timeouts=1,
            examples=(
                RejectionExample("stdout", 2, "94.1%", "not a finite number"),
                RejectionExample("stdout", 3, "95.0%", "not a finite number"),
                RejectionExample("stdout", 4, None, "timed out"),
            ),
        ),
    )


def test_no_examples_are_kept_when_rejections_kept_is_zero(open_backend):
    backend = open_backend(rejections_kept=0)
    job = backend.create_job(_real_job())
    run = backend.create_run(job, None, {})

    _real_rejections(backend, job, run)

    (summary,) = backend.get_run(job, run.name).metrics
    assert (summary.rejected, summary.timeouts, summary.examples) == (3, 1, ())


def _real_job():
    return JobSpec("gan", "loss", "Minimize", "latest", "text", REAL_DEFINITIONS, {})


def test_ending_a_run_stores_its_flushed_last_lines_at_once(backend, make_job, make_run):
    job = make_job()
    run = make_run(job)
    backend.append_chunk(job, run, HELD_WRITE)
    flush = chunk(
        b"",
        StreamState(next_offset=61, lines=3),
        [Point("loss", 0.25, None, 3, 41)],
        expected_offset=61,
        timestamp=T2,
    )

    ended = backend.complete_run(job, run, RunStatus.COMPLETED, None, T2, [flush])

    assert (ended.status, ended.failure_reason, ended.ended_at, ended.objective_value) == (
        RunStatus.COMPLETED,
        None,
        T2,
        0.25,
    )
    assert ended.streams == (StreamInfo("stdout", next_offset=61, lines=3, partial_length=0),)
    assert backend.get_run(job, run.name) == ended
    assert backend.metric_series(job, run.name, "loss", 2, 10) == (
        [SeriesPoint(3, 0.25, T2, "stdout", 3, 41)],
        None,
    )
    assert whole_log(backend, job, run, "stdout") == EPOCHS_1_2 + b"epoch 3 Loss = 0.25;"


def test_a_failed_run_keeps_its_failure_reason(backend, make_job, make_run):
    job = make_job()
    run = make_run(job)

    backend.complete_run(job, run, RunStatus.FAILED, "CUDA out of memory", T2, ())

    read = backend.get_run(job, run.name)
    assert (read.status, read.failure_reason, read.ended_at) == (
        RunStatus.FAILED,
        "CUDA out of memory",
        T2,
    )


def test_a_run_ends_only_once(backend, make_job, make_run):
    job = make_job()
    run = make_run(job)
    backend.complete_run(job, run, RunStatus.STOPPED, None, T1, ())

    with pytest.raises(RunEnded):
        backend.complete_run(job, run, RunStatus.COMPLETED, None, T2, ())

    read = backend.get_run(job, run.name)
    assert (read.status, read.ended_at) == (RunStatus.STOPPED, T1)


def test_a_run_end_with_a_stale_flush_changes_nothing(backend, make_job, make_run):
    job = make_job()
    run = make_run(job)
    backend.append_chunk(job, run, HELD_WRITE)
    stale = chunk(
        b"",
        StreamState(next_offset=41, lines=2),
        [Point("loss", 0.25, None, 3, 41)],
        expected_offset=41,
    )

    with pytest.raises(StreamMoved):
        backend.complete_run(job, run, RunStatus.COMPLETED, None, T2, [stale])

    read = backend.get_run(job, run.name)
    assert (read.status, read.ended_at, read.objective_value) == (RunStatus.IN_PROGRESS, None, 0.5)
    assert backend.read_stream(job, run.name, "stdout").state == HELD_WRITE.state


def test_of_chunks_written_at_once_from_one_offset_exactly_one_is_stored(
    backend, make_job, make_run
):
    job = make_job()
    run = make_run(job)
    start = threading.Barrier(8, timeout=60)

    def write(_):
        start.wait()
        try:
            backend.append_chunk(job, run, EPOCHS_1_2_WRITE)
        except StreamMoved:
            return "moved"
        return "stored"

    with ThreadPoolExecutor(8) as pool:
        outcomes = sorted(pool.map(write, range(8)))

    assert outcomes == ["moved"] * 7 + ["stored"]
    assert whole_log(backend, job, run, "stdout") == EPOCHS_1_2
    assert [p.step for p in backend.metric_series(job, run.name, "loss", 0, 10)[0]] == [1, 2]
