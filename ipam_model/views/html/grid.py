"""The address grid of one pool: a cell per IPAM block, in CIDR order.

A pool of up to ``2**DIRECT_BITS`` blocks is drawn whole: one cell per block
position, claimed (``data-cidr``) or not (``data-slot``). A larger pool (a
/12 with /26 blocks has 16,384) is drawn as ``2**FANOUT_BITS`` range cells,
each a CIDR holding an equal share of the block positions; a range with
blocks in it is zoomable, and its own grid waits in a ``<template>`` right
after the grid, recursively, so the document holds every block cell exactly
once, in CIDR order, while the browser lays out only the level on screen.

Grids follow the ARIA grid pattern: ``role=grid`` > ``role=row`` >
``role=gridcell``, one tab stop per grid (the script moves it with the arrow
keys and fills each cell's label and the tooltip from its ``data-*``).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from ...core.cidr import cidr_text
from ...core.words import plural
from ..utilisation import ReservedSpace
from .colours import Palette
from .markup import attr, count, share, tally
from .model import BlockCell, PoolPicture

DIRECT_BITS = 10          # up to 1,024 block positions: one cell each
FANOUT_BITS = 8           # beyond that: 256 range cells, zoomable
DIRECT_COLUMNS = 32
RANGE_COLUMNS = 16
# Cell size classes by the number of cells in a grid: small pools get big cells.
CELL_SIZES = ((64, "cl"), (256, "cm"), (float("inf"), "cs"))
NODES_SHOWN = 5           # nodes named in a range's tooltip
NO_AFFINITY = "no affinity"  # a space: never a Kubernetes node name


@dataclass(frozen=True)
class _Pool:
    """What every cell of one pool's grid needs."""

    picture: PoolPicture
    palette: Palette
    key: str                      # unique per pool on the page, prefixes template ids
    host_bits: int                # address bits inside one block
    reserved: ReservedSpace

    def slot(self, block: BlockCell) -> int:
        return (block.first - self.picture.cidr.first) >> self.host_bits

    def cidr(self, slot: int, span_bits: int = 0) -> str:
        pool = self.picture.cidr
        return cidr_text(pool.first + (slot << self.host_bits),
                         self.picture.block_size - span_bits, pool.version)

    def reservation(self, first: int, size: int) -> tuple[str, str]:
        """(class, text) for a cell covering ``first .. first+size-1``: ``rf`` when
        reserved whole, ``rs`` when partly; the text names the reservations."""
        inside = self.reserved.within(first, first + size - 1)
        if not inside:
            return "", ""
        last = first + size - 1
        names = [f"{name} {c.text}" for name, c in self.picture.reserved
                 if c.first <= last and first <= c.last]
        shown = ", ".join(names[:3]) + (f", {len(names) - 3} more" if len(names) > 3 else "")
        text = f"{count(inside)} of {count(size)} addresses ({shown})"
        return (" rf" if inside == size else " rs"), text


def pool_map(picture: PoolPicture, palette: Palette, key: str) -> str:
    """The pool's grid (and the templates of its zoomable ranges), with its zoom trail."""
    pool = _Pool(picture, palette, key, picture.cidr.bits - picture.block_size,
                 ReservedSpace(picture.cidr, [c for _, c in picture.reserved]))
    bits = max(0, picture.block_size - picture.cidr.prefixlen)
    label = (f"pool {picture.name} {picture.cidr.text}: {count(1 << bits)} blocks of "
             f"/{picture.block_size}, {count(len(picture.blocks))} claimed")
    body = _level(pool, 0, bits, picture.blocks, label)
    hint = ('<p class="hint">Each cell is a range of blocks. Click it, or press Enter on it, to '
            'zoom in; Escape zooms out.</p>' if bits > DIRECT_BITS else "")
    return (f'<div class="map" data-key="{attr(key)}">'
            f'<nav class="crumbs" aria-label="{attr("zoom trail of pool " + picture.name)}" '
            f'hidden></nav>{hint}<div class="level">{body}</div></div>')


def loose_grid(blocks: Sequence[BlockCell], palette: Palette, label: str) -> str:
    """Blocks inside no pool: one cell each, in CIDR order, no positions between them."""
    cells = [_block_cell(b, palette, "", "") for b in blocks]
    return _grid(cells, min(DIRECT_COLUMNS, len(cells)), label) if cells else ""


def _level(pool: _Pool, lo: int, bits: int, blocks: Sequence[BlockCell], label: str) -> str:
    """Positions ``lo .. lo + 2**bits - 1``: block cells, or range cells and their templates."""
    if bits <= DIRECT_BITS:
        cells = _positions(pool, lo, bits, blocks)
        return _grid(cells, min(DIRECT_COLUMNS, len(cells)), label)
    span = bits - FANOUT_BITS
    buckets: dict[int, list[BlockCell]] = {}
    for b in blocks:
        buckets.setdefault((pool.slot(b) - lo) >> span, []).append(b)
    cells, templates = [], []
    for r in range(1 << FANOUT_BITS):
        start = lo + (r << span)
        mine = buckets.get(r, ())
        zoom = f"{pool.key}-{start:x}-{span}" if mine else ""
        cells.append(_range_cell(pool, start, span, mine, zoom))
        if mine:
            inner = _level(pool, start, span, mine,
                           f"range {pool.cidr(start, span)}: {count(1 << span)} blocks of "
                           f"/{pool.picture.block_size}, {count(len(mine))} claimed")
            templates.append(f'<template id="{zoom}">{inner}</template>')
    return _grid(cells, RANGE_COLUMNS, label) + "".join(templates)


def _positions(pool: _Pool, lo: int, bits: int, blocks: Sequence[BlockCell]) -> list[str]:
    """One cell per block position; a block larger than the pool's block size
    (a live block from before a blockSize change) covers the positions it spans."""
    out = []
    i, covered = 0, lo
    size = pool.picture.block_addresses
    for slot in range(lo, lo + (1 << bits)):
        placed = False
        while i < len(blocks) and pool.slot(blocks[i]) <= slot:
            b = blocks[i]
            cls, text = pool.reservation(b.first, b.size)
            out.append(_block_cell(b, pool.palette, cls, text))
            covered = max(covered, pool.slot(b) + max(1, b.size // size))
            i += 1
            placed = True
        if not placed and slot >= covered:
            first = pool.picture.cidr.first + (slot << pool.host_bits)
            cls, text = pool.reservation(first, size)
            reserved = f' data-reserved="{attr(text)}"' if text else ""
            out.append(f'<div role="gridcell" class="e{cls}" data-slot="{pool.cidr(slot)}"'
                       f'{reserved}></div>')
    return out


def _block_cell(b: BlockCell, palette: Palette, reserved_class: str, reserved: str) -> str:
    classes = "b " + palette.css_class(b.node) + reserved_class
    extra = []
    if b.pods:
        extra.append(f' data-pods="{attr(tally(b.pods))}"')
    if b.borrowed:
        classes += " bw"
        extra.append(f' data-borrowed="{b.borrowed}"')
    if b.tunnels:
        classes += " tu"
        tunnel = b.tunnel_text or plural(b.tunnels, "tunnel address", "tunnel addresses")
        extra.append(f' data-tunnel="{attr(tunnel)}"')
    if reserved:
        extra.append(f' data-reserved="{attr(reserved)}"')
    if b.affinity and not b.node:
        extra.append(f' data-affinity="{attr(b.affinity)}"')
    if b.deleted:
        classes += " dl"
        extra.append(' data-deleted="true"')
    return (f'<div role="gridcell" class="{classes}" style="--f:{share(b.allocated, b.size)}" '
            f'data-cidr="{attr(b.cidr)}" data-node="{attr(b.node or "")}" '
            f'data-allocated="{b.allocated}" data-size="{b.size}"{"".join(extra)}></div>')


def _range_cell(pool: _Pool, start: int, span: int, blocks: Sequence[BlockCell],
                zoom: str) -> str:
    """A range of ``2**span`` positions: coloured by the node with most blocks
    in it, filled by the share of its addresses allocated."""
    first = pool.picture.cidr.first + (start << pool.host_bits)
    capacity = pool.picture.block_addresses << span
    used = sum(b.allocated for b in blocks)
    nodes = Counter(b.node or NO_AFFINITY for b in blocks)
    top = _most(nodes) if blocks else None
    classes = ("a " + pool.palette.css_class(top)) if blocks else "a e"
    cls, reserved = pool.reservation(first, capacity)
    extra = [f' data-nodes="{attr(tally(nodes, NODES_SHOWN, " blocks"))}"' if blocks else ""]
    pods: Counter = Counter()
    for b in blocks:
        pods.update(b.pods)
    if pods:
        extra.append(f' data-pods="{attr(tally(pods))}"')
    borrowed = sum(b.borrowed for b in blocks)
    if borrowed:
        classes += " bw"
        extra.append(f' data-borrowed="{borrowed}"')
    tunnels = sum(b.tunnels for b in blocks)
    if tunnels:
        classes += " tu"
        tunnel = plural(tunnels, "tunnel address", "tunnel addresses")
        extra.append(f' data-tunnel="{attr(tunnel)}"')
    if reserved:
        extra.append(f' data-reserved="{attr(reserved)}"')
    if zoom:
        extra.append(f' data-zoom="{zoom}" aria-haspopup="grid"')
    return (f'<div role="gridcell" class="{classes}{cls}" style="--f:{share(used, capacity)}" '
            f'data-range="{pool.cidr(start, span)}" data-claimed="{len(blocks)}" '
            f'data-slots="{1 << span}" data-used="{used}" data-capacity="{capacity}"'
            f'{"".join(extra)}></div>')


def _most(nodes: Counter) -> str | None:
    """The node with most blocks (the first by name among equals)."""
    node = min(nodes.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    return None if node == NO_AFFINITY else node


def _grid(cells: list[str], columns: int, label: str) -> str:
    """Rows of *columns* cells; the first cell is the grid's one tab stop."""
    if cells:
        cells = [cells[0].replace('<div role="gridcell"', '<div role="gridcell" tabindex="0"', 1),
                 *cells[1:]]
    rows = "".join('<div role="row">' + "".join(cells[i:i + columns]) + "</div>"
                   for i in range(0, len(cells), columns))
    size = next(cls for limit, cls in CELL_SIZES if len(cells) <= limit)
    return (f'<div class="grid {size}" role="grid" aria-label="{attr(label)}" '
            f'data-cols="{columns}">{rows}</div>')
