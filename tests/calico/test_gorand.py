"""Go math/rand, big.Int.Rand and FNV-1 reproduced bit for bit (Calico's block walk)."""
import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipam_model.calico import gorand

DATA = Path(__file__).resolve().parents[1] / "data"
VECTORS = json.loads((DATA / "calico_block_walk.json").read_text())


def test_all_80_vectors_present():
    assert len(VECTORS) == 80


@pytest.mark.parametrize("vec", VECTORS, ids=lambda v: f"{v['node']}@{v['pool']}/{v['blockSize']}")
def test_fnv1_matches_go(vec):
    assert gorand.fnv1_32(vec["node"]) == vec["fnv1_32"]


@pytest.mark.parametrize("vec", VECTORS, ids=lambda v: f"{v['node']}@{v['pool']}/{v['blockSize']}")
def test_walk_first_blocks_match_go(vec):
    walk = gorand.block_walk(vec["pool"], vec["blockSize"], vec["node"])
    assert list(itertools.islice(walk, 5)) == vec["walk_first"]


def test_fnv1_is_not_fnv1a():
    # FNV-1a of "a" is 0xe40c292c; FNV-1 is 0x050c5d7e.
    assert gorand.fnv1_32("a") == 0x050C5D7E


def test_go_source_seed_1_known_values():
    # rand.NewSource(1).Int63(): the values every Go programmer has seen.
    src = gorand.GoRandSource(1)
    assert [src.int63(), src.int63()] == [5577006791947779410, 8674665223082153551]


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_jump_ahead_equals_full_source(seed):
    full, fast = gorand.GoRandSource(seed), gorand._JumpAheadSource(seed)
    assert [full.uint32() for _ in range(280)] == [fast.uint32() for _ in range(280)]


def test_walk_visits_every_block_once_with_wraparound():
    walk = list(gorand.block_walk_indices("172.16.0.0/26", 29, "node1"))
    assert walk == [4, 5, 6, 7, 0, 1, 2, 3]


def test_single_address_blocks_are_flagged_non_deterministic():
    assert not gorand.walk_is_deterministic(32, 4)
    assert not gorand.walk_is_deterministic(128, 6)
    assert gorand.walk_is_deterministic(26, 4)
