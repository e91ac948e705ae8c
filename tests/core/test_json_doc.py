"""The one bounded JSON decoder (issue 9, "Recursion", "Numbers", "Text"):
depth, integer length, NaN/Infinity and lone surrogates are refused with the
position; valid JSON decodes exactly as Python's json does."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipam_model.core.json_doc import DEFAULT_DECODER, UNDECIDED, JsonError, loads


@pytest.mark.parametrize("text,words,pos", [
    ("[" * 5000 + "]" * 5000, "nested deeper than 100 levels", 0),
    ('{"a": ' * 101 + "1" + "}" * 101, "nested deeper than 100 levels", 0),
    ("[1" + "0" * 5000 + "]", "an integer of 5,001 digits is too long", 1),
    ('{"n": NaN}', "NaN is not a JSON number", 6),
    ("[-Infinity]", "-Infinity is not a JSON number", 1),
    ('["\\ud800"]', "lone UTF-16 surrogate", 2),
    ('{"a": 1', "not valid JSON", 7),
])
def test_hostile_json_is_refused_with_its_position(text, words, pos):
    with pytest.raises(JsonError, match=words) as err:
        loads(text)
    assert err.value.pos == pos
    assert err.value.line == 1


def test_a_paired_surrogate_escape_is_text():
    assert loads('["\\ud83d\\ude00"]') == ["\U0001F600"]


def test_limit_bounds_the_size():
    with pytest.raises(JsonError, match="is larger than"):
        from ipam_model.core.limits import Limit
        loads("[1, 2, 3]", limit=Limit("x", 4, "bytes", "test"))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**64) | st.text(max_size=5)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=4),
    max_leaves=20)


@settings(max_examples=200)
@given(JSON)
def test_valid_json_decodes_as_pythons_json_does(value):
    text = json.dumps(value)
    assert loads(text) == json.loads(text)


# decode_span (issue 11, point 5): msgspec's C decoder as a fast path. It may
# decline (UNDECIDED) but must never answer differently from decode_at, the
# decoder above: same value, same types (1 is not 1.0 nor True), same key order.

def decode_at(text: str, pos: int):
    """decode_at's answer: ("value", repr, end), or the refusal."""
    try:
        value, end = DEFAULT_DECODER.decode_at(text, pos)
    except JsonError as exc:
        return ("refused", exc.message, exc.pos)
    except json.JSONDecodeError:
        return ("syntax",)
    return ("value", repr(value), end)


def agrees(text: str, pos: int, end: int) -> bool:
    got = DEFAULT_DECODER.decode_span(text, pos, end)
    return got is UNDECIDED or decode_at(text, pos) == ("value", repr(got), end)


NUMBERS = st.sampled_from(["0", "-0", "-0.0", "1e400", "-1e400", "1e-400", "1E+2", "0.1e1",
                           "123456789012345678901234", "18446744073709551616", "1" * 21,
                           "4.9e-324", "2.2250738585072014e-308", "1.7976931348623157e308",
                           "NaN", "-Infinity", "01", "1.", ".5", "1e5", "true", "tru", "null",
                           # rounding's hard cases: halfway, subnormal, just past the largest
                           "9007199254740993.0", "2.4703282292062328e-324",
                           "1.7976931348623159e308",
                           "1.00000000000000011102230246251565404236316680908203126"])
ESCAPES = st.sampled_from(['"\\ud800"', '"\\udc00"', '"\\ud83d\\ude00"', '"\\ud800\\u0041"',
                           '"\\u0000"', '"\\/"', '"a\\x"', '"\\ud83d"', '"\u00e9\u2028"',
                           '"\x01"', '"}, {"'])


@st.composite
def json_texts(draw):
    """Valid JSON in several layouts, sometimes with a hostile or broken piece spliced in."""
    value = draw(JSON)
    layout = draw(st.sampled_from([{}, {"indent": 2}, {"separators": (",", ":")},
                                   {"ensure_ascii": False}]))
    text = json.dumps(value, **layout)
    if draw(st.booleans()):
        piece = draw(NUMBERS | ESCAPES | st.sampled_from(["[" * 101 + "]" * 101,
                                                         '{"a":' * 60 + "[" * 41 + "1"
                                                         + "]" * 41 + "}" * 60]))
        at = draw(st.integers(0, len(text)))
        text = text[:at] + piece + text[at:]
    return text


@settings(max_examples=400)
@given(json_texts(), st.data())
def test_decode_span_answers_only_as_decode_at_does(text, data):
    pos = data.draw(st.integers(0, len(text) - 1)) if data.draw(st.booleans()) else 0
    end = data.draw(st.integers(pos + 1, len(text)))
    assert agrees(text, pos, end)
    assert agrees(text, 0, len(text))


@settings(max_examples=200)
@given(st.lists(JSON, min_size=1, max_size=5), st.sampled_from([",", ", ", ",\n", "\n,", ",\n  "]))
def test_decode_span_decodes_each_item_of_a_list(items, separator):
    """The stream's use: items one after another, each span ending before a separator."""
    dumped = [json.dumps(item, ensure_ascii=False) for item in items]  # no \\ud8xx escapes
    text = "[" + separator.join(dumped) + "]"
    pos = 1
    for item, one in zip(items, dumped):
        end = pos + len(one)
        got = DEFAULT_DECODER.decode_span(text, pos, end)
        assert got is not UNDECIDED and repr(got) == repr(json.loads(one))
        pos = end + len(separator)


@pytest.mark.parametrize("text", [
    "[" * 101 + "]" * 101, '{"n": NaN}', "[1" + "0" * 25 + "]", '["\\ud800"]', "[1e400]",
    '{"a": 1', '[1, 2] ', " [1]", "[1]x",
])
def test_decode_span_leaves_whatever_a_limit_or_an_error_concerns_to_decode_at(text):
    assert DEFAULT_DECODER.decode_span(text, 0, len(text)) is UNDECIDED
