"""What ``calico-ipam simulate`` shows: tables like ``kubectl get pods -o wide``
and ``calicoctl ipam show --show-blocks``, or one JSON document.

The JSON of 5,000 nodes x 110 pods is 550,000 pod objects: encoded by
msgspec's C encoder from one small struct per pod, as bytes the command
writes straight to standard output.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import msgspec

from ..calico.ipam.results import (
    AllocationFailure,
    BlockUsage,
    PodAllocation,
    TunnelAllocation,
)
from ..core.model import Pool
from .style import PLAIN, Style


@dataclass(frozen=True)
class Simulation:
    """One simulate run: what each pod and node got, the blocks, the refusals,
    and per declared pool (by name) its addresses in use and free."""

    pods: tuple[PodAllocation, ...]
    blocks: tuple[BlockUsage, ...]
    tunnels: tuple[TunnelAllocation, ...]
    failures: tuple[AllocationFailure, ...]
    pools: tuple[Pool, ...]
    usage: Mapping[str, tuple[int, int]]


def _pct(part: int, total: int) -> str:
    return f"{(100 * part / total) if total else 0:.0f}%"


def table(rows: list[list[str]], border: bool = False) -> str:
    """Columns padded to their widest cell; ``border`` draws calicoctl's box."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    if not border:
        return "\n".join("   ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
                         for r in rows)
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [line]
    for i, r in enumerate(rows):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
        if i == 0:
            out.append(line)
    out.append(line)
    return "\n".join(out)


def _usage_rows(result: Simulation) -> list[list[str]]:
    """``calicoctl ipam show --show-blocks``: each pool, then its blocks."""
    rows = [["GROUPING", "CIDR", "IPS TOTAL", "IPS IN USE", "IPS FREE", "AFFINITY"]]
    for pool in result.pools:
        used, free = result.usage.get(pool.name, (0, pool.addresses))
        total = used + free
        rows.append(["IP Pool", pool.spec.cidr, str(total), f"{used} ({_pct(used, total)})",
                     f"{free} ({_pct(free, total)})", ""])
        for b in result.blocks:
            if b.pool == pool.name:
                size = b.allocated + b.free
                rows.append(["Block", b.cidr, str(size),
                             f"{b.allocated} ({_pct(b.allocated, size)})",
                             f"{b.free} ({_pct(b.free, size)})", b.affinity or "none"])
    return rows


def to_text(result: Simulation, style: Style = PLAIN) -> str:
    """The tables; with a colour *style*, borrowed blocks yellow and failures red."""
    out = []
    if result.tunnels:
        rows = [["NODE", "TUNNEL", "IP", "POOL", "BLOCK"]]
        rows += [[t.node, t.kind, t.ip, t.pool, t.block] for t in result.tunnels]
        out += [table(rows), ""]
    rows = [["NAME", "NAMESPACE", "IP", "NODE", "POOL", "BLOCK"]]
    rows += [[p.pod, p.namespace, p.ip, p.node, p.pool,
              p.block + (" (borrowed)" if p.borrowed else "")] for p in result.pods]
    pods = table(rows) if result.pods else "No pods allocated."
    if style.enabled:  # colour after padding, so that the columns stay aligned
        pods = pods.replace(" (borrowed)", style.update(" (borrowed)"))
    out += [pods, ""]
    out.append(table(_usage_rows(result), border=True))
    if result.failures:
        out += ["", style.error(f"{len(result.failures)} allocations would fail:")]
        for f in result.failures:
            who = f"pod {f.namespace}/{f.pod}" if f.pod else f"{f.kind} tunnel address"
            out.append(f"  {who} on node {f.node}: {style.destroy(f.message)}")
    return "\n".join(out) + "\n"


class _Pod(msgspec.Struct):
    """One entry of ``pods`` (the documented fields, in their order)."""

    namespace: str
    pod: str
    node: str
    ip: str
    pool: str
    block: str


def to_json_bytes(result: Simulation) -> bytes:
    """The JSON document as UTF-8, indented by two spaces."""
    document = {
        "pods": [_Pod(p.namespace, p.pod, p.node, p.ip, p.pool, p.block) for p in result.pods],
        "blocks": [b.to_dict() for b in result.blocks],
        "tunnels": [t.to_dict() for t in result.tunnels],
        "failures": [f.to_dict() for f in result.failures],
    }
    return msgspec.json.format(msgspec.json.encode(document), indent=2) + b"\n"


def to_json(result: Simulation) -> str:
    return to_json_bytes(result).decode()


FORMATS = MappingProxyType({"text": to_text, "json": to_json})
