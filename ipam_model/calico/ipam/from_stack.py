"""A simulator set up as a stack declares it: pools, namespaces, IPAM settings,
and the node names and address families the CLI and the forecast use."""
from __future__ import annotations

from typing import Iterable, Mapping

from ...core.model import Pool, Stack, frozen_map
from .chooser import WORKLOAD, NamespaceInfo
from .cni import CniConfig
from .simulator import Simulator


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


def default_cni(pools: Iterable[Pool]) -> CniConfig:
    """The CNI config a stack implies: one address per family that has an
    enabled Workload pool (as the Tigera operator renders assign_ipv4/6 from
    its pools; Calico's plugin alone assigns IPv4 only)."""
    return CniConfig.for_families(families_in_use(pools))


def simulator_for_stack(stack: Stack, *, strict_affinity: bool | None = None,
                        cni: CniConfig | None = None) -> Simulator:
    """A Simulator with the stack's pools and namespaces, the IPAMConfig and
    reservations its allocator reads (``stack.allocator``), and the default
    pools of the CNI config *cni* (if any)."""
    allocator = stack.allocator
    return Simulator(stack.pools.values(),
                     strict_affinity=allocator.strict_affinity if strict_affinity is None
                     else strict_affinity,
                     max_blocks_per_host=allocator.max_blocks_per_host,
                     auto_allocate_blocks=allocator.auto_allocate_blocks,
                     reserved=[r.cidr for r in allocator.reserved],
                     namespaces=namespaces_from_bindings(stack.bindings),
                     cni_ipv4_pools=cni.ipv4_pools if cni else (),
                     cni_ipv6_pools=cni.ipv6_pools if cni else ())
