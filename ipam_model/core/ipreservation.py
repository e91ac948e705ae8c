"""The IPReservation spec as data, and reserved addresses as address ranges.

An IPReservation (api/pkg/apis/projectcalico/v3/ipreservation.go:43-66) holds
``reservedCIDRs``: addresses Calico IPAM never hands out. Reservations are
cluster-wide, not per pool, and may overlap and nest; Calico subtracts them
from a pool as one set (libcalico-go/lib/ipam/reserved.go:117-132
``subtractReservations``), so an address reserved twice counts once.
``ReservedRanges`` is that set, kept as merged address intervals per family
so that even an IPv6 /64 reserved inside a pool of /122 blocks is counted and
tested without enumerating its blocks.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Iterable

from .cidr import Cidr


@dataclass(frozen=True)
class ReservationSpec:
    """An IPReservationSpec: the CIDRs as written (declared) or stored (live)."""

    reserved_cidrs: tuple[str, ...] = ()

    def to_calico(self) -> dict:
        return {"reservedCIDRs": list(self.reserved_cidrs)}


@dataclass(frozen=True)
class ReservedCidr:
    """One reserved network and the IPReservation that names it."""

    cidr: Cidr
    reservation: str


class ReservedRanges:
    """The union of reserved networks, per family, as sorted disjoint intervals."""

    def __init__(self, cidrs: Iterable[Cidr]):
        spans: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
        for cidr in cidrs:
            spans[cidr.version].append((cidr.first, cidr.last))
        self._firsts: dict[int, list[int]] = {}
        self._spans: dict[int, list[tuple[int, int]]] = {}
        for version, items in spans.items():
            merged: list[tuple[int, int]] = []
            for first, last in sorted(items):
                if merged and first <= merged[-1][1] + 1:  # overlapping or adjacent
                    if last > merged[-1][1]:
                        merged[-1] = (merged[-1][0], last)
                else:
                    merged.append((first, last))
            self._spans[version] = merged
            self._firsts[version] = [first for first, _ in merged]

    def __bool__(self) -> bool:
        return any(self._spans.values())

    def spans_in(self, version: int, first: int, last: int) -> list[tuple[int, int]]:
        """The reserved intervals within [first, last], clipped to it."""
        spans = self._spans[version]
        i = max(0, bisect.bisect_right(self._firsts[version], first) - 1)
        out = []
        while i < len(spans) and spans[i][0] <= last:
            a, b = spans[i]
            if b >= first:
                out.append((max(a, first), min(b, last)))
            i += 1
        return out

    def count(self, cidr: Cidr) -> int:
        """Reserved addresses inside *cidr*."""
        return sum(b - a + 1 for a, b in self.spans_in(cidr.version, cidr.first, cidr.last))

    def whole_blocks(self, cidr: Cidr, block_size: int) -> list[tuple[int, int]]:
        """The blocks of prefix *block_size* inside *cidr* that are reserved in full,
        as [first, last] spans of block indices (Calico never claims them)."""
        size = 1 << (cidr.bits - block_size)
        out = []
        for a, b in self.spans_in(cidr.version, cidr.first, cidr.last):
            first = -(-(a - cidr.first) // size)
            last = (b + 1 - cidr.first) // size - 1
            if first <= last:
                out.append((first, last))
        return out

    def covers(self, version: int, first: int, last: int) -> bool:
        """Whether every address of [first, last] is reserved (Calico's
        ``MatchesWholeCIDR``, addr_filter.go:69-92: merged, so one interval)."""
        spans = self.spans_in(version, first, last)
        return len(spans) == 1 and spans[0] == (first, last)
