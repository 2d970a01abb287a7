"""Contract point 3: however a stream is cut into chunks, the same points come out.

And the three ways to pick lines (hyperscan, the stdlib `re` scan, every line) agree.
"""

import itertools
import threading
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from app.parsing import LogFormat, MetricDefinition, Parser, ParserLimits, compile_definitions
from app.parsing.prefilter import hyperscan_available
from app.records import StreamState

DEFINITIONS = compile_definitions(
    [
        MetricDefinition("loss", "Loss = (.*?);"),
        MetricDefinition("GAN_loss", "GAN_loss=(.*?);"),
        MetricDefinition("real", r"real (\S+)"),
        MetricDefinition("acc", r"(?i)epoch (?P<step>\d+): acc=(?P<value>\S+)"),
        MetricDefinition("bare", r"^(\d+)$"),
        MetricDefinition("précision", r"précision=(\S+)"),
        MetricDefinition("auc", r"#011validation-auc:([0-9.]+)"),
    ]
)
LOG = (
    b"GAN_loss=0.138318; Scaled_reg=2.654134; disc:[-0.017371,0.102429] real 93.3% gen 0.0% "
    b"disc-combined=0.000000; disc_train_loss=1.374587; Loss = 16.020744; Elapsed=0s\n"
    b"Epoch 3: acc=0.91\r\n"
    b"42\r"
    b"bar 10%|#  | loss=1\rbar 90%|## | Loss = 0.5;\r\r\n"
    b"\x1b[31mLo\x1b[0mss = 7;\n"
    b"pr\xc3\xa9cision=0.75 \xf0\x9f\x98\x80 \xff\xfe\n"
    b"[3]\ttrain-auc:0.9\tvalidation-auc:0.95\n"
    b"EPOCH 4: acc=nan\n"
    b"Loss = 1e999; real 0.25\n" + b"x" * 50 + b" Loss = 9.0; beyond the line limit\n"
    b"Loss = 3;"
)
LIMITS = ParserLimits(max_line_bytes=48)
SCANNERS = ["auto", "find", "none"] if hyperscan_available() else ["find", "none"]


def run(chunks, log_format=LogFormat.TEXT, scanner="auto"):
    """Feed the chunks in order, then end the stream; all that came out, comparable."""
    parser = Parser(DEFINITIONS, log_format, LIMITS, scanner)
    state, points, rejections, lines = StreamState(), [], [], 0
    for chunk in chunks:
        result = parser.feed(state, chunk)
        state, lines = result.state, lines + result.lines
        points += result.points
        rejections += result.rejections
    end = parser.finish(state)
    return (
        points + list(end.points),
        rejections + list(end.rejections),
        lines + end.lines,
        end.state,
    )


def test_the_rich_log_gives_what_each_rule_says():
    points, rejections, lines, state = run([LOG])
    # Line 1 is cut at 48 bytes: its `real` and `Loss =` lie beyond. Line 6 is the empty
    # line between `\r` and `\r\n`; line 12's `Loss = 9.0;` starts past byte 48.
    assert [(p.metric, p.value, p.step, p.line) for p in points] == [
        ("GAN_loss", 0.138318, None, 1),
        ("acc", 0.91, 3, 2),
        ("bare", 42.0, None, 3),
        ("loss", 0.5, None, 5),
        ("loss", 7.0, None, 7),
        ("précision", 0.75, None, 8),
        ("auc", 0.95, None, 9),  # `#011` in its regex: matched as CloudWatch shows the line
        ("real", 0.25, None, 11),
        ("loss", 3.0, None, 13),
    ]
    assert [(r.metric, r.capture, r.line) for r in rejections] == [
        ("acc", "nan", 10),
        ("loss", "1e999", 11),
    ]
    assert (lines, state.next_offset) == (13, len(LOG))


def test_every_split_in_two_gives_the_same_as_one_chunk():
    for scanner in SCANNERS:
        whole = run([LOG], scanner=scanner)
        for cut in range(len(LOG) + 1):
            assert run([LOG[:cut], LOG[cut:]], scanner=scanner) == whole, (scanner, cut)


def test_every_split_of_a_cloudwatch_log_gives_the_same_as_one_chunk():
    whole = run([LOG], LogFormat.CLOUDWATCH)
    assert [p.metric for p in whole[0]].count("auc") == 1
    for cut in range(len(LOG) + 1):
        assert run([LOG[:cut], LOG[cut:]], LogFormat.CLOUDWATCH) == whole, cut


@st.composite
def splits(draw, data):
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=12)))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=200, deadline=None)
@given(chunks=splits(LOG), log_format=st.sampled_from(list(LogFormat)))
def test_any_split_gives_the_same_as_one_chunk(chunks, log_format):
    assert run(chunks, log_format) == run([LOG], log_format)


_FRAGMENTS = [
    b"Loss = 0.5;",
    b"GAN_loss=1;",
    b"real 9",
    b"real x",
    b"epoch 2: acc=0.3",
    b"7",
    b"\xc3\xa9",
    b"pr\xc3\xa9cision=1",
    b"\t",
    b"#011validation-auc:0.5",
    b"\x1b[1m",
    b"\x1b]2;t\x07",
    b"\xff",
    b"\r",
    b"\n",
    b"\r\n",
    b" ",
    b"noise",
    b"\x00",
]


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(st.sampled_from(_FRAGMENTS), max_size=40),
    log_format=st.sampled_from(list(LogFormat)),
)
def test_the_scanners_and_every_line_matching_agree(pieces, log_format):
    log = b"".join(pieces)
    results = [run([log], log_format, scanner) for scanner in SCANNERS]
    assert all(result == results[0] for result in results[1:])


def test_a_state_saved_and_restored_goes_on_as_if_never_stopped():
    parser = Parser(DEFINITIONS, LogFormat.TEXT, LIMITS)
    first = parser.feed(StreamState(), LOG[:200])
    restored = replace(first.state, partial=bytes(bytearray(first.state.partial)))
    assert parser.feed(restored, LOG[200:]) == parser.feed(first.state, LOG[200:])


def test_threads_sharing_a_parser_get_what_one_thread_gets():
    """The regex module times searches by the wall clock: threads waiting for a core or
    the GIL must not lose points to time-outs of searches that need microseconds."""
    parser = Parser(DEFINITIONS, LogFormat.TEXT, ParserLimits(regex_timeout=0.002))
    log = LOG * 300

    def feed() -> list[object]:
        state, points = StreamState(), []
        for start in range(0, len(log), 4096):
            result = parser.feed(state, log[start : start + 4096])
            state = result.state
            points += result.points
        return points

    alone = feed()
    results: list[list[object]] = []
    threads = [threading.Thread(target=lambda: results.append(feed())) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(alone) == 3000  # 10 points in each copy of LOG (its last line joins the next)
    assert [len(points) for points in results] == [len(alone)] * 6
    assert all(points == alone for points in results)
