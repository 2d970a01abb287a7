"""The parsing contract, points 3 to 7: literal log text in, expected points out."""

import gc
import itertools
import time

import pytest

from app.parsing import (
    LogFormat,
    MetricDefinition,
    Parser,
    ParserLimits,
    compile_definitions,
    matching,
    parse_log,
)
from app.parsing.matching import Collector, cpu_time, in_line_order, wall_time
from app.parsing.parser import NOT_A_NUMBER, SUSPENDED, TIMED_OUT
from app.records import Point, Rejection, StreamState

GAN_LINE = (
    b"GAN_loss=0.138318; Scaled_reg=2.654134; disc:[-0.017371,0.102429] real 93.3% gen 0.0% "
    b"disc-combined=0.000000; disc_train_loss=1.374587; Loss = 16.020744; "
    b"Iteration 0 took 0.704s; Elapsed=0s"
)
LOSS = MetricDefinition("loss", "Loss = (.*?);")
XGBOOST_AUC = MetricDefinition(
    "validation:auc",
    r".*\[[0-9]+\].*#011validation-auc:([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?).*",
)
SCANNERS = ["auto", "find", "none"]


def found(definitions, log, log_format=LogFormat.TEXT, scanner="auto", **limits):
    """(metric, value, step, line) of every point, the way /v1/parse numbers them."""
    parsed = parse_log(definitions, log, log_format, ParserLimits(**limits), scanner)
    return [(p.metric, p.value, p.step, p.line) for p in parsed.points]


@pytest.fixture(params=SCANNERS)
def scanner(request):
    return request.param


# 4. Lines.


def test_the_gan_line_gives_each_metric(scanner):
    definitions = [
        MetricDefinition("GAN_loss", "GAN_loss=(.*?);"),
        MetricDefinition("disc-combined", "disc-combined=(.*?);"),
        MetricDefinition("disc_train_loss", "disc_train_loss=(.*?);"),
        LOSS,
    ]
    assert found(definitions, GAN_LINE + b"\n", scanner=scanner) == [
        ("GAN_loss", 0.138318, 1, 1),
        ("disc-combined", 0.0, 1, 1),
        ("disc_train_loss", 1.374587, 1, 1),
        ("loss", 16.020744, 1, 1),
    ]


def test_lines_end_at_lf_crlf_and_a_lone_cr(scanner):
    log = b"Loss = 1;\nLoss = 2;\r\nLoss = 3;\rLoss = 4;\n"
    assert found([LOSS], log, scanner=scanner) == [
        ("loss", 1.0, 1, 1),
        ("loss", 2.0, 2, 2),
        ("loss", 3.0, 3, 3),
        ("loss", 4.0, 4, 4),
    ]


def test_each_progress_bar_redraw_is_a_line(scanner):
    bar = MetricDefinition("train_loss", r"loss=([0-9.]+)")
    log = (
        b"Epoch 1:  33%|###       | 1/3 [00:01<00:02, loss=0.91]\r"
        b"Epoch 1:  67%|######    | 2/3 [00:02<00:01, loss=0.72]\r"
        b"Epoch 1: 100%|##########| 3/3 [00:03<00:00, loss=0.64]\n"
        b"Validation: val_acc=0.81\n"
    )
    assert found([bar], log, scanner=scanner) == [
        ("train_loss", 0.91, 1, 1),
        ("train_loss", 0.72, 2, 2),
        ("train_loss", 0.64, 3, 3),
    ]


def test_ansi_colours_and_control_characters_are_removed_before_matching(scanner):
    log = (
        b"\x1b[31mLoss\x1b[0m = 3.5;\n"
        b"\x1b]0;epoch 2\x07Loss = 2.5;\n"
        b"Lo\x00ss = \x081.5;\n"
        b"Loss =\t0.5;\n"  # tab stays: this is not "Loss = "
    )
    assert found([LOSS], log, scanner=scanner) == [
        ("loss", 3.5, 1, 1),
        ("loss", 2.5, 2, 2),
        ("loss", 1.5, 3, 3),
    ]


def test_literals_that_cleaning_joins_are_found_in_the_escapes_every_way_they_are_cut(scanner):
    # Cut after each character of the literal `Loss = `, by a colour, a control byte or
    # a title sequence; and lines that only look close.
    cuts = [
        b"Lo\x1b[1mss = 1.5;",
        b"L\x1b[0m\x1b[1moss = 2.5;",
        b"Loss\x1b]0;title\x07 = 3.5;",
        b"Loss =\x07 4.5;",
        b"Loss \x1b[K= 5.5;",
        b"\x1b[1mLoss = 6.5;",
        b"Lo\x1b[1m = 7.5;",  # `ss` is missing
        b"oss = \x1b[1m8.5;",  # `L` is missing
    ]
    log = b"\n".join(cuts) + b"\n"
    values = [(value, line) for _, value, _, line in found([LOSS], log, scanner=scanner)]
    assert values == [(1.5, 1), (2.5, 2), (3.5, 3), (4.5, 4), (5.5, 5), (6.5, 6)]


def test_a_carriage_return_in_a_cloudwatch_line_is_cleaned_away_for_the_text_rendering(
    scanner,
):
    as_text = MetricDefinition(LOSS.name, LOSS.regex, LogFormat.TEXT)
    log = b"Lo\rss = 1.5;\nLoss = \r2.5;\nLo\rs = 3.5;\n"
    assert found([as_text], log, LogFormat.CLOUDWATCH, scanner) == [
        ("loss", 1.5, 1, 1),
        ("loss", 2.5, 2, 2),
    ]


def test_cloudwatch_logs_render_tabs_for_sagemakers_xgboost_regex(scanner):
    log = (
        b"[0]\ttrain-auc:0.91120\tvalidation-auc:0.88700\n"
        b"[1]\ttrain-auc:0.93240\tvalidation-auc:0.89514\n"
        b"[2#011train-auc:0.95\n"
    )
    assert found([XGBOOST_AUC], log, LogFormat.CLOUDWATCH, scanner) == [
        ("validation:auc", 0.887, 1, 1),
        ("validation:auc", 0.89514, 2, 2),
    ]
    # Pasted into a text job, the regex names CloudWatch's `#011`, so it is matched
    # against CloudWatch's rendering of each line all the same.
    assert found([XGBOOST_AUC], log, LogFormat.TEXT, scanner) == [
        ("validation:auc", 0.887, 1, 1),
        ("validation:auc", 0.89514, 2, 2),
    ]
    # Unless its definition says to match it against the text rendering, tabs as tabs.
    as_text = MetricDefinition(XGBOOST_AUC.name, XGBOOST_AUC.regex, LogFormat.TEXT)
    assert found([as_text], log, LogFormat.TEXT, scanner) == []


def test_definitions_of_both_renderings_share_a_text_log(scanner):
    log = (
        b"\x1b[32m[0]\ttrain-auc:0.5\x1b[0m Loss = 4.0;\r"
        b"[1]\tvalidation-auc:0.75 Loss = 3.0;\r\n"
        b"Loss = 2.0;\n"
        b"[2]\tvalidation-auc:0.8"
    )
    assert found([LOSS, XGBOOST_AUC], log, LogFormat.TEXT, scanner) == [
        ("loss", 4.0, 1, 1),
        ("loss", 3.0, 2, 2),
        ("validation:auc", 0.75, 1, 2),
        ("loss", 2.0, 3, 3),
        ("validation:auc", 0.8, 2, 4),
    ]


def test_a_definition_can_ask_for_the_text_rendering_in_a_cloudwatch_job(scanner):
    # CloudWatch cuts lines at `\n` only; cleaned as text, the `\r` and colours go.
    log = b"epoch 1 50%\r\x1b[1mLoss = 4.0;\n#033[1mLoss = 3.0;\n"
    cleaned = MetricDefinition("loss", "^epoch 1 50%Loss = (.*?);", LogFormat.TEXT)
    rendered = MetricDefinition("raw_loss", "#033\\[1mLoss = (.*?);")
    assert found([cleaned, rendered], log, LogFormat.CLOUDWATCH, scanner) == [
        ("loss", 4.0, 1, 1),
        ("raw_loss", 4.0, 1, 1),
        ("raw_loss", 3.0, 2, 2),
    ]


@pytest.mark.parametrize("split", [1, 7, 30, 41, 60, 70])
def test_both_renderings_give_the_same_points_in_any_split(split):
    log = (
        b"[0]\ttrain-auc:0.5 Loss = 4.0;\r\n\x1b[2K[1]\tvalidation-auc:0.75 Loss = 3.0;\r"
        b"[2]\tvalidation-auc:0.8\n"
    )
    parser = Parser(compile_definitions([LOSS, XGBOOST_AUC]), LogFormat.TEXT)
    first = parser.feed(StreamState(), log[:split])
    second = parser.feed(first.state, log[split:])
    last = parser.finish(second.state)
    whole = parser.feed(StreamState(), log)
    assert [*first.points, *second.points, *last.points] == list(whole.points)
    assert [(p.metric, p.value, p.line) for p in whole.points] == [
        ("loss", 4.0, 1),
        ("loss", 3.0, 2),
        ("validation:auc", 0.75, 2),
        ("validation:auc", 0.8, 3),
    ]
    assert second.state == whole.state


def test_cloudwatch_lines_end_at_lf_only(scanner):
    log = b"step 1\rLoss = 4.0;\r\nLoss = 5.0;\n"
    rendered = MetricDefinition("loss", r"#015Loss = (.*?);")
    assert found([rendered], log, LogFormat.CLOUDWATCH, scanner) == [("loss", 4.0, 1, 1)]
    assert found([LOSS], log, LogFormat.CLOUDWATCH, scanner) == [
        ("loss", 4.0, 1, 1),
        ("loss", 5.0, 2, 2),
    ]


def test_a_long_line_is_matched_on_its_first_bytes_only(scanner):
    head = b"Loss = 1.5; " + b"x" * 100
    tail = b" Acc = 0.9;"
    acc = MetricDefinition("acc", "Acc = (.*?);")
    log = head + tail + b"\nLoss = 2.5; Acc = 0.8;\n"
    assert found([LOSS, acc], log, scanner=scanner, max_line_bytes=len(head) + 5) == [
        ("loss", 1.5, 1, 1),
        ("loss", 2.5, 2, 2),
        ("acc", 0.8, 1, 2),
    ]


def test_the_last_partial_line_is_held_until_the_stream_ends():
    parser = Parser(compile_definitions([LOSS]))
    first = parser.feed(StreamState(), b"Loss = 1;\nLoss = 2")
    assert [p.value for p in first.points] == [1.0]
    assert first.state == StreamState(
        next_offset=18, lines=1, partial=b"Loss = 2", partial_length=8
    )
    second = parser.feed(first.state, b";")
    assert second.points == ()
    assert second.state.partial == b"Loss = 2;"
    end = parser.finish(second.state)
    assert end.points == (Point("loss", 2.0, None, 2, 10),)
    assert end.state == StreamState(next_offset=19, lines=2)


def test_a_cr_ending_one_chunk_and_a_lf_starting_the_next_are_one_line_end():
    parser = Parser(compile_definitions([LOSS]))
    first = parser.feed(StreamState(), b"Loss = 1;\r")
    assert first.state.skip_lf is True
    assert first.lines == 1
    second = parser.feed(first.state, b"\nLoss = 2;\n")
    assert second.points == (Point("loss", 2.0, None, 2, 11),)
    assert second.state == StreamState(next_offset=21, lines=2)


# 3. Bytes.


def test_invalid_utf8_becomes_replacement_characters_and_never_fails(scanner):
    acc = MetricDefinition("acc", r"précision=(\S+)")
    log = b"\xff\xfe\x00 binary \x80\n pr\xc3\xa9cision=0.75 \xe2\x82\nLoss = 1;\n"
    assert found([acc, LOSS], log, scanner=scanner) == [
        ("acc", 0.75, 1, 2),
        ("loss", 1.0, 1, 3),
    ]


def test_a_character_split_across_chunks_decodes_whole():
    acc = MetricDefinition("acc", r"précision=(\S+)")
    parser = Parser(compile_definitions([acc]))
    first = parser.feed(StreamState(), b"pr\xc3")
    second = parser.feed(first.state, b"\xa9cision=0.75\n")
    assert second.points == (Point("acc", 0.75, None, 1, 0),)


# 5. Matching.


def test_the_leftmost_match_counts_and_one_point_per_definition_per_line(scanner):
    log = b"Loss = 1.0; Loss = 2.0;\n"
    assert found([LOSS], log, scanner=scanner) == [("loss", 1.0, 1, 1)]


def test_a_group_named_value_is_the_value_and_a_group_named_step_the_step(scanner):
    definition = MetricDefinition("acc", r"(epoch) (?P<step>\d+): acc=(?P<value>\S+)")
    log = b"epoch 10: acc=0.5\nepoch 20: acc=0.6\nepoch x: acc=0.7\n"
    assert found([definition], log, scanner=scanner) == [
        ("acc", 0.5, 10, 1),
        ("acc", 0.6, 20, 2),
    ]


def test_a_step_that_is_not_an_integer_falls_back_to_the_count(scanner):
    definition = MetricDefinition("acc", r"it=(?P<step>\S+) acc=(\S+)")
    log = b"it=1.5 acc=0.1\nit=7 acc=0.2\nit=- acc=0.3\n"
    assert found([definition], log, scanner=scanner) == [
        ("acc", 0.1, 1, 1),
        ("acc", 0.2, 7, 2),
        ("acc", 0.3, 3, 3),
    ]


def test_points_of_a_line_follow_the_definitions_order(scanner):
    definitions = [MetricDefinition("b", r"b=(\d)"), MetricDefinition("a", r"a=(\d)")]
    assert found(definitions, b"a=1 b=2\n", scanner=scanner) == [("b", 2.0, 1, 1), ("a", 1.0, 1, 1)]


def test_definitions_without_a_literal_run_on_every_line(scanner):
    definitions = [MetricDefinition("bare", r"^(\d+)$"), LOSS]
    log = b"12\nLoss = 1;\nnoise\n7\n"
    assert found(definitions, log, scanner=scanner) == [
        ("bare", 12.0, 1, 1),
        ("loss", 1.0, 1, 2),
        ("bare", 7.0, 2, 4),
    ]


def test_caseless_definitions_match_any_case(scanner):
    definition = MetricDefinition("acc", r"(?i)ACCURACY: (\S+)")
    log = b"Accuracy: 0.5\naccuracy: 0.6\nACCURACY: 0.7\n"
    assert [v for _m, v, _s, _l in found([definition], log, scanner=scanner)] == [0.5, 0.6, 0.7]


# 6. Values.


def test_captures_that_are_not_finite_numbers_are_rejected_and_counted(scanner):
    real = MetricDefinition("real", r"real (\S+)")
    log = GAN_LINE + b"\nreal nan\nreal 0.5\nreal inf\n"
    parsed = parse_log([real], log, scanner=scanner)
    assert [(p.value, p.line) for p in parsed.points] == [(0.5, 3)]
    assert parsed.rejections == (
        Rejection("real", 1, 0, "93.3%", NOT_A_NUMBER),
        Rejection("real", 2, len(GAN_LINE) + 1, "nan", NOT_A_NUMBER),
        Rejection("real", 4, len(GAN_LINE) + 19, "inf", NOT_A_NUMBER),
    )


def test_a_chunk_keeps_the_latest_rejections_and_counts_all():
    parser = Parser(compile_definitions([LOSS]), limits=ParserLimits(rejections_kept=2))
    result = parser.feed(StreamState(), b"Loss = a;\nLoss = b;\nLoss = c;\n")
    assert result.rejected == {"loss": 3}
    assert [r.capture for r in result.rejections] == ["b", "c"]


def test_a_regex_that_runs_too_long_skips_the_line_and_is_counted():
    slow = MetricDefinition("slow", r"(a|aa)+$")
    parser = Parser(compile_definitions([slow, LOSS]), limits=ParserLimits(regex_timeout=0.001))
    result = parser.feed(StreamState(), b"a" * 40 + b"!\nLoss = 1;\n")
    assert result.timeouts == {"slow": 1}
    assert result.rejections == (Rejection("slow", 1, 0, None, TIMED_OUT),)
    assert result.points == (Point("loss", 1.0, None, 2, 42),)


def test_a_regex_that_keeps_timing_out_is_skipped_for_the_rest_of_the_chunk():
    slow = MetricDefinition("slow", r"(a|aa)+$")
    limits = ParserLimits(regex_timeout=0.001, timeouts_per_chunk=3)
    parser = Parser(compile_definitions([slow, LOSS]), limits=limits)
    result = parser.feed(StreamState(), (b"a" * 40 + b"!\n") * 5 + b"Loss = 1;\n")
    assert result.timeouts == {"slow": 5}  # 3 searched and timed out, 2 skipped
    assert [r.reason for r in result.rejections] == [TIMED_OUT] * 3 + [SUSPENDED] * 2
    assert result.points == (Point("loss", 1.0, None, 6, 210),)
    # The next chunk tries the regex again.
    again = parser.feed(result.state, b"a" * 40 + b"!\n")
    assert [r.reason for r in again.rejections] == [TIMED_OUT]


@pytest.mark.parametrize(
    ("clock", "charging_clock"),
    [(time.thread_time, cpu_time), (time.perf_counter, wall_time)],
    ids=["cpu clock", "wall clock searches are first charged by"],
)
def test_a_garbage_collection_pass_is_not_charged_to_the_regex_that_was_searching(
    clock, charging_clock
):
    # A pass runs in whichever thread allocates at the wrong moment: in the service, it
    # took a whole chunk's CPU budget and skipped lines of a harmless regex.
    garbage = [[index] for index in range(400_000)]  # objects the collector must visit
    started, charged_started = clock(), charging_clock()
    gc.collect()
    collecting = clock() - started
    charged = charging_clock() - charged_started
    del garbage
    assert charged < collecting / 10, (charged, collecting)


def test_changing_over_to_the_cpu_clock_cuts_charges_to_the_cpu_time_the_chunk_used():
    out = Collector(kept=5, budget=1.0)
    time.sleep(0.2)  # waiting: wall time, no CPU time
    out.spent.update({"waited": 0.2, "quick": 0.001})
    out.use_cpu_clock()
    assert out.exact
    used = out.spent["waited"]  # cut to what the thread used since the chunk began
    assert used < 0.1
    assert out.spent["quick"] == min(0.001, used)  # a smaller charge stays


def test_searches_that_wait_are_not_skipped_for_the_time_they_waited(monkeypatch):
    # As if each search waited a second for a core or for the GIL: the wall clock, which
    # searches are first charged by, moves a second between any two readings.
    readings = itertools.count()
    monkeypatch.setattr(matching, "wall_time", lambda: float(next(readings)))
    parser = Parser(
        compile_definitions([MetricDefinition("loss", r"loss=(\S+);")]),
        limits=ParserLimits(cpu_floor=0.05, cpu_per_kib=0.0),
        scanner="none",  # every line searched alone, charged search by search
    )
    log = b"".join(b"step %d loss=0.5;\n" % i for i in range(100))

    result = parser.feed(StreamState(), log)

    assert result.rejections == ()
    assert [point.line for point in result.points] == list(range(1, 101))
    assert result.cpu_spent < 0.05


# 7. Positions.


def test_points_carry_their_line_number_and_the_byte_offset_of_the_line(scanner):
    log = "é noise\nLoss = 1;\r\n\x1b[2mLoss = 2;\n".encode()
    parser = Parser(compile_definitions([LOSS]), scanner=scanner)
    result = parser.feed(StreamState(), log)
    assert result.points == (
        Point("loss", 1.0, None, 2, 9),
        Point("loss", 2.0, None, 3, 20),
    )
    assert result.lines == 3


def test_a_line_picked_for_one_definition_is_not_searched_again_by_the_others(scanner):
    # `bare` has no literal: it runs over the whole region; `acc` is picked line by line.
    bare = MetricDefinition("bare", r"^(\d+)\b")
    acc = MetricDefinition("acc", r"acc=(\S+)")
    log = b"7\n" * 100 + b"42 acc=0.5\n"
    points = found([bare, acc], log, scanner=scanner)
    assert points[-3:] == [("bare", 7.0, 100, 100), ("bare", 42.0, 101, 101), ("acc", 0.5, 1, 101)]
    assert len(points) == 102


def test_points_of_one_line_keep_the_jobs_order_of_definitions_whatever_indices_a_part_has():
    # Indices 5 and 3 (a rendering's part of a larger job): line 1's points come before
    # line 2's, each line's in index order.
    points = [
        Point("late", 1.0, None, 2, 10),
        Point("early", 2.0, None, 2, 10),
        Point("late", 3.0, None, 1, 0),
        Point("early", 4.0, None, 1, 0),
    ]
    assert [(p.line, p.metric) for p in in_line_order(points, {"late": 5, "early": 3})] == [
        (1, "early"),
        (1, "late"),
        (2, "early"),
        (2, "late"),
    ]
