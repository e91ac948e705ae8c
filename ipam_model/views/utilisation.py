"""A pool's addresses as four shares: used, stranded, reserved and free.

The counts follow ``calicoctl ipam show`` (libcalico-go/lib/ipam/ipam.go
``GetUtilization``, :2381-2476): a block's addresses are in use (allocated,
tunnel addresses included) or not; reserved addresses (IPReservations) are
never handed out, inside blocks and outside them; the pool's capacity is its
CIDR, blocks carved or not. Here the unallocated addresses are split further:
those inside claimed blocks are *stranded* (only the block's node gets them,
unless it borrows), those outside every block are *free*. The HTML page
draws these shares as a bar; the markdown reports of ``check`` and ``plan``
print them as a table row. Pure.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from ..core.cidr import Cidr
from ..core.model import Severity, Stack
from ..core.words import name_label, show
from ..rules.forecast.model import Forecast, PoolForecast
from .escape import markdown_cell, markdown_code
from .forecast import pool_exhaustion


@dataclass(frozen=True)
class Utilisation:
    """One pool's addresses; ``used + stranded + reserved + free == capacity``."""

    capacity: int          # addresses in the pool's CIDR
    used: int              # allocated (pods and tunnel addresses)
    stranded: int          # unallocated, unreserved, inside claimed blocks
    reserved: int          # reserved by IPReservations and not allocated
    blocks_claimed: int
    blocks_total: int
    borrowed: int = 0      # of ``used``: given to a node other than the block's

    @property
    def free(self) -> int:
        """Addresses in no claimed block and not reserved."""
        return max(0, self.capacity - self.used - self.stranded - self.reserved)

    def percent(self, part: int) -> str:
        """*part* as a share of the capacity: ``38%``, ``<1%`` for a sliver, never 0% for some."""
        if not self.capacity or not part:
            return "0%"
        share = 100 * part / self.capacity
        if share < 1:
            return "<1%"
        return f"{share:.0f}%"


@dataclass(frozen=True)
class BlockCount:
    """What a utilisation needs of one block: where it is, its size, what is allocated."""

    first: int       # the block's first address as an integer
    size: int
    allocated: int


class ReservedSpace:
    """The addresses reserved inside one pool, as sorted disjoint ranges."""

    def __init__(self, pool: Cidr, reserved: Iterable[Cidr]):
        spans = sorted((max(r.first, pool.first), min(r.last, pool.last)) for r in reserved
                       if r.version == pool.version and r.overlaps(pool))
        merged: list[list[int]] = []
        for first, last in spans:
            if merged and first <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        self._firsts = [m[0] for m in merged]
        self._lasts = [m[1] for m in merged]

    @property
    def total(self) -> int:
        return sum(last - first + 1 for first, last in zip(self._firsts, self._lasts))

    def within(self, first: int, last: int) -> int:
        """Reserved addresses in ``first..last`` (inclusive)."""
        count = 0
        i = max(0, bisect.bisect_right(self._lasts, first - 1))
        while i < len(self._firsts) and self._firsts[i] <= last:
            count += min(last, self._lasts[i]) - max(first, self._firsts[i]) + 1
            i += 1
        return count


def utilisation_of_blocks(pool: Cidr, block_size: int, blocks: Sequence[BlockCount],
                          reserved: Sequence[Cidr] = (), borrowed: int = 0) -> Utilisation:
    """A pool's utilisation from its blocks. Reserved addresses inside a block
    are taken as unallocated first: Calico never hands them out, so only an
    address allocated before its reservation is both (ipam_block.go:245
    NumReservedAddresses counts it in either case)."""
    space = ReservedSpace(pool, reserved)
    used = stranded = reserved_inside = reserved_held = 0
    for b in blocks:
        inside = space.within(b.first, b.first + b.size - 1)
        held = min(b.size - b.allocated, inside)  # reserved and not allocated
        used += b.allocated
        stranded += b.size - b.allocated - held
        reserved_inside += inside
        reserved_held += held
    return Utilisation(capacity=pool.size, used=used, stranded=stranded,
                       reserved=space.total - reserved_inside + reserved_held,
                       blocks_claimed=len(blocks),
                       blocks_total=1 << max(0, block_size - pool.prefixlen),
                       borrowed=borrowed)


@dataclass(frozen=True)
class PoolRow:
    """One row of a utilisation table."""

    stack: str
    pool: str
    cidr: str
    block_size: int | None
    utilisation: Utilisation | None  # None: the pool fails check, there is nothing to count
    note: str = ""         # the forecast's nearest failure, or what the plan does to the pool


def forecast_rows(result: Forecast, stack: Stack | None = None) -> list[PoolRow]:
    """Per pool of a forecast: the declared load's utilisation and when it runs
    out. With the *stack*: in its order, and the pools that fail check (left
    out of the forecast, as Calico would refuse them) as rows that say so."""
    rows = {p.pool: PoolRow(result.stack, p.pool, p.cidr, p.block_size,
                            utilisation_of_forecast(p), pool_exhaustion(result, p.pool))
            for p in result.pools}
    if stack is None:
        return list(rows.values())
    return [rows[name] if name in rows else left_out_row(stack, name)
            for name in stack.pool_specs if name in rows or name not in stack.pools]


def left_out_row(stack: Stack, name) -> PoolRow:
    """A declared pool that fails check, with the rules it breaks."""
    spec = stack.pool_specs.get(name)
    rules = sorted({f.rule for f in stack.pool_findings.get(name, ())
                    if f.severity is Severity.ERROR})
    return PoolRow(stack.name, name_label(name),
                   written_cidr(spec.get("cidr") if isinstance(spec, Mapping) else None),
                   None, None, "left out: fails check" + (f" ({', '.join(rules)})" if rules
                                                          else ""))


def written_cidr(value) -> str:
    """A CIDR as written in a stack that failed check: bare when it looks like
    one, quoted and cut otherwise (it is hostile until validated)."""
    if isinstance(value, str) and re.fullmatch(r"[0-9A-Fa-f.:/]{1,50}", value):
        return value
    return show(value, 50)


def utilisation_of_forecast(p: PoolForecast) -> Utilisation:
    """The declared load's utilisation, as the forecast measured it in the Calico model."""
    return Utilisation(capacity=p.blocks_total * p.block_addresses, used=p.addresses_in_use,
                       stranded=p.stranded_addresses, reserved=0,
                       blocks_claimed=p.blocks_claimed, blocks_total=p.blocks_total,
                       borrowed=p.borrowed_addresses)


BAR_WIDTH = 10


def bar_text(u: Utilisation, width: int = BAR_WIDTH) -> str:
    """A bar of block characters for a markdown cell: used █, stranded ▒,
    reserved ▚, free ░; a share that exists gets at least one character."""
    parts = [(u.used, "█"), (u.stranded, "▒"), (u.reserved, "▚")]
    cells = []
    for count, char in parts:
        n = round(width * count / u.capacity) if u.capacity else 0
        cells.append(char * (max(1, n) if count else 0))
    filled = "".join(cells)[:width]
    return filled + "░" * (width - len(filled))


TABLE_ROWS = 200       # a fleet's table stays compact; the JSON report has every pool
BAR_LEGEND = ("█ used, ▒ stranded (free only to the block's node), ▚ reserved, "
              "░ free (in no block)")


def markdown_table(rows: Sequence[PoolRow], *, stacks: bool, note: str) -> list[str]:
    """The rows as a GitHub table (at most TABLE_ROWS), then the bar's legend. A
    Reserved column appears when some pool holds IPReservations, so that the
    four shares of every row add up to its CIDR."""
    shown = rows[:TABLE_ROWS]
    reserved = any(r.utilisation and r.utilisation.reserved for r in shown)
    head = (["Stack"] if stacks else []) + ["Pool", "CIDR", "Blocks claimed", "Used",
                                            "Stranded"] + (["Reserved"] if reserved else [])
    head.append("Free")
    align = {"Blocks claimed", "Used", "Stranded", "Reserved", "Free"}
    out = ["| " + " | ".join(head) + f" | | {note} |",  # the bar's column has no title
           "|" + "|".join("--:" if h in align else "---" for h in head) + "|---|---|"]
    for r in shown:
        cells = ([markdown_cell(r.stack)] if stacks else []) + [
            markdown_code(r.pool), markdown_code(r.cidr), *_count_cells(r, reserved),
            markdown_cell(r.note)]
        out.append("| " + " | ".join(cells) + " |")
    if len(rows) > TABLE_ROWS:
        out += ["", f"{len(rows) - TABLE_ROWS:,} more pools not shown."]
    return out + ["", BAR_LEGEND + "."]


def _count_cells(r: PoolRow, reserved: bool) -> list[str]:
    """Blocks, the shares and the bar; dashes for a pool that fails check."""
    u = r.utilisation
    if u is None:
        return ["—"] * (4 + reserved) + [""]
    shares = [u.used, u.stranded] + ([u.reserved] if reserved else []) + [u.free]
    return [f"{u.blocks_claimed:,} of {u.blocks_total:,} (/{r.block_size})",
            *(f"{n:,} ({u.percent(n)})" for n in shares), f"`{bar_text(u)}`"]
