"""The live-state model: ``LiveBlock.counted``, the constructor the snapshot
reader uses for every IPAMBlock (issue 11, point 5), builds exactly the block
the dataclass's own constructor builds."""
from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipam_model.core.cidr import parse_cidr
from ipam_model.core.live_state import LiveBlock

FIELDS = st.fixed_dictionaries({
    "cidr": st.sampled_from(["10.0.0.0/26", "fd00::/122"]),
    "affinity": st.sampled_from([None, "host:n1", "virtual:n2"]),
    "size": st.integers(1, 64),
    "allocated": st.integers(0, 64),
    "by_namespace": st.dictionaries(st.sampled_from(["web", "db"]), st.integers(1, 9))
    .map(MappingProxyType),
    "deleted": st.booleans(),
    "borrowed": st.integers(0, 64),
    "tunnels": st.integers(0, 2),
    "parsed": st.sampled_from([None, parse_cidr("10.0.0.0/26")]),
})


@settings(max_examples=100)
@given(FIELDS)
def test_counted_builds_the_block_the_constructor_builds(values):
    fast, plain = LiveBlock.counted(**values), LiveBlock(**values)
    assert fast == plain and repr(fast) == repr(plain)
    assert vars(fast) == vars(plain)  # parsed too, which == does not compare
    assert type(fast) is LiveBlock and fast.node == plain.node
    assert dataclasses.replace(fast, tunnels=7) == dataclasses.replace(plain, tunnels=7)


def test_counted_sets_every_field_and_skips_no_post_init():
    """A field added to LiveBlock but not to counted, or a __post_init__, fails here."""
    names = [f.name for f in dataclasses.fields(LiveBlock)]
    block = LiveBlock.counted(*[None] * len(names))
    assert list(vars(block)) == names
    assert not hasattr(LiveBlock, "__post_init__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        block.cidr = "x"  # still frozen
