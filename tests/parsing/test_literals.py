"""Required literals: what the prefilter may look for, and what it must refuse."""

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from app.parsing import LogFormat
from app.parsing.literals import _CASELESS_UNSAFE, required_literals

TEXT, CLOUDWATCH = LogFormat.TEXT, LogFormat.CLOUDWATCH


def texts(pattern, log_format=TEXT):
    found = required_literals(pattern, log_format)
    return None if found is None else {(lit.text, lit.caseless) for lit in found}


def test_the_longest_literal_run_is_chosen():
    assert texts("Loss = (.*?);") == {(b"Loss = ", False)}
    assert texts(r"(?P<value>\d+) loss") == {(b" loss", False)}
    assert texts(r"\{'eval_loss': (\S+),") == {(b"{'eval_loss': ", False)}


def test_alternations_give_one_literal_per_branch():
    assert texts(r"(a|b)cd|ef(g)") == {(b"cd", False), (b"ef", False)}
    assert texts(r"(?:train|valid)_loss=(\S+)") == {(b"_loss=", False)}
    # One branch needs no literal, so the alternation needs none; the `=` after it does.
    assert texts(r"(?:x|.*)=(\d)") == {(b"=", False)}


def test_a_repeat_gives_its_literal_only_if_it_must_occur():
    assert texts(r"(?:ab)+(x)") == {(b"ab", False)}
    assert texts(r"(?:abc)*(x)") == {(b"x", False)}
    assert texts(r"(?:abcdef)?(\d)") is None


def test_caseless_literals_exclude_letters_with_non_ascii_equals():
    # k ~ U+212A KELVIN SIGN and s ~ U+017F LONG S under the regex module's IGNORECASE.
    assert texts(r"(?i)val_(?:loss|acc)=(\S+)") == {(b"val_", True)}
    assert texts(r"(?i)Disk(\d)") == {(b"D", True)}
    assert texts(r"(?i)epoch:(\d+)") == {(b"epoch:", True)}


def test_named_groups_in_regex_spelling_are_read():
    assert texts(r"(?<value>[0-9.]+) x=(?<step>\d+)") == {(b" x=", False)}


def test_cloudwatch_literals_avoid_characters_rendering_produces():
    pattern = r".*\[[0-9]+\].*#011validation-auc:([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?).*"
    assert texts(pattern, TEXT) == {(b"#011validation-auc:", False)}
    assert texts(pattern, CLOUDWATCH) == {(b"validation-auc:", False)}


def test_non_ascii_literals_are_utf8():
    assert texts("Verlust: (.*)") == {(b"Verlust: ", False)}
    assert texts("précision=(.*)") == {("précision=".encode(), False)}


def test_patterns_the_two_parsers_could_read_differently_are_refused():
    assert texts(r"[[:alpha:]]+(x)") is None  # a POSIX class in regex, a set then "]" in re
    assert texts(r"(?:abc){e<=1}(x)") is None  # fuzzy matching in regex, literals in re
    assert texts(r"a(?i)bc(d)") is None  # a global flag in mid-pattern
    assert texts(r"\p{L}+=(\d)") is None  # regex-only escape
    assert texts(r"(?V1)a(b)") is None


def test_patterns_without_a_required_literal_give_none():
    assert texts(r"(.*)") is None
    assert texts(r"^(\d+)$") is None
    assert texts(r"(?=loss)(\w+)") is None


def test_the_caseless_unsafe_letters_are_exactly_those_with_non_ascii_equals():
    letter = regex.compile(r"(?i)[a-z]")
    equals = set()
    for code in range(0x80, 0x110000):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF or not letter.fullmatch(char):
            continue
        equals |= {a for a in "abcdefghijklmnopqrstuvwxyz" if regex.fullmatch(f"(?i){a}", char)}
    assert equals | {a.upper() for a in equals} == set(_CASELESS_UNSAFE)


# Soundness: whenever a regex matches a line, the line holds one of its literals.

_PIECES = ["a", "b", "k", "s", "K", "=", ";", " ", "é", "#0", "1", "x"]
# Characters that the regex module's caseless matching equates with ASCII letters.
_LOOKALIKES = {"k": "\u212a", "K": "\u212a", "s": "\u017f", "S": "\u017f", "i": "\u0130"}


@st.composite
def patterns(draw, depth=0):
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["lit", "lit", "lit", "group", "alt", "class", "any", "rep"]))
        if kind == "lit" or depth > 1:
            parts.append(regex.escape(draw(st.sampled_from(_PIECES))))
        elif kind == "group":
            parts.append("(" + draw(patterns(depth + 1)) + ")")
        elif kind == "alt":
            parts.append("(?:" + draw(patterns(depth + 1)) + "|" + draw(patterns(depth + 1)) + ")")
        elif kind == "class":
            parts.append(draw(st.sampled_from([r"\d", r"\s", "[ab]", "[^;]"])))
        elif kind == "any":
            parts.append(draw(st.sampled_from([".", ".*", ".*?"])))
        else:
            quantifier = draw(st.sampled_from(["*", "+", "?", "{2}", "{0,2}"]))
            parts.append("(?:" + draw(patterns(depth + 1)) + ")" + quantifier)
    prefix = draw(st.sampled_from(["", "", "(?i)"]))
    return prefix + "".join(parts)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_every_match_holds_a_required_literal(data):
    pattern = data.draw(patterns())
    found = required_literals(pattern, TEXT)
    if found is None:
        return
    # A string the pattern matches, perhaps with letters swapped for caseless look-alikes,
    # inside other text.
    core = data.draw(st.from_regex(pattern, fullmatch=True))
    swaps = data.draw(st.lists(st.booleans(), min_size=len(core), max_size=len(core)))
    core = "".join(
        _LOOKALIKES.get(c, c) if swap else c for c, swap in zip(core, swaps, strict=True)
    )
    line = data.draw(st.text(max_size=5)) + core + data.draw(st.text(max_size=5))
    if regex.search(pattern, line) is None:
        return  # a look-alike the pattern does not accept
    encoded = line.encode("utf-8", "surrogatepass")
    assert any(
        (lit.text.lower() in encoded.lower()) if lit.caseless else (lit.text in encoded)
        for lit in found
    ), (pattern, line, found)
