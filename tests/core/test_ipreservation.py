"""ReservedRanges: the union of reserved networks, against an address-by-address oracle.

Calico subtracts the reservations from a pool as one set, so an address reserved
twice (nested or duplicated reservations) counts once (libcalico-go
lib/ipam/reserved.go:117-132 ``subtractReservations``; ipam_test.go:2723-2728
"Nested and duplicated reservations must not be counted twice"), and a block is
skipped only when every one of its addresses is reserved (addr_filter.go:69-92
``MatchesWholeCIDR``).
"""
from hypothesis import given, settings
from hypothesis import strategies as st

from ipam_model.core.cidr import parse_cidr
from ipam_model.core.ipreservation import ReservedRanges

POOL = parse_cidr("10.0.0.0/24")
BLOCK = 28  # 16 blocks of 16 addresses


def networks_in_pool():
    """Networks inside and around 10.0.0.0/23: nested, overlapping, adjacent."""
    return st.builds(lambda prefix, offset: parse_cidr(_network(prefix, offset)),
                     st.integers(22, 32), st.integers(0, 511))


def _network(prefix: int, offset: int) -> str:
    size = 1 << (32 - prefix)
    first = (10 << 24) + (offset // size) * size
    return f"{first >> 24}.{(first >> 16) & 255}.{(first >> 8) & 255}.{first & 255}/{prefix}"


def addresses(cidrs) -> set[int]:
    return {a for c in cidrs for a in range(c.first, c.last + 1)}


@settings(max_examples=200, deadline=None)
@given(st.lists(networks_in_pool(), max_size=6))
def test_count_and_whole_blocks_agree_with_the_address_set(cidrs):
    reserved = addresses(cidrs)
    ranges = ReservedRanges(cidrs)
    in_pool = {a for a in reserved if POOL.first <= a <= POOL.last}
    assert ranges.count(POOL) == len(in_pool)
    size = 1 << (32 - BLOCK)
    whole = {i for i in range(POOL.size // size)
             if all(POOL.first + i * size + k in reserved for k in range(size))}
    spans = ranges.whole_blocks(POOL, BLOCK)
    assert {i for a, b in spans for i in range(a, b + 1)} == whole
    for i in range(POOL.size // size):
        first = POOL.first + i * size
        assert ranges.covers(4, first, first + size - 1) == (i in whole)
    assert bool(ranges) == bool(cidrs)


def test_nested_and_duplicated_reservations_count_once():
    """ipam_test.go:2723-2728: a /28, a /30 inside it and the /28 again reserve 16."""
    cidrs = [parse_cidr(t) for t in ("10.0.0.0/28", "10.0.0.4/30", "10.0.0.0/28")]
    assert ReservedRanges(cidrs).count(POOL) == 16


def test_families_are_kept_apart():
    v6 = parse_cidr("fd00::/64")
    ranges = ReservedRanges([v6, parse_cidr("10.0.0.0/30")])
    assert ranges.count(parse_cidr("fd00::/120")) == 256
    assert ranges.count(POOL) == 4
    # a /64 inside a pool of /122 blocks: counted without enumerating its blocks
    assert ranges.count(parse_cidr("fd00::/48")) == 1 << 64
