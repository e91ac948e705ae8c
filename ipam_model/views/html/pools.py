"""Pieces both page builders use: a pool's facts, its reserved ranges, its picture."""
from __future__ import annotations

from typing import Sequence

from ...core.cidr import Cidr
from ...core.ippool import DEFAULT_ALLOWED_USES, DEFAULT_NODE_SELECTOR, PoolSpec
from ..utilisation import BlockCount, utilisation_of_blocks
from .model import BlockCell, PoolPicture, Reservation


def pool_facts(spec: PoolSpec) -> tuple[str, ...]:
    """The settings worth a glance, in Calico's field names; defaults left out."""
    facts = []
    if spec.disabled:
        facts.append("disabled: no new addresses")
    if spec.ipip_mode != "Never":
        facts.append(f"ipipMode {spec.ipip_mode}")
    if spec.vxlan_mode != "Never":
        facts.append(f"vxlanMode {spec.vxlan_mode}")
    if spec.nat_outgoing:
        facts.append("natOutgoing")
    if spec.node_selector != DEFAULT_NODE_SELECTOR:
        facts.append(f"nodeSelector {spec.node_selector}")
    if spec.namespace_selector:
        facts.append(f"namespaceSelector {spec.namespace_selector}")
    if tuple(spec.allowed_uses) != tuple(DEFAULT_ALLOWED_USES):
        facts.append("allowedUses " + ", ".join(spec.allowed_uses))
    if spec.assignment_mode != "Automatic":
        facts.append(f"assignmentMode {spec.assignment_mode}")
    return tuple(facts)


def reserved_in(pool: Cidr, reservations: Sequence[Reservation]) -> tuple[tuple[str, Cidr], ...]:
    """(reservation, CIDR) for every reserved CIDR overlapping the pool, in address order."""
    found = [(r.name, c) for r in reservations for c in r.parsed()
             if c.version == pool.version and c.overlaps(pool)]
    return tuple(sorted(found, key=lambda nc: (nc[1].first, nc[1].prefixlen, nc[0])))


def picture(name: str, cidr: Cidr, block_size: int, blocks: Sequence[BlockCell],
            reservations: Sequence[Reservation] = (), **more) -> PoolPicture:
    """A pool's picture, its blocks sorted by address and its utilisation counted."""
    cells = tuple(sorted(blocks, key=lambda b: (b.first, -b.size)))
    reserved = reserved_in(cidr, reservations)
    usage = utilisation_of_blocks(cidr, block_size,
                                  [BlockCount(b.first, b.size, b.allocated) for b in cells],
                                  [c for _, c in reserved], sum(b.borrowed for b in cells))
    return PoolPicture(name=name, cidr=cidr, block_size=block_size, blocks=cells,
                       utilisation=usage, reserved=reserved, **more)
