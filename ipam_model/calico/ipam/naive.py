"""The oracle: Calico's AutoAssign loops written literally, scanning every block.

The same rules as ``simulator.Simulator`` with no indexes, so the two can be
compared (tests/calico/ipam/test_naive.py under hypothesis) and timed
(``bench/simulate_large.py``).
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import netaddr

from ...core.model import Pool
from .. import gorand
from .chooser import (
    NODE_NAME_LABEL,
    TUNNEL,
    WORKLOAD,
    IpamSettings,
    NamespaceInfo,
    PoolInfo,
    Refused,
)
from .messages import (
    MSG_BLOCK_LIMIT,
    MSG_NO_CLAIM,
    MSG_STRICT,
    msg_exhausted,
    msg_partial,
)
from .results import AllocationFailure, BlockUsage, PodAllocation, TunnelAllocation


class NaiveSimulator(IpamSettings):
    """Calico's loops transcribed literally: list every block for every request.

    Used by the tests (hypothesis compares it with ``Simulator``) and by
    ``bench/simulate_large.py`` as the baseline. Supports add_node,
    allocate, release and blocks; pool choice is shared with ``Simulator``.
    """

    def __init__(self, pools: Iterable[Pool], **settings):
        super().__init__(pools, **settings)
        # cidr -> {"pool", "affinity", "unallocated": list, "size", "base", "version"}
        self._blocks: dict[str, dict] = {}
        self._labels: dict[str, dict] = {}
        self._pods: dict[tuple[str, str], list[tuple[str, int]]] = {}
        # The IPReservations' networks, tested address by address as Calico's
        # cidrSliceFilter does (addr_filter.go), with netaddr, not the fast model's ranges.
        self._reserved = netaddr.IPSet(netaddr.IPNetwork(c.text) for c in self.reserved_cidrs)

    def add_node(self, name: str, labels: Mapping[str, str] | None = None) -> list:
        self._labels[name] = {NODE_NAME_LABEL: name, **(labels or {})}
        out = []
        for kind, pools in self._chooser.tunnel_pools(name, self._labels[name]).items():
            try:
                allowed, _ = self._chooser.choose(4, name, self._labels[name], None,
                                                  [p.cidr for p in pools], TUNNEL)
                cidr, ip, borrowed = self._assign(name, allowed, 4)
            except Refused as exc:
                out.append(AllocationFailure(None, None, name, str(exc), kind))
                continue
            out.append(TunnelAllocation(name, kind, ip, self._blocks[cidr]["pool"], cidr,
                                        borrowed))
        return out

    def allocate(self, namespace: str, pod: str, node: str, *,
                 pools: Sequence[str] | None = None, version: int = 4):
        if node not in self._labels:
            self.add_node(node)
        ns = self.namespaces.setdefault(namespace, NamespaceInfo(namespace))
        try:
            allowed, _ = self._chooser.choose(version, node, self._labels[node], ns, pools,
                                              WORKLOAD)
            cidr, ip, borrowed = self._assign(node, allowed, version)
        except Refused as exc:
            return AllocationFailure(namespace, pod, node, str(exc))
        block = self._blocks[cidr]
        ordinal = int(netaddr.IPAddress(ip)) - block["base"]
        self._pods.setdefault((namespace, pod), []).append((cidr, ordinal))
        return PodAllocation(namespace, pod, node, ip, block["pool"], cidr, borrowed)

    def release(self, namespace: str, pod: str) -> None:
        for cidr, ordinal in self._pods.pop((namespace, pod), []):
            block = self._blocks[cidr]
            block["unallocated"].append(ordinal)
            if len(block["unallocated"]) == block["size"] and block["affinity"] is None:
                del self._blocks[cidr]

    def _list_key(self, cidr: str) -> str:
        return cidr.replace(".", "-").replace(":", "-").replace("/", "-")

    def _assign(self, node: str, allowed: list[PoolInfo], version: int):
        allowed_cidrs = [netaddr.IPNetwork(p.cidr) for p in allowed]

        def in_allowed(cidr: str) -> bool:
            return any(netaddr.IPNetwork(cidr) in net for net in allowed_cidrs)

        affine = sorted((c for c, b in self._blocks.items()
                         if b["affinity"] == node and in_allowed(c)), key=self._list_key)
        for cidr in affine:
            if self._num_free(cidr):
                return self._take(cidr, False)
        if len(affine) >= self.max_blocks_per_host:
            raise Refused(MSG_BLOCK_LIMIT)
        if not self.auto_allocate_blocks:
            raise Refused(MSG_NO_CLAIM)
        for info in allowed:
            for cidr in gorand.block_walk(info.cidr, info.block_size, node):
                if cidr not in self._blocks and not self._wholly_reserved(cidr):
                    net = netaddr.IPNetwork(cidr)
                    self._blocks[cidr] = {"pool": info.name, "affinity": node,
                                          "unallocated": list(range(net.size)),
                                          "size": net.size, "base": int(net.network),
                                          "version": net.version}
                    return self._take(cidr, False)
        if self.strict_affinity:
            raise Refused(msg_partial(version, MSG_STRICT))
        for info in allowed:
            for cidr in gorand.block_walk(info.cidr, info.block_size, node):
                block = self._blocks.get(cidr)
                if (block is not None and not self._wholly_reserved(cidr)
                        and self._num_free(cidr)):
                    return self._take(cidr, True)
        raise Refused(msg_partial(version, msg_exhausted([p.cidr for p in allowed])))

    def _is_reserved(self, block: dict, ordinal: int) -> bool:
        return netaddr.IPAddress(block["base"] + ordinal, block["version"]) in self._reserved

    def _wholly_reserved(self, cidr: str) -> bool:
        return netaddr.IPSet([cidr]).issubset(self._reserved)

    def _num_free(self, cidr: str) -> int:
        """NumFreeAddresses: unallocated ordinals that no reservation covers."""
        block = self._blocks[cidr]
        return sum(1 for o in block["unallocated"] if not self._is_reserved(block, o))

    def _take(self, cidr: str, borrowed: bool):
        """The block's autoAssign: the first unallocated ordinal not reserved; the
        reserved ones keep their place in the queue."""
        block = self._blocks[cidr]
        queue = block["unallocated"]
        at = next(i for i, o in enumerate(queue) if not self._is_reserved(block, o))
        ordinal = queue.pop(at)
        return cidr, str(netaddr.IPAddress(block["base"] + ordinal, block["version"])), borrowed

    def blocks(self) -> list[BlockUsage]:
        out = []
        for cidr, b in self._blocks.items():
            free = self._num_free(cidr)
            reserved = sum(1 for o in range(b["size"]) if self._is_reserved(b, o))
            out.append(BlockUsage(cidr, b["pool"], f"host:{b['affinity']}" if b["affinity"]
                                  else None, b["size"] - len(b["unallocated"]), free,
                                  reserved))
        order = {info.name: info.order for info in self._chooser.infos}
        return sorted(out, key=lambda u: (order[u.pool], int(netaddr.IPNetwork(u.cidr).network)))
