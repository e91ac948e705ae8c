"""The one YAML loader (issue 9, "Recursion", "Numbers", "Text"): no input
can recurse, a self-referential alias is refused (not only deep text), and
every refusal is one line with the line and column."""
from __future__ import annotations

import pytest

from ipam_model.core.errors import InputError
from ipam_model.core.limits import Limit
from ipam_model.core.yaml_doc import YamlLimits, load_yaml_documents, load_yaml_text


@pytest.mark.parametrize("text,words,line", [
    ("a: &a [*a]\n", "the alias \\*a refers to its own anchor &a", 1),
    ("a: &a {b: [1, *a]}\n", "the alias \\*a refers to its own anchor &a", 1),
    ("a: " + "[" * 150 + "]" * 150 + "\n", "nested deeper than 100 levels", 1),
    ("a:\n" + "".join("  " * i + "- \n" for i in range(1, 120)), "nested deeper than 100", None),
    ("n: 1" + "0" * 5000 + "\n", "an integer of 5,001 digits is too long", 1),
    ("a: 1\nb: \x07\n", "character U\\+0007 is not allowed", 2),
    ("a: !!python/object:os.system x\n", "YAML tag .* is not allowed", 1),
    ("a: 1\na: 2\n", 'duplicate key "a"', 2),
])
def test_hostile_yaml_is_one_located_line(text, words, line):
    with pytest.raises(InputError, match=words) as err:
        load_yaml_text(text, file="f.yaml")
    message = str(err.value)
    assert "\n" not in message and message.startswith("f.yaml:")
    if line is not None:
        assert err.value.location.line == line
        assert err.value.location.column is not None


def test_a_control_character_is_located_by_line_and_column():
    with pytest.raises(InputError) as err:
        load_yaml_text("config:\n  x: ab\x01c\n", file="f.yaml")
    assert (err.value.location.line, err.value.location.column) == (2, 8)


def test_alias_expansion_is_bounded_over_the_whole_stream():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n"
        for i in range(6))
    with pytest.raises(InputError, match="expands to more than 250,000 values"):
        load_yaml_text(bomb, file="f.yaml")
    small = YamlLimits(values=Limit("values", 5, "values", "test"))
    with pytest.raises(InputError, match="more than 5 values"):
        load_yaml_documents("---\n[1, 2, 3]\n---\n[4, 5, 6]\n", file="f.yaml", limits=small)


def test_an_alias_replays_its_anchor_as_fresh_values():
    doc = load_yaml_text("a: &a {x: [1]}\nb: *a\n", file="f.yaml")
    assert doc.data == {"a": {"x": [1]}, "b": {"x": [1]}}
    assert doc.data["a"] is not doc.data["b"]


def test_a_byte_order_mark_is_dropped():
    assert load_yaml_text("\ufeffa: 1\n".encode("utf-8"), file="f.yaml").data == {"a": 1}
