"""What ``calico-ipam simulate`` shows: tables like ``kubectl get pods -o wide``
and ``calicoctl ipam show --show-blocks``, or one JSON document."""
from __future__ import annotations

import json
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from ..calico.ipam.results import (
    AllocationFailure,
    BlockUsage,
    PodAllocation,
    TunnelAllocation,
)
from ..core.model import Pool


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


def to_text(result: Simulation) -> str:
    out = []
    if result.tunnels:
        rows = [["NODE", "TUNNEL", "IP", "POOL", "BLOCK"]]
        rows += [[t.node, t.kind, t.ip, t.pool, t.block] for t in result.tunnels]
        out += [table(rows), ""]
    rows = [["NAME", "NAMESPACE", "IP", "NODE", "POOL", "BLOCK"]]
    rows += [[p.pod, p.namespace, p.ip, p.node, p.pool,
              p.block + (" (borrowed)" if p.borrowed else "")] for p in result.pods]
    out += [table(rows) if result.pods else "No pods allocated.", ""]
    out.append(table(_usage_rows(result), border=True))
    if result.failures:
        out += ["", f"{len(result.failures)} allocations would fail:"]
        for f in result.failures:
            who = f"pod {f.namespace}/{f.pod}" if f.pod else f"{f.kind} tunnel address"
            out.append(f"  {who} on node {f.node}: {f.message}")
    return "\n".join(out) + "\n"


def to_json(result: Simulation) -> str:
    return json.dumps({
        "pods": [{"namespace": p.namespace, "pod": p.pod, "node": p.node, "ip": p.ip,
                  "pool": p.pool, "block": p.block} for p in result.pods],
        "blocks": [b.to_dict() for b in result.blocks],
        "tunnels": [t.to_dict() for t in result.tunnels],
        "failures": [f.to_dict() for f in result.failures],
    }, indent=2) + "\n"


FORMATS = MappingProxyType({"text": to_text, "json": to_json})
