"""What the HTML page shows, as data: pools, their blocks, marks and notes.

The page builders (``simulation.py``, ``plan.py``) turn a simulate run or a
plan into a ``Page``; ``page.py`` and ``grid.py`` draw it. Reserved ranges
(Calico's IPReservation ``reservedCIDRs``) and the IPAM configuration in use
(Calico's IPAMConfig ``strictAffinity``, ``maxBlocksPerHost``) are inputs of
the builders: they are drawn whenever a caller passes them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from ...core.cidr import Cidr, parse_cidr
from ...core.ipreservation import ReservedCidr
from ...core.model import DEFAULT_MAX_BLOCKS_PER_HOST, frozen_map
from ...plan.model import Action
from ..utilisation import Utilisation


@dataclass(frozen=True)
class Reservation:
    """Calico's IPReservation: addresses IPAM never hands out (IPReservationSpec
    ``reservedCIDRs``, api/pkg/apis/projectcalico/v3/ipreservation.go:57-61)."""

    name: str
    cidrs: tuple[str, ...]

    def parsed(self) -> tuple[Cidr, ...]:
        """The reserved CIDRs; a text that is not a CIDR is a caller's bug (the
        stack loader and the live reader validate them)."""
        out = []
        for text in self.cidrs:
            cidr = parse_cidr(text)
            if cidr is None:
                raise ValueError(f"reservation {self.name}: {text!r} is not a CIDR")
            out.append(cidr)
        return tuple(out)


def reservations_of(reserved: Iterable[ReservedCidr]) -> tuple[Reservation, ...]:
    """The allocator's reserved networks (``AllocatorSettings.reserved``), one
    Reservation per IPReservation, in the order they come."""
    by_name: dict[str, list[str]] = {}
    for r in reserved:
        by_name.setdefault(r.reservation, []).append(r.cidr.text)
    return tuple(Reservation(name, tuple(cidrs)) for name, cidrs in by_name.items())


@dataclass(frozen=True)
class IpamShown:
    """The IPAM configuration a picture was made with (Calico's IPAMConfigSpec)."""

    strict_affinity: bool
    max_blocks_per_host: int      # as configured: 0 means Calico's default
    source: str                   # "stack file", "--strict-affinity", "cluster IPAMConfig"

    @property
    def effective_max_blocks(self) -> int:
        return self.max_blocks_per_host or DEFAULT_MAX_BLOCKS_PER_HOST


@dataclass(frozen=True)
class BlockCell:
    """One IPAM block as the page draws it."""

    cidr: str
    first: int                    # first address, as an integer
    size: int                     # addresses in the block
    allocated: int
    node: str | None              # the host of a ``host:`` affinity
    affinity: str | None = None   # the affinity as Calico stores it
    pods: Mapping[str, int] = field(default_factory=frozen_map)  # namespace -> addresses
    borrowed: int = 0             # addresses held by other nodes than ``node``
    tunnels: int = 0              # tunnel addresses in the block
    tunnel_text: str = ""         # which ones, when known ("ipip 172.16.0.32 node1")
    deleted: bool = False         # the IPAMBlock is being deleted


@dataclass(frozen=True)
class Notice:
    """Something to read next to a pool: a gate, a drift item, a warning."""

    kind: str                     # error | warning | info | drift | lifted
    title: str                    # "CIP601 pool-replace-in-use"
    text: str
    steps_title: str = ""         # a migration's title
    steps: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (step text, commands)


@dataclass(frozen=True)
class ChangeMark:
    """What ``pulumi up`` would do to a pool, marked as Terraform marks it."""

    action: Action
    lines: tuple[str, ...] = ()   # the attribute changes, one a line

    @property
    def word(self) -> str:
        return {Action.CREATE: "create", Action.UPDATE: "update in-place",
                Action.REPLACE: "replace", Action.DELETE: "delete",
                Action.FORGET: "forget (stays in the cluster)",
                Action.NOOP: "no changes"}[self.action]


@dataclass(frozen=True)
class PoolPicture:
    """One pool: its geometry, blocks in CIDR order and everything said about it."""

    name: str
    cidr: Cidr
    block_size: int
    blocks: tuple[BlockCell, ...]
    utilisation: Utilisation
    reserved: tuple[tuple[str, Cidr], ...] = ()   # (reservation, CIDR) overlapping the pool
    facts: tuple[str, ...] = ()                   # "disabled", "ipipMode Always", ...
    outlook: tuple[str, ...] = ()                 # the forecast: exhaustion, block-size advice
    change: ChangeMark | None = None
    greyed: bool = False                          # not managed by this stack
    notices: tuple[Notice, ...] = ()

    @property
    def block_addresses(self) -> int:
        return 1 << (self.cidr.bits - self.block_size)


@dataclass(frozen=True)
class Section:
    """A list of lines under a heading: failures, errors, namespace changes."""

    title: str
    items: tuple[str, ...]
    kind: str = "info"            # error | warning | info


@dataclass(frozen=True)
class Page:
    title: str                    # the document title
    heading: str
    summary: tuple[str, ...]      # the verdict, one line each
    facts: tuple[tuple[str, str], ...]
    pools: tuple[PoolPicture, ...]
    nodes: tuple[tuple[str, str | None], ...]     # (node, node group) in legend order
    ipam: IpamShown | None = None
    loose_blocks: tuple[BlockCell, ...] = ()      # blocks inside no pool
    sections: tuple[Section, ...] = ()
