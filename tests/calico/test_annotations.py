"""The pools annotation parser as hostile input (issue 9, "Recursion",
"Numbers", "Text"): the JSON inside an annotation goes through the one
bounded decoder, so a crafted annotation is a finding, never a crash."""
from __future__ import annotations

import pytest

from ipam_model.calico.annotations import parse_pools_annotation
from ipam_model.calico.ippool import decode_applied_spec


@pytest.mark.parametrize("value,words", [
    ("[" * 5000 + "]" * 5000, "nested deeper than 100 levels"),
    ("[1" + "0" * 5000 + "]", "an integer of 5,001 digits is too long"),
    ("[NaN]", "NaN is not a JSON number"),
    ('["\\ud800"]', "lone UTF-16 surrogate"),
    ('["a", ' + '"b", ' * 60000 + '"c"]', "is larger than 256 KiB"),
])
def test_hostile_annotation_json_is_a_problem_not_a_crash(value, words):
    entries, problem = parse_pools_annotation(value)
    assert entries is None and problem.startswith("is not valid JSON (") and words in problem
    spec, problem = decode_applied_spec(value)
    assert spec is None and words in problem


def test_a_valid_annotation_still_parses():
    assert parse_pools_annotation('["pool-a", "10.0.0.0/24"]') == (["pool-a", "10.0.0.0/24"], None)
