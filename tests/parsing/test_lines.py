"""Contract point 4: from a line's bytes to the text that is matched."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.parsing import LogFormat
from app.parsing.lines import CLEANED, clean_text_lines, line_text, render_lines

TEXT, CLOUDWATCH = LogFormat.TEXT, LogFormat.CLOUDWATCH


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"\x1b[32mINFO\x1b[0m loss=0.5;", "INFO loss=0.5;"),
        (b"\x1b[1;31;40mbold\x1b[K", "bold"),
        (b"\x1b]0;window title\x07epoch=1;", "epoch=1;"),
        (b"\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),
        (b"a\tb\x00c\x08d\x1fe\x7ff", "a\tbcde\x7ff"),
        (b"caf\xc3\xa9 \xff loss=1;", "café \ufffd loss=1;"),
        (b"\x1b(Bplain", "(Bplain"),  # not CSI or OSC: only the ESC goes
    ],
)
def test_text_lines_lose_ansi_sequences_and_control_characters_but_tab(raw, text):
    assert line_text(raw, TEXT, 65536) == text
    assert clean_text_lines([raw], 65536) == [text]


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"[0]\ttrain-auc:0.9\tvalidation-auc:0.8", "[0]#011train-auc:0.9#011validation-auc:0.8"),
        (b"bar\r50%\x1b[0m", "bar#01550%#033[0m"),
        (b"\x00\x7f", "#000#177"),
        (b"\t\x01\t#011\t", "#011#001#011#011#011"),
    ],
)
def test_cloudwatch_lines_render_control_characters_in_octal(raw, text):
    assert line_text(raw, CLOUDWATCH, 65536) == text


def test_a_long_line_is_matched_on_its_first_bytes_cut_between_characters():
    assert line_text(b"abcdef", TEXT, 4) == "abcd"
    # "é" is two bytes: a cut after its first byte drops it whole.
    assert line_text(b"abc\xc3\xa9f", TEXT, 4) == "abc"
    assert line_text(b"ab\xf0\x9f\x98\x80z", TEXT, 5) == "ab"


def test_cleaning_lines_together_equals_cleaning_them_one_by_one():
    raws = [b"\x1b]0;unterminated osc", b"next \x1b[1mline\x1b[0m", b"", b"\xe2\x82"]
    assert clean_text_lines(raws, 65536) == [line_text(r, TEXT, 65536) for r in raws]


# Bytes that make cleaning interesting: ESC and what follows it in CSI and OSC sequences,
# BEL, other controls, `\r`, DEL, and the pieces of two- and three-byte UTF-8 characters.
_LINE_BYTES = st.lists(
    st.sampled_from(
        [
            *(b"\x1b", b"[", b"]", b"\x07", b"\\", b"0", b";", b"m", b"?", b" ", b"/", b"a"),
            *(b"\t", b"\x00", b"\x01", b"\x08", b"\x0b", b"\x0c", b"\r", b"\x1f", b"\x7f"),
            *(b"#", b"\xc3", b"\xa9", b"\xe2\x96", b"\x88"),
        ]
    ),
    max_size=30,
).map(b"".join)


@settings(max_examples=500, deadline=None)
@given(raws=st.lists(_LINE_BYTES, max_size=6))
def test_rendering_many_lines_at_once_follows_the_contracts_own_regexes(raws):
    # The contract's words as regexes, line by line: what `text` cleaning removes
    # (CLEANED, which the run page also uses), and CloudWatch's `#ooo` for each control.
    decoded = [raw.decode("utf-8", "replace") for raw in raws]
    cleaned = [re.sub(CLEANED, "", text) for text in decoded]
    octal = [
        re.sub(r"[\x00-\x09\x0b-\x1f\x7f]", lambda m: f"#{ord(m.group()):03o}", text)
        for text in decoded
    ]
    assert render_lines(raws, TEXT, 65536) == "\n".join(cleaned)
    assert render_lines(raws, CLOUDWATCH, 65536) == "\n".join(octal)
    assert clean_text_lines(raws, 65536) == (cleaned or [""])
    assert [line_text(raw, TEXT, 65536) for raw in raws] == cleaned
