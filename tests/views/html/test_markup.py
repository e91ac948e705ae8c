"""Escaping and numbers on the page."""
from __future__ import annotations

import json

from html_helpers import parse

from ipam_model.views.html.markup import attr, count, script_json, share, tally, text


def test_names_stay_text_in_content_and_attributes():
    name = '"><img src=x onerror=alert(1)>&'
    tree = parse(f'<!DOCTYPE html><div title="{attr(name)}">{text(name)}</div>')
    div = next(tree.iter("div"))
    assert div.get("title") == name and div.text == name and not list(tree.iter("img"))


def test_script_json_round_trips_and_never_closes_the_element():
    value = {"</script><!--": "<script>&"}
    encoded = script_json(value)
    assert "<" not in encoded and json.loads(encoded) == value


def test_counts_shares_and_tallies():
    assert count(1234) == "1,234" and count(2 ** 64) == "2^64" and count(3 * 10 ** 20) == "≈3e+20"
    assert share(3, 8) == "37.5%" and share(0, 8) == "0%" and share(9, 8) == "100%"
    assert share(1, 3) == "33.33%"
    counts = {f"ns{i}": i for i in range(1, 9)}
    assert tally(counts) == "ns8 8, ns7 7, ns6 6, ns5 5, ns4 4, ns3 3, 2 more"
    assert tally({"b": 2, "a": 2}) == "a 2, b 2"
