"""Capacity planning by running the Calico IPAM model on the declared load.

The static capacity rules (``capacity.py``, CIP502-CIP506) count blocks and
addresses. This module answers what they cannot: what Calico would actually
do with the stack's node groups and expected pods (``simulate.Simulator``).

How the load is built (documented for users in the report text):

* nodes: every node group, named ``<group>-<i>`` (i from 0) with the group's
  labels; each node starts first (tunnel addresses), in group order;
* pods: each namespace's ``expectedPods``, namespaces in name order, placed
  round-robin over the nodes, never more than a group's ``maxPods`` per node;
* exhaustion point, pods: more pods of one namespace, round-robin, until an
  allocation fails or every node is at ``maxPods``;
* exhaustion point, nodes: more nodes of one group, each starting and running
  one pod of every namespace with expected pods, until an allocation fails.

Findings: CIP508 pool-exhaustion (declared load fails, or the failure comes
before the configured headroom), CIP509 predicted-borrowing, CIP507
block-size-recommendation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .model import BLOCK_SIZE_RANGE, Finding, Stack
from .rules import rule
from .simulate import (AllocationFailure, PodAllocation, Simulator, node_names,
                       simulator_for_stack)

# Bounds on the "how many more" searches so `check` stays quick on huge pools.
MAX_EXTRA_PODS = 200_000
MAX_EXTRA_NODES = 5_000


@dataclass(frozen=True)
class PoolForecast:
    pool: str
    cidr: str
    block_size: int
    block_addresses: int
    blocks_total: int
    blocks_claimed: int
    nodes_using: int
    blocks_needed_at_max_pods: int
    addresses_in_use: int
    stranded_addresses: int  # free addresses inside claimed blocks
    borrowed_pods: int
    failed_pods: int
    recommended_block_size: int | None
    stranded_per_node_now: int | None
    stranded_per_node_recommended: int | None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class GroupForecast:
    group: str
    nodes: int
    max_pods: int
    pods_placed: int
    borrowing_nodes: int
    max_blocks_on_a_node: int
    more_nodes_until_failure: int | None  # None: no failure within MAX_EXTRA_NODES
    first_failure: str | None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class NamespaceForecast:
    namespace: str
    expected_pods: int
    allocated: int
    borrowed: int
    failed: int
    unschedulable: int  # beyond every node's maxPods
    first_failure: str | None
    more_pods_until_failure: int | None  # None: nodes reach maxPods first
    pods_until_nodes_full: int

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Forecast:
    stack: str
    nodes: int
    strict_affinity: bool
    max_blocks_per_host: int
    pools: tuple[PoolForecast, ...]
    groups: tuple[GroupForecast, ...]
    namespaces: tuple[NamespaceForecast, ...]
    tunnel_failures: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"stack": self.stack, "nodes": self.nodes,
                "strictAffinity": self.strict_affinity,
                "maxBlocksPerHost": self.max_blocks_per_host,
                "pools": [p.to_dict() for p in self.pools],
                "groups": [g.to_dict() for g in self.groups],
                "namespaces": [n.to_dict() for n in self.namespaces],
                "tunnelFailures": list(self.tunnel_failures)}


class _Load:
    """The declared load on a fresh simulator, with round-robin placement state."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.sim: Simulator = simulator_for_stack(stack)
        self.nodes: list[tuple[str, str, int]] = []  # (node, group, max_pods)
        self.pods_on: dict[str, int] = {}
        self.cursor = 0
        self.tunnel_failures: list[AllocationFailure] = []
        for group in stack.cluster.node_groups:
            for name in node_names(group.name, group.count):
                self.start_node(name, group)
        self.results: dict[str, list] = {}
        self.unschedulable: dict[str, int] = {}
        for ns, binding in sorted(stack.bindings.items()):
            out = self.results.setdefault(ns, [])
            for _ in range(binding.expected_pods or 0):
                result = self.place(ns)
                if result is None:
                    self.unschedulable[ns] = self.unschedulable.get(ns, 0) + 1
                else:
                    out.append(result)

    def start_node(self, name: str, group) -> None:
        self.nodes.append((name, group.name, group.max_pods))
        self.pods_on[name] = 0
        for r in self.sim.add_node(name, group.labels):
            if isinstance(r, AllocationFailure):
                self.tunnel_failures.append(r)

    def place(self, namespace: str):
        """One more pod on the next node with room; None when every node is full."""
        for _ in range(len(self.nodes)):
            node, _, max_pods = self.nodes[self.cursor % len(self.nodes)]
            self.cursor += 1
            if self.pods_on[node] < max_pods:
                self.pods_on[node] += 1
                pod = f"{namespace}-{self.pods_on[node]}-{node}"
                return self.sim.allocate(namespace, pod, node)
        return None

    def room(self) -> int:
        return sum(max(0, m - self.pods_on[n]) for n, _, m in self.nodes)


def _more_pods(stack: Stack, namespace: str) -> tuple[int | None, int]:
    """(pods of ``namespace`` until the first failure or None, room left on nodes)."""
    load = _Load(stack)
    room = load.room()
    for added in range(min(room, MAX_EXTRA_PODS)):
        result = load.place(namespace)
        if isinstance(result, AllocationFailure):
            return added, room
    return None, room


def _more_nodes(stack: Stack, group, namespaces: list[str]) -> tuple[int | None, str | None]:
    if not namespaces and not _has_tunnel_pool(stack):
        return None, None
    load = _Load(stack)
    for added in range(MAX_EXTRA_NODES):
        name = f"{group.name}-{group.count + added}"
        before = len(load.tunnel_failures)
        load.start_node(name, group)
        if len(load.tunnel_failures) > before:
            return added, load.tunnel_failures[-1].message
        for ns in namespaces:
            result = load.sim.allocate(ns, f"{ns}-probe-{name}", name)
            if isinstance(result, AllocationFailure):
                return added, result.message
    return None, None


def _has_tunnel_pool(stack: Stack) -> bool:
    return any(p.spec.ipip_mode != "Never" or p.spec.vxlan_mode != "Never"
               for p in stack.pools.values())


def _pools_for_group(stack: Stack, group) -> set[str]:
    """Pools a group's nodes may draw from: bound pools, and Automatic pools selecting it."""
    from .simulate import _selector_matches  # one selector evaluator for the whole model
    names = set()
    for binding in stack.bindings.values():
        for entry in binding.ipv4_pools + binding.ipv6_pools:
            for pool in stack.pools.values():
                if entry in (pool.name, pool.spec.cidr):
                    names.add(pool.name)
    for pool in stack.pools.values():
        if (pool.spec.assignment_mode == "Automatic" and not pool.spec.disabled
                and "Workload" in pool.spec.allowed_uses
                and _selector_matches(pool.spec.node_selector,
                                      {"kubernetes.io/hostname": group.name, **group.labels})):
            names.add(pool.name)
    return names


def _tunnel_pool_for_group(stack: Stack, group) -> str | None:
    from .simulate import _selector_matches
    for name in sorted(stack.pools):
        pool = stack.pools[name]
        spec = pool.spec
        if (not spec.disabled and pool.version == 4 and "Tunnel" in spec.allowed_uses
                and (spec.ipip_mode != "Never" or spec.vxlan_mode != "Never")
                and _selector_matches(spec.node_selector, dict(group.labels))):
            return name
    return None


def _stranded(demand: int, size: int) -> tuple[int, int]:
    """(blocks a node needs for ``demand`` addresses, addresses they strand)."""
    blocks = max(1, math.ceil(demand / size))
    return blocks, blocks * size - demand


def recommend_block_size(pool, groups: list[tuple[int, int]], *, max_blocks_per_host: int,
                         strict_affinity: bool) -> tuple[int | None, int | None, int | None]:
    """(best block size, stranded per node now, stranded per node at best).

    ``groups`` is (node count, addresses a node needs from this pool at
    maxPods). A size qualifies when the pool has at least one block per node,
    a node's demand fits in ``max_blocks_per_host`` blocks and, under strict
    affinity (no borrowing), every node's blocks fit in the pool. Among those
    the least stranded space wins; ties go to larger blocks (fewer routes).
    """
    width = 32 if pool.version == 4 else 128
    low, high = BLOCK_SIZE_RANGE[pool.version]
    nodes = sum(c for c, _ in groups)
    if nodes == 0:
        return None, None, None

    def evaluate(bs: int):
        if bs < pool.prefixlen:
            return None
        size = 1 << (width - bs)
        blocks = 1 << (bs - pool.prefixlen)
        if blocks < nodes:
            return None
        needed = stranded = 0
        for count, demand in groups:
            per_node, waste = _stranded(demand, size)
            # Half the per-host limit: empty blocks return only after 15 minutes,
            # so churn needs spare block slots (calico#4861).
            if per_node > max(1, max_blocks_per_host // 2):
                return None
            needed += count * per_node
            stranded += count * waste
        if strict_affinity and needed > blocks:
            return None
        return stranded

    scored = [(s, bs) for bs in range(low, high + 1) if (s := evaluate(bs)) is not None]
    now = evaluate(pool.spec.block_size)
    if not scored:
        return None, None if now is None else now // nodes, None
    best_stranded = min(s for s, _ in scored)
    best = min(bs for s, bs in scored if s == best_stranded)
    now_per_node = None if now is None else now // nodes
    if now is not None and now <= best_stranded:
        return None, now_per_node, None
    return best, now_per_node, best_stranded // nodes


def forecast(stack: Stack) -> Forecast:
    """Run the declared load through the Calico model and measure what happens."""
    load = _Load(stack)
    sim = load.sim
    cluster = stack.cluster
    limit = cluster.effective_max_blocks_per_host
    node_group = {n: g for n, g, _ in load.nodes}

    all_results = [r for rs in load.results.values() for r in rs]
    pods = [r for r in all_results if isinstance(r, PodAllocation)]
    failures = [r for r in all_results if isinstance(r, AllocationFailure)]
    blocks = sim.blocks()

    pool_forecasts = []
    for name in sorted(stack.pools):
        pool = stack.pools[name]
        groups_using = [g for g in cluster.node_groups if name in _pools_for_group(stack, g)]
        demands = []
        for g in groups_using:
            tunnel = 1 if _tunnel_pool_for_group(stack, g) == name else 0
            demands.append((g.count, g.max_pods + tunnel))
        size = pool.block_addresses
        needed = sum(c * min(limit, _stranded(d, size)[0]) for c, d in demands)
        recommended, now_pn, best_pn = recommend_block_size(
            pool, demands, max_blocks_per_host=limit, strict_affinity=cluster.strict_affinity)
        mine = [b for b in blocks if b.pool == name]
        pool_forecasts.append(PoolForecast(
            pool=name, cidr=pool.spec.cidr, block_size=pool.spec.block_size,
            block_addresses=size, blocks_total=pool.blocks, blocks_claimed=len(mine),
            nodes_using=sum(c for c, _ in demands), blocks_needed_at_max_pods=needed,
            addresses_in_use=sum(b.allocated for b in mine),
            stranded_addresses=sum(b.free for b in mine),
            borrowed_pods=sum(1 for p in pods if p.pool == name and p.borrowed),
            failed_pods=0,  # failures carry no pool; they are counted per namespace
            recommended_block_size=recommended, stranded_per_node_now=now_pn,
            stranded_per_node_recommended=best_pn))

    bound_namespaces = sorted(ns for ns, b in stack.bindings.items() if b.expected_pods)
    group_forecasts = []
    for g in cluster.node_groups:
        members = [n for n, grp in node_group.items() if grp == g.name]
        borrowing = {p.node for p in pods if p.borrowed and p.node in members}
        more, first = _more_nodes(stack, g, bound_namespaces)
        group_forecasts.append(GroupForecast(
            group=g.name, nodes=g.count, max_pods=g.max_pods,
            pods_placed=sum(load.pods_on[n] for n in members),
            borrowing_nodes=len(borrowing),
            max_blocks_on_a_node=max((len(sim.node_blocks(n)) for n in members), default=0),
            more_nodes_until_failure=more, first_failure=first))

    ns_forecasts = []
    for ns in sorted(stack.bindings):
        binding = stack.bindings[ns]
        results = load.results.get(ns, [])
        ns_fail = [r for r in results if isinstance(r, AllocationFailure)]
        more, room = _more_pods(stack, ns) if load.nodes else (None, 0)
        ns_forecasts.append(NamespaceForecast(
            namespace=ns, expected_pods=binding.expected_pods or 0,
            allocated=sum(1 for r in results if isinstance(r, PodAllocation)),
            borrowed=sum(1 for r in results if isinstance(r, PodAllocation) and r.borrowed),
            failed=len(ns_fail), unschedulable=load.unschedulable.get(ns, 0),
            first_failure=f"{ns_fail[0].node}: {ns_fail[0].message}" if ns_fail else None,
            more_pods_until_failure=more, pods_until_nodes_full=room))

    del failures
    return Forecast(stack=stack.name, nodes=len(load.nodes),
                    strict_affinity=cluster.strict_affinity, max_blocks_per_host=limit,
                    pools=tuple(pool_forecasts), groups=tuple(group_forecasts),
                    namespaces=tuple(ns_forecasts),
                    tunnel_failures=tuple(f"{f.node} ({f.kind}): {f.message}"
                                          for f in load.tunnel_failures))


def forecast_findings(stack: Stack) -> list[Finding]:
    """CIP507/CIP508/CIP509 for one stack (nothing without node groups)."""
    if not stack.cluster.node_groups or not stack.pools:
        return []
    result = forecast(stack)
    where = stack.file or f"stack {stack.name}"
    findings: list[Finding] = []
    exhaustion, borrowing, block_size = rule("CIP508"), rule("CIP509"), rule("CIP507")
    headroom = stack.cluster.headroom_percent

    if result.tunnel_failures:
        findings.append(exhaustion.finding(
            f"{where}: {len(result.tunnel_failures)} nodes would not get their tunnel address; "
            f"first: {result.tunnel_failures[0]}",
            f"stack/{stack.name}", stack.cluster_location("nodeGroups"), stack=stack.name))

    for ns in result.namespaces:
        subject = f"namespace/{ns.namespace}"
        location = stack.binding_location(ns.namespace, "expectedPods")
        if ns.failed:
            findings.append(exhaustion.finding(
                f"{ns.failed} of {ns.expected_pods} expected pods of namespace "
                f"{ns.namespace} would not get an address; Calico would say, on node "
                f"{ns.first_failure}", subject, location, stack=stack.name))
        elif ns.expected_pods and ns.more_pods_until_failure is not None:
            wanted = math.ceil(ns.expected_pods * headroom / 100)
            if ns.more_pods_until_failure < wanted:
                findings.append(exhaustion.finding(
                    f"namespace {ns.namespace}: the {ns.expected_pods} expected pods fit, but "
                    f"only {ns.more_pods_until_failure} more pods get an address before Calico "
                    f"fails (headroom {headroom}% wants {wanted}); addresses left in other "
                    f"nodes' blocks or beyond the per-host block limit are not usable",
                    subject, location, stack=stack.name))

    for pool in result.pools:
        if pool.borrowed_pods:
            findings.append(borrowing.finding(
                f"pool {pool.pool} ({pool.cidr}): {pool.borrowed_pods} pods of the declared "
                f"load would borrow addresses from blocks affine to other nodes (all "
                f"{pool.blocks_total} /{pool.block_size} blocks claimed); their routes go "
                f"through the block owner (calico#3246)",
                f"pool/{pool.pool}", stack.pool_location(pool.pool, "cidr"),
                stack=stack.name))
        if pool.recommended_block_size is not None:
            now = ("no block size that fits" if pool.stranded_per_node_now is None else
                   f"{pool.stranded_per_node_now} per node at blockSize {pool.block_size}")
            findings.append(block_size.finding(
                f"pool {pool.pool} ({pool.cidr}): blockSize {pool.recommended_block_size} "
                f"strands {pool.stranded_per_node_recommended} addresses per node at maxPods "
                f"(now {now}) while every one of the {pool.nodes_using} nodes still gets a "
                f"block; blockSize is immutable, so this needs a new pool",
                f"pool/{pool.pool}", stack.pool_location(pool.pool, "blockSize"),
                stack=stack.name))
    return findings
