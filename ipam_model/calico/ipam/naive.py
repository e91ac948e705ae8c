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
from .cni import CniConfig, PodRequest, cni_add
from .messages import (
    MSG_BLOCK_LIMIT,
    MSG_NO_CLAIM,
    MSG_NOT_IN_POOL,
    MSG_STRICT,
    msg_affinity_mismatch,
    msg_already_assigned,
    msg_exhausted,
    msg_partial,
)
from .results import AllocationFailure, BlockUsage, PodAllocation, TunnelAllocation


class NaiveSimulator(IpamSettings):
    """Calico's loops transcribed literally: list every block for every request.

    Used by the tests (hypothesis compares it with ``Simulator``) and by
    ``bench/simulate_large.py`` as the baseline. Supports add_node (tunnel
    addresses), allocate/auto_assign, assign_ip (ipAddrs), add_pod (the CNI
    ADD of ``cni.py``, shared), release and blocks; pool choice is shared with
    ``Simulator``.
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
        self.failures: list[AllocationFailure] = []

    @property
    def chooser(self):
        return self._chooser

    def add_node(self, name: str, labels: Mapping[str, str] | None = None) -> list:
        """reconcileTunnelAddrs: each tunnel type in turn; the first failure
        releases what this pass assigned and ends it."""
        self._labels[name] = {NODE_NAME_LABEL: name, **(labels or {})}
        out = []
        for kind, (version, pools) in self._chooser.tunnel_pools(name,
                                                                 self._labels[name]).items():
            try:
                allowed, _ = self._chooser.choose(version, name, self._labels[name], None,
                                                  [p.cidr for p in pools], TUNNEL)
                cidr, ip, borrowed = self._assign(name, allowed, version)
            except Refused as exc:
                for tunnel in out:
                    self._give_back(tunnel.block, tunnel.ip)
                failure = AllocationFailure(None, None, name, str(exc), kind)
                self.failures.append(failure)
                return [failure]
            out.append(TunnelAllocation(name, kind, ip, self._blocks[cidr]["pool"], cidr,
                                        borrowed))
        return out

    def allocate(self, namespace: str, pod: str, node: str, *,
                 pools: Sequence[str] | None = None, version: int = 4):
        try:
            return self.auto_assign(namespace, pod, node, pools, version)
        except Refused as exc:
            failure = AllocationFailure(namespace, pod, node, str(exc))
            self.failures.append(failure)
            return failure

    def add_pod(self, pod: PodRequest, cni: CniConfig):
        return cni_add(self, pod, cni)

    def namespace_info(self, namespace: str) -> NamespaceInfo:
        return self.namespaces.setdefault(namespace, NamespaceInfo(namespace))

    def auto_assign(self, namespace: str, pod: str, node: str, pools, version: int):
        if node not in self._labels:
            self.add_node(node)
        allowed, _ = self._chooser.choose(version, node, self._labels[node],
                                          self.namespace_info(namespace), pools, WORKLOAD)
        cidr, ip, borrowed = self._assign(node, allowed, version)
        return self._keep(namespace, pod, node, cidr, ip, borrowed)

    def _keep(self, namespace, pod, node, cidr, ip, borrowed) -> PodAllocation:
        block = self._blocks[cidr]
        ordinal = int(netaddr.IPAddress(ip)) - block["base"]
        self._pods.setdefault((namespace, pod), []).append((cidr, ordinal))
        return PodAllocation(namespace, pod, node, ip, block["pool"], cidr, borrowed)

    def assign_ip(self, namespace: str, pod: str, node: str, version: int, address: int):
        """AssignIP: the first enabled pool containing the address, in name order."""
        if node not in self._labels:
            self.add_node(node)
        ip = netaddr.IPAddress(address, version)
        pool = next((p for p in self._chooser.infos if p.enabled and p.version == version
                     and ip in netaddr.IPNetwork(p.cidr)), None)
        if pool is None:
            raise Refused(MSG_NOT_IN_POOL)
        cidr = str(netaddr.IPNetwork(f"{ip}/{pool.block_size}").cidr)
        block = self._blocks.get(cidr)
        if block is None:  # claimAffineBlock for this host, whatever the limit
            block = self._blocks[cidr] = self._new_block(pool, cidr, node)
        elif self.strict_affinity and block["affinity"] != node:
            raise Refused(msg_affinity_mismatch(cidr, block["affinity"]))
        ordinal = address - block["base"]
        if ordinal not in block["unallocated"]:
            raise Refused(msg_already_assigned(str(ip)))
        block["unallocated"].remove(ordinal)
        return self._keep(namespace, pod, node, cidr, str(ip), block["affinity"] != node)

    def release(self, namespace: str, pod: str) -> None:
        for cidr, ordinal in self._pods.pop((namespace, pod), []):
            self._give_back(cidr, str(netaddr.IPAddress(self._blocks[cidr]["base"] + ordinal,
                                                        self._blocks[cidr]["version"])))

    def _give_back(self, cidr: str, ip: str) -> None:
        block = self._blocks[cidr]
        block["unallocated"].append(int(netaddr.IPAddress(ip)) - block["base"])
        if len(block["unallocated"]) == block["size"] and block["affinity"] is None:
            del self._blocks[cidr]

    @staticmethod
    def _new_block(info: PoolInfo, cidr: str, node: str) -> dict:
        net = netaddr.IPNetwork(cidr)
        return {"pool": info.name, "affinity": node, "unallocated": list(range(net.size)),
                "size": net.size, "base": int(net.network), "version": net.version}

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
                    self._blocks[cidr] = self._new_block(info, cidr, node)
                    return self._take(cidr, False)
        if self.strict_affinity:
            raise Refused(msg_partial(version, MSG_STRICT), partial=True)
        for info in allowed:
            for cidr in gorand.block_walk(info.cidr, info.block_size, node):
                block = self._blocks.get(cidr)
                if (block is not None and not self._wholly_reserved(cidr)
                        and self._num_free(cidr)):
                    return self._take(cidr, True)
        raise Refused(msg_partial(version, msg_exhausted([p.cidr for p in allowed])),
                      partial=True)

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
            # a reserved address taken by ipAddrs counts as allocated, not twice
            reserved = sum(1 for o in b["unallocated"] if self._is_reserved(b, o))
            out.append(BlockUsage(cidr, b["pool"], f"host:{b['affinity']}" if b["affinity"]
                                  else None, b["size"] - len(b["unallocated"]), free,
                                  reserved))
        order = {info.name: info.order for info in self._chooser.infos}
        return sorted(out, key=lambda u: (order[u.pool], int(netaddr.IPNetwork(u.cidr).network)))
