"""A model of Calico's IPAM AutoAssign: which block, which address, when it fails.

It follows libcalico-go ``ipam.go`` ``autoAssign`` as released up to v3.31/v3.32
(reference calico-ipam-allocation.md §2, §3, §7):

* pool choice: pod annotation over namespace annotation over the CNI's
  default pools; requested pools in the order given with selectors ignored;
  otherwise enabled ``Automatic`` pools whose nodeSelector and
  namespaceSelector match, in pool-name order; ``allowedUses`` is honoured;
* a node uses its affine blocks first, in datastore list order (the
  BlockAffinity name ``<node>-<cidr with . : / as ->``, so ``.32/29`` lists
  before ``.8/29``), one block at a time;
* a new block is the first unclaimed one in the node's FNV-1/Go math/rand
  walk (``gorand``), pool by pool;
* inside a block the head of the ``unallocated`` queue is taken: lowest
  never-used ordinal first, released ordinals go to the back;
* no unclaimed block: borrow from the first existing block with a free
  address in walk order, unless strict affinity is on;
* ``maxBlocksPerHost`` (0 means 20) stops new claims and fails the request
  without borrowing;
* a node's tunnel addresses (IPIP, VXLAN) are assigned when it starts.

Not modelled: v3.32's reclaim of other nodes' empty blocks, IP cooldown
(unreleased HEAD), IPReservations, Windows' reserved ordinals, concurrent
CAS retries. /32 and /128 blocks are walked with the FNV seed although
Calico seeds them with the time (see ``gorand.walk_is_deterministic``).

``Simulator`` keeps per-node affine block lists, per-pool claimed blocks, a
skip table for the claim walk and a sorted index of blocks with free space,
so an allocation never scans every block. ``NaiveSimulator`` is the same
algorithm written as a direct scan of every block; tests and the benchmark
use it as the oracle.
"""
from __future__ import annotations

import bisect
import collections
import functools
import socket
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import netaddr

from ...calico import gorand
from ...core.model import DEFAULT_MAX_BLOCKS_PER_HOST, Pool, frozen_map

WORKLOAD = "Workload"
TUNNEL = "Tunnel"

# Labels Kubernetes puts on every Node / Namespace; selectors may use them.
NODE_NAME_LABEL = "kubernetes.io/hostname"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


# --------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class PodAllocation:
    """One address given to one pod (or one family of a dual-stack pod)."""

    namespace: str
    pod: str
    node: str
    ip: str
    pool: str
    block: str
    borrowed: bool = False

    def to_dict(self) -> dict:
        return {"namespace": self.namespace, "pod": self.pod, "node": self.node,
                "ip": self.ip, "pool": self.pool, "block": self.block,
                "borrowed": self.borrowed}


@dataclass(frozen=True)
class TunnelAllocation:
    """A node's IPIP or VXLAN tunnel address (handle ``<kind>-tunnel-addr-<node>``)."""

    node: str
    kind: str  # "ipip" or "vxlan"
    ip: str
    pool: str
    block: str
    borrowed: bool = False

    def to_dict(self) -> dict:
        return {"node": self.node, "type": self.kind, "ip": self.ip, "pool": self.pool,
                "block": self.block, "borrowed": self.borrowed}


@dataclass(frozen=True)
class BlockUsage:
    """One IPAM block as ``calicoctl ipam show --show-blocks`` would count it."""

    cidr: str
    pool: str
    affinity: str | None  # "host:<node>" or None for an unaffine block
    allocated: int
    free: int

    def to_dict(self) -> dict:
        return {"cidr": self.cidr, "pool": self.pool, "affinity": self.affinity,
                "allocated": self.allocated, "free": self.free}


@dataclass(frozen=True)
class AllocationFailure:
    """A request Calico would refuse, with Calico's own message."""

    namespace: str | None
    pod: str | None
    node: str
    message: str
    kind: str = "workload"  # "workload" or the tunnel kind

    def to_dict(self) -> dict:
        return {"namespace": self.namespace, "pod": self.pod, "node": self.node,
                "type": self.kind, "message": self.message}


class _Refused(Exception):
    """Internal: ends one request with Calico's message."""


# Calico's messages (libcalico-go ipam.go, cni-plugin utils.go ResolvePools).
def _msg_pool_not_enabled(cidr: str) -> str:
    return f"the given pool ({cidr}) does not exist, or is not enabled"


MSG_NO_QUALIFIED_POOL = "cannot find a qualified ippool"
MSG_BLOCK_LIMIT = "cannot allocate new block due to per host block limit"


def _msg_no_pools_for_node(node: str) -> str:
    return f"no configured Calico pools for node {node}"


def _msg_no_pool_for_use(use: str) -> str:
    return f"{MSG_NO_QUALIFIED_POOL}, no pools match the required use ({use})"


def _msg_partial(version: int, extra: str) -> str:
    return f"Assigned 0 out of 1 requested IPv{version} addresses; {extra}"


MSG_STRICT = "No more free affine blocks and strict affinity enabled"


def _msg_exhausted(cidrs: Sequence[str]) -> str:
    return "No IPs available in pools: [" + " ".join(cidrs) + "]"


# --------------------------------------------------------------------------
# Pool choice (shared by both simulators: it is not where speed matters)


@dataclass(frozen=True)
class NamespaceInfo:
    """What the CNI plugin reads from a Namespace: labels and pool annotations."""

    name: str
    labels: Mapping[str, str] = field(default_factory=frozen_map)
    ipv4_pools: tuple[str, ...] = ()
    ipv6_pools: tuple[str, ...] = ()


def _selector_matches(text: str, labels: Mapping[str, str]) -> bool:
    if not text or not text.strip():
        return True
    from ..selector import parse_selector
    return parse_selector(text).evaluate(labels)


_NODE = "\x00node\x00"  # stands for the node name in cached messages


def _ip_str(value: int, version: int) -> str:
    """Dotted quad / RFC 5952 text, as Go's net.IP.String() prints it."""
    if version == 4:
        return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"
    text = socket.inet_ntop(socket.AF_INET6, value.to_bytes(16, "big"))
    # inet_ntop prints IPv4-compatible/mapped forms with a dotted tail; Go and
    # netaddr differ there, so those rare addresses go through netaddr.
    return text if "." not in text else str(netaddr.IPAddress(value, 6))


class _PoolInfo:
    """A pool's geometry, precomputed once."""

    __slots__ = ("name", "pool", "order", "cidr", "version", "base", "block_size",
                 "num_blocks", "block_addresses", "enabled")

    def __init__(self, pool: Pool, order: int):
        network = netaddr.IPNetwork(pool.spec.cidr)
        width = 32 if network.version == 4 else 128
        self.name = pool.name
        self.pool = pool
        self.order = order
        self.cidr = str(network.cidr)
        self.version = network.version
        self.base = int(network.network)
        self.block_size = pool.spec.block_size
        self.num_blocks = (1 << (self.block_size - network.prefixlen)
                           if network.prefixlen <= self.block_size <= width else 0)
        self.block_addresses = 1 << (width - self.block_size)
        # Calico's GetEnabledPools: not disabled (a pool smaller than a block is
        # refused by Calico, so it never serves addresses either).
        self.enabled = not pool.spec.disabled and self.num_blocks > 0

    def block_cidr(self, index: int) -> str:
        return f"{_ip_str(self.base + index * self.block_addresses, self.version)}/{self.block_size}"

    def list_key(self, index: int) -> str:
        """The BlockAffinity name suffix Calico's list returns blocks in."""
        return self.block_cidr(index).replace(".", "-").replace(":", "-").replace("/", "-")

    def walk_start(self, node: str) -> int:
        return gorand.walk_start(node, self.num_blocks)


@functools.lru_cache(maxsize=65536)
def _network_facts(text: str) -> tuple[int, str, str] | None:
    """(version, network address, canonical CIDR) of a CIDR string, or None.
    Cached: every namespace annotation resolves the same few pool CIDRs."""
    try:
        net = netaddr.IPNetwork(text)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None
    return net.version, str(net.network), str(net.cidr)


class _PoolChooser:
    """determinePools + filterPoolsByUse, with results cached per request shape."""

    def __init__(self, pools: Iterable[Pool], cni_ipv4_pools: Sequence[str] = (),
                 cni_ipv6_pools: Sequence[str] = ()):
        ordered = sorted(pools, key=lambda p: p.name)  # GetEnabledPools: pool-name order
        self.infos = [_PoolInfo(p, i) for i, p in enumerate(ordered)]
        self.by_name = {info.name: info for info in self.infos}
        self.cni_pools = {4: tuple(cni_ipv4_pools), 6: tuple(cni_ipv6_pools)}
        # Choices depend on a node only through the pools selecting it, so they
        # are cached by that set; messages carry a placeholder for the name.
        self._cache: dict = {}
        self._node_match: dict[str, frozenset[str]] = {}

    def forget(self, node: str) -> None:
        """Drop what is cached about a node (it was re-added, maybe with new labels)."""
        self._node_match.pop(node, None)

    def node_pools(self, node: str, node_labels: Mapping[str, str]) -> frozenset[str]:
        """Names of the enabled pools whose nodeSelector matches the node (cached)."""
        hit = self._node_match.get(node)
        if hit is None:
            hit = self._node_match[node] = frozenset(
                p.name for p in self.infos
                if p.enabled and _selector_matches(p.pool.spec.node_selector, node_labels))
        return hit

    def _resolve(self, entries: Sequence[str], version: int) -> list[str]:
        """cni-plugin ResolvePools: CIDRs as given, names looked up among all pools."""
        out = []
        for entry in entries:
            facts = _network_facts(entry) if "/" in entry else None
            if facts is None:
                info = self.by_name.get(entry)
                if info is None:
                    raise _Refused(f'error parsing pool "{entry}": invalid CIDR address: {entry}')
                facts = _network_facts(info.cidr)
            net_version, network, cidr = facts
            if net_version != version:
                raise _Refused(f'"{network}" isn\'t a IPv{version} address')
            out.append(cidr)
        return out

    def choose(self, version: int, node: str, node_labels: Mapping[str, str],
               namespace: NamespaceInfo | None, requested: Sequence[str] | None,
               use: str) -> tuple[list[_PoolInfo], frozenset[str]]:
        """The pools a request may use, in order, and their names (cached)."""
        matches = self.node_pools(node, node_labels)
        key = (version, matches, namespace.name if namespace else None,
               tuple(requested) if requested is not None else None, use)
        hit = self._cache.get(key)
        if hit is None:
            try:
                pools = self._choose(version, matches, namespace, requested, use)
                hit = (pools, frozenset(p.name for p in pools))
            except _Refused as exc:
                hit = str(exc)
            self._cache[key] = hit
        if isinstance(hit, str):
            raise _Refused(hit.replace(_NODE, node))
        return hit

    def _choose(self, version, node_matches, namespace, requested, use):
        enabled = [p for p in self.infos if p.enabled and p.version == version]
        if requested is None:
            if namespace is not None:
                ns_pools = namespace.ipv4_pools if version == 4 else namespace.ipv6_pools
                requested = ns_pools or None
            if requested is None:
                requested = self.cni_pools[version] or None
        requested_cidrs = self._resolve(requested, version) if requested else []
        if not enabled:
            raise _Refused(MSG_NO_QUALIFIED_POOL)
        by_cidr = {p.cidr: p for p in enabled}
        chosen = []
        for cidr in requested_cidrs:
            if cidr not in by_cidr:
                raise _Refused(_msg_pool_not_enabled(cidr))
            chosen.append(by_cidr[cidr])
        if not chosen:
            ns_labels = {}
            if namespace is not None:
                ns_labels = {NAMESPACE_NAME_LABEL: namespace.name, **namespace.labels}
            for p in enabled:
                spec = p.pool.spec
                if spec.assignment_mode != "Automatic":
                    continue
                if p.name not in node_matches:
                    continue
                if not _selector_matches(spec.namespace_selector, ns_labels):
                    continue
                chosen.append(p)
        if not chosen:
            raise _Refused(_msg_no_pools_for_node(_NODE))
        allowed = [p for p in chosen if use in p.pool.spec.allowed_uses]
        if not allowed:
            raise _Refused(_msg_no_pool_for_use(use))
        return allowed

    def tunnel_pools(self, node: str, node_labels: Mapping[str, str]) -> dict[str, list[_PoolInfo]]:
        """calico-node allocateip: per encapsulation, enabled pools that select the node."""
        out: dict[str, list[_PoolInfo]] = {}
        matches = self.node_pools(node, node_labels)
        for kind, attr in (("ipip", "ipip_mode"), ("vxlan", "vxlan_mode")):
            pools = [p for p in self.infos
                     if p.enabled and p.version == 4 and getattr(p.pool.spec, attr) != "Never"
                     and TUNNEL in p.pool.spec.allowed_uses and p.name in matches]
            if pools:
                out[kind] = pools
        return out


# --------------------------------------------------------------------------
# The fast simulator


class _Block:
    __slots__ = ("info", "index", "base", "size", "affinity", "fresh", "released",
                 "allocated", "list_key", "cidr")

    def __init__(self, info: _PoolInfo, index: int, affinity: str | None):
        self.info = info
        self.index = index
        self.size = info.block_addresses
        self.base = info.base + index * self.size
        self.affinity = affinity  # node name, or None
        # Calico's ``unallocated`` queue is [fresh, fresh+1, ..., size-1] + released.
        self.fresh = 0
        self.released: collections.deque[int] = collections.deque()
        self.allocated = 0
        self.list_key = info.list_key(index)
        self.cidr = info.block_cidr(index)

    @property
    def free(self) -> int:
        return self.size - self.allocated

    def take(self) -> int:
        if self.fresh < self.size:
            ordinal = self.fresh
            self.fresh += 1
        else:
            ordinal = self.released.popleft()
        self.allocated += 1
        return ordinal

    def give_back(self, ordinal: int) -> None:
        self.released.append(ordinal)
        self.allocated -= 1


class _PoolState:
    __slots__ = ("info", "blocks", "skip", "with_space", "starts")

    def __init__(self, info: _PoolInfo):
        self.info = info
        self.blocks: dict[int, _Block] = {}
        # skip[i] = j: every index from i (walk order) up to j was claimed when
        # recorded; cleared whenever a block is deleted.
        self.skip: dict[int, int] = {}
        self.with_space: list[int] = []  # sorted indices of existing blocks with a free address
        self.starts: dict[str, int] = {}

    def start(self, node: str) -> int:
        s = self.starts.get(node)
        if s is None:
            s = self.starts[node] = self.info.walk_start(node)
        return s

    def first_unclaimed(self, start: int) -> int | None:
        n = self.info.num_blocks
        blocks = self.blocks
        if len(blocks) >= n:
            return None
        skip = self.skip
        i = start
        path = []
        while i in blocks:
            path.append(i)
            i = skip.get(i, i + 1)
            if i >= n:
                i = 0
        for p in path:
            skip[p] = i
        return i

    def first_with_space(self, start: int) -> _Block | None:
        ws = self.with_space
        if not ws:
            return None
        pos = bisect.bisect_left(ws, start)
        return self.blocks[ws[pos] if pos < len(ws) else ws[0]]

    def mark_full(self, index: int) -> None:
        ws = self.with_space
        pos = bisect.bisect_left(ws, index)
        if pos < len(ws) and ws[pos] == index:
            del ws[pos]

    def mark_space(self, index: int) -> None:
        ws = self.with_space
        pos = bisect.bisect_left(ws, index)
        if pos == len(ws) or ws[pos] != index:
            ws.insert(pos, index)


class _Node:
    __slots__ = ("name", "labels", "affine", "removed")

    def __init__(self, name: str, labels: Mapping[str, str]):
        self.name = name
        self.labels = {NODE_NAME_LABEL: name, **labels}
        self.affine: list[_Block] = []  # in datastore list order
        self.removed = False

    def add_affine(self, block: _Block) -> None:
        keys = [b.list_key for b in self.affine]
        self.affine.insert(bisect.bisect_left(keys, block.list_key), block)


class Simulator:
    """Calico IPAM for one cluster: nodes start, pods get addresses, pods go away.

    ``pools`` are ``model.Pool`` objects (disabled ones included, as Calico
    lists them); ``namespaces`` maps a namespace name to its labels and pool
    annotations; ``cni_ipv4_pools``/``cni_ipv6_pools`` are the CNI network
    config's ``ipam.ipv4_pools``.
    """

    def __init__(self, pools: Iterable[Pool], *, strict_affinity: bool = False,
                 max_blocks_per_host: int = 0,
                 namespaces: Mapping[str, NamespaceInfo] | None = None,
                 cni_ipv4_pools: Sequence[str] = (), cni_ipv6_pools: Sequence[str] = ()):
        self.strict_affinity = bool(strict_affinity)
        self.max_blocks_per_host = int(max_blocks_per_host) or DEFAULT_MAX_BLOCKS_PER_HOST
        self.namespaces = dict(namespaces or {})
        self._chooser = _PoolChooser(pools, cni_ipv4_pools, cni_ipv6_pools)
        self._pools = {info.name: _PoolState(info) for info in self._chooser.infos}
        self._nodes: dict[str, _Node] = {}
        # (node, namespace, family) -> allowed pools; pools and labels never change
        self._routes: dict[tuple[str, str, int], tuple] = {}
        self._pods: dict[tuple[str, str], list[tuple[_Block, int, PodAllocation]]] = {}
        self._tunnels: dict[tuple[str, str], tuple[_Block, int, TunnelAllocation]] = {}
        self.failures: list[AllocationFailure] = []

    # -- nodes ---------------------------------------------------------------

    def add_node(self, name: str, labels: Mapping[str, str] | None = None
                 ) -> list[TunnelAllocation | AllocationFailure]:
        """Start a node: register its labels and assign its tunnel addresses."""
        node = self._nodes.get(name)
        if node is None or node.removed:
            fresh = _Node(name, labels or {})
            if node is not None:  # a re-added node finds its leftover affinities
                fresh.affine = node.affine
                self._chooser.forget(name)  # its labels may have changed
                self._routes = {k: v for k, v in self._routes.items() if k[0] != name}
            node = self._nodes[name] = fresh
        results: list[TunnelAllocation | AllocationFailure] = []
        for kind, pools in self._chooser.tunnel_pools(name, node.labels).items():
            if (name, kind) in self._tunnels:
                continue
            try:
                allowed = self._chooser.choose(4, name, node.labels, None,
                                               [p.cidr for p in pools], TUNNEL)
                block, ordinal, borrowed = self._assign(node, allowed, 4)
            except _Refused as exc:
                failure = AllocationFailure(None, None, name, str(exc), kind)
                self.failures.append(failure)
                results.append(failure)
                continue
            tunnel = TunnelAllocation(name, kind, _ip_str(block.base + ordinal, 4),
                                      block.info.name, block.cidr, borrowed)
            self._tunnels[(name, kind)] = (block, ordinal, tunnel)
            results.append(tunnel)
        return results

    def remove_node(self, name: str) -> None:
        """Delete a node: its addresses are leaks, its empty blocks go (kube-controllers)."""
        node = self._nodes.get(name)
        if node is None or node.removed:
            return
        node.removed = True
        for key in [k for k, v in self._pods.items() if v and v[0][2].node == name]:
            self.release(*key)
        for kind in [k for (n, k) in self._tunnels if n == name]:
            block, ordinal, _ = self._tunnels.pop((name, kind))
            self._free(block, ordinal)
        for block in list(node.affine):
            if block.allocated == 0:
                self._delete_block(block)
        # Non-empty blocks (others borrowed from them) keep the affinity until
        # they empty; ``_free`` deletes them then.

    # -- pods ----------------------------------------------------------------

    def allocate(self, namespace: str, pod: str, node: str, *,
                 pools: Sequence[str] | None = None, version: int = 4
                 ) -> PodAllocation | AllocationFailure:
        """CNI ADD for one pod: one address of ``version``.

        ``pools`` is the pod's ``cni.projectcalico.org/ipv4pools`` annotation
        (names or CIDRs); it overrides the namespace's annotation.
        """
        n = self._nodes.get(node)
        if n is None or n.removed:
            self.add_node(node)
            n = self._nodes[node]
        try:
            route = self._routes.get((node, namespace, version)) if pools is None else None
            if route is None:
                ns = self.namespaces.get(namespace)
                if ns is None:
                    ns = self.namespaces[namespace] = NamespaceInfo(namespace)
                route = self._chooser.choose(version, node, n.labels, ns, pools, WORKLOAD)
                if pools is None:
                    self._routes[(node, namespace, version)] = route
            block, ordinal, borrowed = self._assign(n, route, version)
        except _Refused as exc:
            failure = AllocationFailure(namespace, pod, node, str(exc))
            self.failures.append(failure)
            return failure
        result = PodAllocation(namespace, pod, node, _ip_str(block.base + ordinal, version),
                               block.info.name, block.cidr, borrowed)
        key = (namespace, pod)
        entry = self._pods.get(key)
        if entry is None:
            self._pods[key] = [(block, ordinal, result)]
        else:
            entry.append((block, ordinal, result))
        return result

    def release(self, namespace: str, pod: str) -> list[PodAllocation]:
        """CNI DEL: free the pod's addresses at once (Calico up to v3.32)."""
        entries = self._pods.pop((namespace, pod), [])
        for block, ordinal, _ in entries:
            self._free(block, ordinal)
        return [e[2] for e in entries]

    def release_empty_blocks(self) -> list[str]:
        """kube-controllers' GC after the grace period: a node's empty blocks are
        released while it owns more than one (its first block in list order stays)."""
        released = []
        for node in self._nodes.values():
            if node.removed:
                continue
            for block in list(node.affine):
                if len(node.affine) <= 1:
                    break
                if block.allocated == 0:
                    released.append(block.cidr)
                    self._delete_block(block)
        return released

    # -- the algorithm ---------------------------------------------------------

    def _assign(self, node: _Node, allowed: tuple[list[_PoolInfo], frozenset[str]],
                version: int) -> tuple[_Block, int, bool]:
        allowed, allowed_names = allowed
        owned = 0
        for block in node.affine:  # (a) affine blocks in list order
            if block.info.name in allowed_names:
                owned += 1
                if block.allocated < block.size:
                    return block, self._take(block), False
        if owned >= self.max_blocks_per_host:  # (b) per-host limit: no borrowing
            raise _Refused(MSG_BLOCK_LIMIT)
        for info in allowed:  # (c) first unclaimed block in the walk, pool by pool
            state = self._pools[info.name]
            index = state.first_unclaimed(state.start(node.name))
            if index is not None:
                block = self._claim(state, index, node)
                return block, self._take(block), False
        if self.strict_affinity:
            raise _Refused(_msg_partial(version, MSG_STRICT))
        for info in allowed:  # borrowing: first existing block with space in the walk
            state = self._pools[info.name]
            block = state.first_with_space(state.start(node.name))
            if block is not None:
                return block, self._take(block), True
        raise _Refused(_msg_partial(version, _msg_exhausted([p.cidr for p in allowed])))

    def _claim(self, state: _PoolState, index: int, node: _Node) -> _Block:
        block = _Block(state.info, index, node.name)
        state.blocks[index] = block
        state.mark_space(index)
        node.add_affine(block)
        return block

    def _take(self, block: _Block) -> int:
        ordinal = block.take()
        if block.allocated == block.size:
            self._pools[block.info.name].mark_full(block.index)
        return ordinal

    def _free(self, block: _Block, ordinal: int) -> None:
        was_full = block.allocated == block.size
        block.give_back(ordinal)
        if was_full:
            self._pools[block.info.name].mark_space(block.index)
        if block.allocated == 0:
            owner = self._nodes.get(block.affinity) if block.affinity else None
            if block.affinity is None or owner is None or owner.removed:
                self._delete_block(block)

    def _delete_block(self, block: _Block) -> None:
        state = self._pools[block.info.name]
        if state.blocks.get(block.index) is not block:
            return
        del state.blocks[block.index]
        state.mark_full(block.index)
        state.skip.clear()
        if block.affinity is not None:
            owner = self._nodes.get(block.affinity)
            if owner is not None and block in owner.affine:
                owner.affine.remove(block)

    # -- reading the state -----------------------------------------------------

    def pods(self) -> list[PodAllocation]:
        return [e[2] for entries in self._pods.values() for e in entries]

    def tunnels(self) -> list[TunnelAllocation]:
        return [t[2] for t in self._tunnels.values()]

    def node_blocks(self, node: str) -> list[str]:
        """The node's affine blocks, in the order Calico tries them."""
        n = self._nodes.get(node)
        return [b.cidr for b in n.affine] if n else []

    def blocks(self) -> list[BlockUsage]:
        """Every existing block, by pool (name order) then address."""
        out = []
        for state in self._pools.values():
            for index in sorted(state.blocks):
                b = state.blocks[index]
                out.append(BlockUsage(b.cidr, b.info.name,
                                      f"host:{b.affinity}" if b.affinity else None,
                                      b.allocated, b.size - b.allocated))
        return out

    def pool_usage(self) -> dict[str, tuple[int, int]]:
        """Per pool: (addresses in use, ``ipam show`` FREE = pool size - in use)."""
        out = {}
        for name, state in self._pools.items():
            total = state.info.num_blocks * state.info.block_addresses
            used = sum(b.allocated for b in state.blocks.values())
            out[name] = (used, total - used)
        return out


# --------------------------------------------------------------------------
# The oracle: the same rules, scanning everything, no indexes


class NaiveSimulator:
    """Calico's loops transcribed literally: list every block for every request.

    Used by the tests (hypothesis compares it with ``Simulator``) and by
    ``bench/simulate_large.py`` as the baseline. Supports add_node,
    allocate, release and blocks; pool choice is shared with ``Simulator``.
    """

    def __init__(self, pools: Iterable[Pool], *, strict_affinity: bool = False,
                 max_blocks_per_host: int = 0,
                 namespaces: Mapping[str, NamespaceInfo] | None = None,
                 cni_ipv4_pools: Sequence[str] = (), cni_ipv6_pools: Sequence[str] = ()):
        self.strict_affinity = bool(strict_affinity)
        self.max_blocks_per_host = int(max_blocks_per_host) or DEFAULT_MAX_BLOCKS_PER_HOST
        self.namespaces = dict(namespaces or {})
        self._chooser = _PoolChooser(pools, cni_ipv4_pools, cni_ipv6_pools)
        # cidr -> {"pool", "affinity", "unallocated": list, "size", "base", "version"}
        self._blocks: dict[str, dict] = {}
        self._labels: dict[str, dict] = {}
        self._pods: dict[tuple[str, str], list[tuple[str, int]]] = {}

    def add_node(self, name: str, labels: Mapping[str, str] | None = None) -> list:
        self._labels[name] = {NODE_NAME_LABEL: name, **(labels or {})}
        out = []
        for kind, pools in self._chooser.tunnel_pools(name, self._labels[name]).items():
            try:
                allowed, _ = self._chooser.choose(4, name, self._labels[name], None,
                                                  [p.cidr for p in pools], TUNNEL)
                cidr, ip, borrowed = self._assign(name, allowed, 4)
            except _Refused as exc:
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
        except _Refused as exc:
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

    def _assign(self, node: str, allowed: list[_PoolInfo], version: int):
        allowed_cidrs = [netaddr.IPNetwork(p.cidr) for p in allowed]

        def in_allowed(cidr: str) -> bool:
            return any(netaddr.IPNetwork(cidr) in net for net in allowed_cidrs)

        affine = sorted((c for c, b in self._blocks.items()
                         if b["affinity"] == node and in_allowed(c)), key=self._list_key)
        for cidr in affine:
            if self._blocks[cidr]["unallocated"]:
                return self._take(cidr, False)
        if len(affine) >= self.max_blocks_per_host:
            raise _Refused(MSG_BLOCK_LIMIT)
        for info in allowed:
            for cidr in gorand.block_walk(info.cidr, info.block_size, node):
                if cidr not in self._blocks:
                    net = netaddr.IPNetwork(cidr)
                    self._blocks[cidr] = {"pool": info.name, "affinity": node,
                                          "unallocated": list(range(net.size)),
                                          "size": net.size, "base": int(net.network),
                                          "version": net.version}
                    return self._take(cidr, False)
        if self.strict_affinity:
            raise _Refused(_msg_partial(version, MSG_STRICT))
        for info in allowed:
            for cidr in gorand.block_walk(info.cidr, info.block_size, node):
                block = self._blocks.get(cidr)
                if block is not None and block["unallocated"]:
                    return self._take(cidr, True)
        raise _Refused(_msg_partial(version, _msg_exhausted([p.cidr for p in allowed])))

    def _take(self, cidr: str, borrowed: bool):
        block = self._blocks[cidr]
        ordinal = block["unallocated"].pop(0)
        return cidr, str(netaddr.IPAddress(block["base"] + ordinal, block["version"])), borrowed

    def blocks(self) -> list[BlockUsage]:
        out = []
        for cidr, b in self._blocks.items():
            free = len(b["unallocated"])
            out.append(BlockUsage(cidr, b["pool"], f"host:{b['affinity']}" if b["affinity"]
                                  else None, b["size"] - free, free))
        order = {info.name: info.order for info in self._chooser.infos}
        return sorted(out, key=lambda u: (order[u.pool], int(netaddr.IPNetwork(u.cidr).network)))


# --------------------------------------------------------------------------
# Building a simulator from a stack


def namespaces_from_bindings(bindings: Mapping) -> dict[str, NamespaceInfo]:
    """Namespace labels and pool annotations as the stack declares them."""
    return {name: NamespaceInfo(name, frozen_map(b.labels), tuple(b.ipv4_pools),
                                tuple(b.ipv6_pools))
            for name, b in bindings.items()}


def families_in_use(pools: Iterable[Pool]) -> list[int]:
    """Address families a pod gets: those with an enabled Workload pool (dual stack)."""
    return sorted({p.version for p in pools
                   if not p.spec.disabled and WORKLOAD in p.spec.allowed_uses}) or [4]


def node_names(group_name: str, count: int) -> list[str]:
    """Node names of a node group: ``<group>-0`` ... ``<group>-<count-1>``."""
    return [f"{group_name}-{i}" for i in range(count)]


def simulator_for_stack(stack, *, strict_affinity: bool | None = None) -> Simulator:
    """A Simulator with the stack's pools, namespaces and IPAM settings."""
    cluster = stack.cluster
    return Simulator(stack.pools.values(),
                     strict_affinity=cluster.strict_affinity if strict_affinity is None
                     else strict_affinity,
                     max_blocks_per_host=cluster.max_blocks_per_host,
                     namespaces=namespaces_from_bindings(stack.bindings))
