"""The address grid: one cell per block position in CIDR order, ranges beyond
1,024 positions, every block cell exactly once (zoomed ranges in templates),
the ARIA grid pattern with one tab stop per grid.

The oracle is a brute-force walk over every block position of the pool.
"""
from __future__ import annotations

from html_helpers import parse
from hypothesis import given, settings
from hypothesis import strategies as st

from ipam_model.core.cidr import cidr_text, parse_cidr
from ipam_model.views.html.colours import Palette
from ipam_model.views.html.grid import DIRECT_BITS, FANOUT_BITS, pool_map
from ipam_model.views.html.model import BlockCell, Reservation
from ipam_model.views.html.pools import picture


def cells_of(pool_cidr: str, block_size: int, slots: dict[int, int], nodes=("n0", "n1"),
             reservations=()):
    """A pool whose blocks sit at the given positions with the given allocated counts."""
    pool = parse_cidr(pool_cidr)
    size = 1 << (pool.bits - block_size)
    blocks = [BlockCell(cidr_text(pool.first + s * size, block_size, pool.version),
                        pool.first + s * size, size, min(n, size), nodes[s % len(nodes)])
              for s, n in slots.items()]
    pic = picture("p", pool, block_size, blocks, reservations)
    page = pool_map(pic, Palette([(n, None) for n in nodes]), "p0")
    return pic, parse(f"<!DOCTYPE html><div>{page}</div>")


def grids(tree):
    return [e for e in tree.iter() if e.get("role") == "grid"]


def direct_cells(grid):
    return [c for row in grid if row.get("role") == "row" for c in row]


@settings(max_examples=60, deadline=None)
@given(prefix=st.integers(16, 28), extra=st.integers(0, 13), data=st.data())
def test_every_block_once_in_cidr_order_and_every_position_when_small(prefix, extra, data):
    block_size = min(32, prefix + extra)
    positions = 1 << (block_size - prefix)
    chosen = data.draw(st.dictionaries(st.integers(0, positions - 1), st.integers(0, 300),
                                       max_size=40))
    pic, tree = cells_of(f"10.0.0.0/{prefix}", block_size, chosen)
    cells = [(e.get("data-cidr"), int(e.get("data-allocated")))
             for e in tree.iter() if e.get("data-cidr")]
    assert cells == [(b.cidr, b.allocated) for b in pic.blocks]
    assert [b.first for b in pic.blocks] == sorted(b.first for b in pic.blocks)
    top = grids(tree)[0]
    if positions <= 1 << DIRECT_BITS:
        every = [c.get("data-cidr") or c.get("data-slot") for c in direct_cells(top)]
        size = 1 << (32 - block_size)
        assert every == [cidr_text(pic.cidr.first + s * size, block_size, 4)
                         for s in range(positions)]
    else:
        ranges = direct_cells(top)
        assert len(ranges) == 1 << FANOUT_BITS
        assert sum(int(r.get("data-claimed")) for r in ranges) == len(chosen)
        zoom = [r.get("data-zoom") for r in ranges if r.get("data-zoom")]
        assert sorted(zoom) == sorted(t.get("id") for t in tree.iter("template"))
        span = positions >> FANOUT_BITS
        assert len(zoom) == len({s // span for s in chosen})


@settings(max_examples=25, deadline=None)
@given(prefix=st.integers(16, 26), extra=st.integers(0, 13), data=st.data())
def test_one_tab_stop_per_grid_and_rows_of_the_declared_width(prefix, extra, data):
    block_size = min(32, prefix + extra)
    positions = 1 << (block_size - prefix)
    chosen = data.draw(st.dictionaries(st.integers(0, positions - 1), st.integers(0, 64),
                                       min_size=1, max_size=20))
    _, tree = cells_of(f"10.0.0.0/{prefix}", block_size, chosen)
    for grid in grids(tree):
        cells = direct_cells(grid)
        assert [c.get("tabindex") for c in cells].count("0") == 1
        assert cells[0].get("tabindex") == "0"
        cols = int(grid.get("data-cols"))
        rows = [r for r in grid if r.get("role") == "row"]
        assert all(len(r) == cols for r in rows[:-1]) and 0 < len(rows[-1]) <= cols
        assert grid.get("aria-label")


def test_a_huge_ipv6_pool_nests_ranges_down_to_its_blocks():
    # fd00::/48 with /122 blocks: 2**74 positions, 8 bits of them per level
    pic, tree = cells_of("fd00::/48", 122, {0: 5, 2 ** 40: 7, 2 ** 74 - 1: 64})
    assert [e.get("data-cidr") for e in tree.iter() if e.get("data-cidr")] == [
        b.cidr for b in pic.blocks]
    assert pic.blocks[-1].cidr == "fd00::ffff:ffff:ffff:ffff:ffc0/122"
    depth = {}
    for t in tree.iter("template"):
        depth[t.get("id")] = int(t.get("id").rsplit("-", 1)[1])  # the span in bits
    assert min(depth.values()) <= DIRECT_BITS and max(depth.values()) == 74 - FANOUT_BITS
    top = direct_cells(grids(tree)[0])
    assert top[0].get("data-range") == "fd00::/56" and top[0].get("data-claimed") == "2"
    assert top[-1].get("data-range") == "fd00:0:0:ff00::/56"


def test_a_block_larger_than_the_pools_block_size_covers_its_positions():
    """A live /26 left from before the pool's blockSize became 28 spans four positions."""
    pool = parse_cidr("10.0.0.0/24")
    old = BlockCell("10.0.0.64/26", pool.first + 64, 64, 10, "n0")
    new = BlockCell("10.0.0.0/28", pool.first, 16, 3, "n1")
    pic = picture("p", pool, 28, [old, new])
    tree = parse("<div>" + pool_map(pic, Palette([("n0", None), ("n1", None)]), "p0") + "</div>")
    every = [c.get("data-cidr") or c.get("data-slot") for c in direct_cells(grids(tree)[0])]
    assert every[:6] == ["10.0.0.0/28", "10.0.0.16/28", "10.0.0.32/28", "10.0.0.48/28",
                         "10.0.0.64/26", "10.0.0.128/28"]
    assert len(every) == 16 - 3


def test_cells_are_coloured_by_node_and_filled_by_their_share():
    _, tree = cells_of("10.0.0.0/24", 26, {0: 16, 1: 64, 3: 0})
    cells = [e for e in tree.iter() if e.get("data-cidr")]
    assert [c.get("style") for c in cells] == ["--f:25%", "--f:100%", "--f:0%"]
    assert [c.get("class").split()[:2] for c in cells] == [["b", "n0"], ["b", "n1"], ["b", "n1"]]


def test_ranges_name_their_nodes_pods_and_reservations():
    reserved = [Reservation("lb", ("10.0.0.0/28",))]
    _, tree = cells_of("10.0.0.0/16", 28, {0: 3, 1: 4, 2: 1}, nodes=("a", "b"),
                       reservations=reserved)
    first = direct_cells(grids(tree)[0])[0]
    assert first.get("data-range") == "10.0.0.0/24"
    assert first.get("data-nodes") == "a 2 blocks, b 1 blocks"
    assert first.get("data-used") == "8" and first.get("data-capacity") == "256"
    assert first.get("data-reserved") == "16 of 256 addresses (lb 10.0.0.0/28)"
    assert "rs" in first.get("class").split() and "na" not in first.get("class")
