"""Pool choice: which pools a request may use, in Calico's order.

``determinePools`` + ``filterPoolsByUse`` (libcalico-go ``ipam.go``) and the
CNI plugin's ``ResolvePools``: pod annotation over namespace annotation over
the CNI's default pools; requested pools in the order given with selectors
ignored; otherwise enabled ``Automatic`` pools whose nodeSelector and
namespaceSelector match, in pool-name order; ``allowedUses`` is honoured.
Both simulators share it: it is not where speed matters.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from ...core.cidr import Cidr, ip_text, parse_cidr
from ...core.ipam_config import DEFAULT_MAX_BLOCKS_PER_HOST
from ...core.ipreservation import ReservedRanges
from ...core.model import Pool, frozen_map
from .. import gorand
from ..selector import selects
from .messages import (
    MSG_NO_QUALIFIED_POOL,
    msg_bad_pool_entry,
    msg_no_pool_for_use,
    msg_no_pools_for_node,
    msg_pool_not_enabled,
    msg_wrong_family,
)

# allowedUses values
WORKLOAD = "Workload"
TUNNEL = "Tunnel"

# calico-node's tunnel address types, in the order it assigns them, with the
# pool field that turns them on and their family.
TUNNEL_TYPES = (("ipip", "ipip_mode", 4), ("vxlan", "vxlan_mode", 4),
                ("vxlan-v6", "vxlan_mode", 6))

# Labels Kubernetes puts on every Node / Namespace; selectors may use them.
NODE_NAME_LABEL = "kubernetes.io/hostname"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


class Refused(Exception):
    """Ends one request with Calico's message (the exception's text).

    ``partial``: AutoAssign came back with fewer addresses but no error
    (exhausted pools, strict affinity: libcalico-go lib/ipam/ipam.go
    autoAssign breaks out and returns the assignments). The CNI plugin then
    still asks for the other family, and releases it (cni-plugin
    pkg/ipamplugin/ipam_plugin.go:412-450). Any other refusal is an error:
    AutoAssign returns before the next family (ipam.go:111-152)."""

    def __init__(self, message: str, partial: bool = False):
        super().__init__(message)
        self.partial = partial


@dataclass(frozen=True)
class NamespaceInfo:
    """What the CNI plugin reads from a Namespace: labels and pool annotations."""

    name: str
    labels: Mapping[str, str] = field(default_factory=frozen_map)
    ipv4_pools: tuple[str, ...] = ()
    ipv6_pools: tuple[str, ...] = ()


def selector_matches(text: str, labels: Mapping[str, str]) -> bool:
    """Whether a pool's node- or namespaceSelector matches; empty selects everything."""
    if not text or not text.strip():
        return True
    return selects(text, labels)


_NODE = "\x00node\x00"  # stands for the node name in cached messages
_UNSEEN = object()


class PoolInfo:
    """A pool's geometry, precomputed once."""

    __slots__ = ("name", "pool", "order", "cidr", "version", "base", "block_size",
                 "num_blocks", "block_addresses", "enabled")

    def __init__(self, pool: Pool, order: int):
        network = parse_cidr(pool.spec.cidr)
        width = network.bits
        self.name = pool.name
        self.pool = pool
        self.order = order
        self.cidr = network.text
        self.version = network.version
        self.base = network.network
        self.block_size = pool.spec.block_size
        self.num_blocks = (1 << (self.block_size - network.prefixlen)
                           if network.prefixlen <= self.block_size <= width else 0)
        self.block_addresses = 1 << (width - self.block_size)
        # Calico's GetEnabledPools: not disabled (a pool smaller than a block is
        # refused by Calico, so it never serves addresses either).
        self.enabled = not pool.spec.disabled and self.num_blocks > 0

    def block_cidr(self, index: int) -> str:
        return f"{ip_text(self.base + index * self.block_addresses, self.version)}/{self.block_size}"

    def list_key(self, index: int) -> str:
        """The BlockAffinity name suffix Calico's list returns blocks in."""
        return self.block_cidr(index).replace(".", "-").replace(":", "-").replace("/", "-")

    def walk_start(self, node: str) -> int:
        return gorand.walk_start(node, self.num_blocks)


@functools.lru_cache(maxsize=65536)
def _network_facts(text: str) -> tuple[int, str, str] | None:
    """(version, network address, canonical CIDR) of a CIDR string, or None.
    Cached: every namespace annotation resolves the same few pool CIDRs."""
    net = parse_cidr(text)
    if net is None:
        return None
    return net.version, ip_text(net.network, net.version), net.text


class PoolChooser:
    """determinePools + filterPoolsByUse, with results cached per request shape."""

    def __init__(self, pools: Iterable[Pool], cni_ipv4_pools: Sequence[str] = (),
                 cni_ipv6_pools: Sequence[str] = ()):
        ordered = sorted(pools, key=lambda p: p.name)  # GetEnabledPools: pool-name order
        self.infos = [PoolInfo(p, i) for i, p in enumerate(ordered)]
        self.by_name = {info.name: info for info in self.infos}
        # Per family: the enabled pools in name order, and by CIDR (the pools never change).
        self._enabled = {v: [p for p in self.infos if p.enabled and p.version == v]
                         for v in (4, 6)}
        self._enabled_by_cidr = {v: {p.cidr: p for p in pools}
                                 for v, pools in self._enabled.items()}
        self.cni_pools = {4: tuple(cni_ipv4_pools), 6: tuple(cni_ipv6_pools)}
        # Choices depend on a node only through the pools selecting it, so they
        # are cached by that set; messages carry a placeholder for the name.
        self._cache: dict = {}
        self._node_match: dict[str, frozenset[str]] = {}
        self._resolved: dict[tuple, str | None] = {}  # requested(): entries -> refusal

    def fork(self) -> "PoolChooser":
        """A chooser over the same pools whose caches grow apart from this one's (a
        forked simulator may start a node of the same name with other labels)."""
        twin = object.__new__(PoolChooser)
        twin.infos, twin.by_name, twin.cni_pools = self.infos, self.by_name, self.cni_pools
        twin._enabled, twin._enabled_by_cidr = self._enabled, self._enabled_by_cidr
        twin._cache = dict(self._cache)
        twin._node_match = dict(self._node_match)
        twin._resolved = self._resolved  # answers about the same pools: shared
        return twin

    def forget(self, node: str) -> None:
        """Drop what is cached about a node (it was re-added, maybe with new labels)."""
        self._node_match.pop(node, None)

    def node_pools(self, node: str, node_labels: Mapping[str, str]) -> frozenset[str]:
        """Names of the enabled pools whose nodeSelector matches the node (cached)."""
        hit = self._node_match.get(node)
        if hit is None:
            hit = self._node_match[node] = frozenset(
                p.name for p in self.infos
                if p.enabled and selector_matches(p.pool.spec.node_selector, node_labels))
        return hit

    def _resolve(self, entries: Sequence[str], version: int) -> list[str]:
        """cni-plugin ResolvePools: CIDRs as given, names looked up among all pools."""
        out = []
        for entry in entries:
            facts = _network_facts(entry) if "/" in entry else None
            if facts is None:
                info = self.by_name.get(entry)
                if info is None:
                    raise Refused(msg_bad_pool_entry(entry))
                facts = _network_facts(info.cidr)
            net_version, network, cidr = facts
            if net_version != version:
                raise Refused(msg_wrong_family(network, version))
            out.append(cidr)
        return out

    def requested(self, version: int, namespace: NamespaceInfo | None,
                  pod_pools: Sequence[str] | None) -> None:
        """ResolvePools on what the request asks for (the pod's annotation, else
        the namespace's, else the CNI config's pools); Refused as the CNI plugin
        fails before any assignment (ipam_plugin.go:313-330, for both families)."""
        if pod_pools is None and namespace is not None:
            pod_pools = (namespace.ipv4_pools if version == 4 else namespace.ipv6_pools) or None
        entries = pod_pools if pod_pools is not None else self.cni_pools[version]
        if entries:
            # The answer depends on the entries only (the pools never change):
            # every pod of a namespace asks the same.
            key = (version, tuple(entries))
            problem = self._resolved.get(key, _UNSEEN)
            if problem is _UNSEEN:
                try:
                    self._resolve(entries, version)
                    problem = None
                except Refused as exc:
                    problem = str(exc)
                self._resolved[key] = problem
            if problem is not None:
                raise Refused(problem)

    def choose(self, version: int, node: str, node_labels: Mapping[str, str],
               namespace: NamespaceInfo | None, requested: Sequence[str] | None,
               use: str) -> tuple[list[PoolInfo], frozenset[str]]:
        """The pools a request may use, in order, and their names (cached).
        Raises ``Refused`` with Calico's message when there are none."""
        matches = self.node_pools(node, node_labels)
        key = (version, matches, namespace.name if namespace else None,
               tuple(requested) if requested is not None else None, use)
        hit = self._cache.get(key)
        if hit is None:
            try:
                pools = self._choose(version, matches, namespace, requested, use)
                hit = (pools, frozenset(p.name for p in pools))
            except Refused as exc:
                hit = str(exc)
            self._cache[key] = hit
        if isinstance(hit, str):
            raise Refused(hit.replace(_NODE, node))
        return hit

    def _choose(self, version, node_matches, namespace, requested, use):
        enabled = self._enabled[version]
        if requested is None:
            if namespace is not None:
                ns_pools = namespace.ipv4_pools if version == 4 else namespace.ipv6_pools
                requested = ns_pools or None
            if requested is None:
                requested = self.cni_pools[version] or None
        requested_cidrs = self._resolve(requested, version) if requested else []
        if not enabled:
            raise Refused(MSG_NO_QUALIFIED_POOL)
        by_cidr = self._enabled_by_cidr[version]
        chosen = []
        for cidr in requested_cidrs:
            if cidr not in by_cidr:
                raise Refused(msg_pool_not_enabled(cidr))
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
                if not selector_matches(spec.namespace_selector, ns_labels):
                    continue
                chosen.append(p)
        if not chosen:
            raise Refused(msg_no_pools_for_node(_NODE))
        allowed = [p for p in chosen if use in p.pool.spec.allowed_uses]
        if not allowed:
            raise Refused(msg_no_pool_for_use(use))
        return allowed

    def tunnel_pools(self, node: str, node_labels: Mapping[str, str]
                     ) -> dict[str, tuple[int, list[PoolInfo]]]:
        """calico-node allocateip (node/pkg/allocateip/allocateip.go:255,
        determineEnabledPoolCIDRs :669-760): per tunnel type in Calico's order,
        the address family and the enabled pools that select the node, allow
        Tunnel and have the encapsulation on. IPIP is IPv4 only; VXLAN has an
        IPv4 and an IPv6 type (handle ``vxlan-v6-tunnel-addr-<node>``).
        WireGuard needs a node's public key and is not modelled."""
        out: dict[str, tuple[int, list[PoolInfo]]] = {}
        matches = self.node_pools(node, node_labels)
        for kind, attr, version in TUNNEL_TYPES:
            pools = [p for p in self.infos
                     if p.enabled and p.version == version and getattr(p.pool.spec, attr) != "Never"
                     and TUNNEL in p.pool.spec.allowed_uses and p.name in matches]
            if pools:
                out[kind] = (version, pools)
        return out


class IpamSettings:
    """What both allocation models start from: Calico's IPAMConfig (strictAffinity,
    autoAllocateBlocks, maxBlocksPerHost; 0 means 20), the reserved CIDRs of the
    IPReservations (``reserved``: networks, ``core.cidr.Cidr``), the namespaces'
    labels and annotations, and the pool choice over *pools* with the CNI's
    default pools."""

    def __init__(self, pools: Iterable[Pool], *, strict_affinity: bool = False,
                 max_blocks_per_host: int = 0, auto_allocate_blocks: bool = True,
                 reserved: Iterable[Cidr] = (),
                 namespaces: Mapping[str, NamespaceInfo] | None = None,
                 cni_ipv4_pools: Sequence[str] = (), cni_ipv6_pools: Sequence[str] = ()):
        self.strict_affinity = bool(strict_affinity)
        self.auto_allocate_blocks = bool(auto_allocate_blocks)
        self.max_blocks_per_host = int(max_blocks_per_host) or DEFAULT_MAX_BLOCKS_PER_HOST
        self.reserved_cidrs: tuple[Cidr, ...] = tuple(reserved)
        self.reserved = ReservedRanges(self.reserved_cidrs)
        self.namespaces = dict(namespaces or {})
        self._chooser = PoolChooser(pools, cni_ipv4_pools, cni_ipv6_pools)
