"""The one bounded JSON decoder (issue 9, "Recursion", "Numbers", "Text"):
depth, integer length, NaN/Infinity and lone surrogates are refused with the
position; valid JSON decodes exactly as Python's json does."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipam_model.core.json_doc import JsonError, loads


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
