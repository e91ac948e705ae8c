"""Capacity planning by running the Calico IPAM model on the declared load.

The static capacity rules (``capacity.py``, CIP502-CIP506) count blocks and
addresses. This module answers what counting cannot: what Calico would
actually do with the stack's node groups and expected pods
(``simulate.Simulator``).

How the load is built:

* nodes: every node group, named ``<group>-<i>`` (i from 0) with the group's
  labels; every node starts first (tunnel addresses), in group order;
* pods: each namespace's ``expectedPods``, namespaces in name order, placed
  round-robin over the nodes, never more than a group's ``maxPods`` on a
  node; a pod gets one address per family that has an enabled Workload pool;
* exhaustion point, pods: more pods of one namespace, round-robin, until an
  allocation fails or every node is at ``maxPods``;
* exhaustion point, nodes: more nodes of one group, each starting and running
  one pod of every namespace with expected pods, until an allocation fails.

Findings: CIP508 pool-exhaustion, CIP509 predicted-borrowing and CIP507
block-size-recommendation. A finding is left out when a static capacity rule
(CIP502-CIP506) already reports the same pool or namespace, so users see one
explanation per problem.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from .model import BLOCK_SIZE_RANGE, Finding, Stack
from .rules import rule
from .simulate import (AllocationFailure, PodAllocation, Simulator, families_in_use,
                       node_names, simulator_for_stack)

# Bounds on the "how many more" searches so `check` stays quick on huge pools.
MAX_EXTRA_PODS = 200_000
MAX_EXTRA_NODES = 2_000


@dataclass(frozen=True)
class PoolForecast:
    pool: str
    cidr: str
    block_size: int
    block_addresses: int
    blocks_total: int
    blocks_claimed: int           # after the declared load
    nodes_using: int              # nodes that may take a block of the pool
    demand_per_node: int          # addresses a node needs from it (maxPods or expected share)
    blocks_needed: int            # nodes x blocks for that demand (capped by the host limit)
    addresses_in_use: int
    stranded_addresses: int       # free addresses inside claimed blocks
    borrowed_addresses: int
    recommended_block_size: int | None
    stranded_per_node_now: int | None
    stranded_per_node_recommended: int | None

    def to_dict(self) -> dict:
        return asdict(self)


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
        return asdict(self)


@dataclass(frozen=True)
class NamespaceForecast:
    namespace: str
    expected_pods: int
    allocated: int                # pods that got every address they need
    borrowed: int
    failed: int
    unschedulable: int            # beyond every node's maxPods
    first_failure: str | None
    pools: tuple[str, ...]        # pools its pods drew from
    more_pods_until_failure: int | None  # None: nodes reach maxPods first
    pods_until_nodes_full: int

    def to_dict(self) -> dict:
        return asdict(self)


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
    """The declared load on a fresh simulator, with the round-robin placement state."""

    def __init__(self, stack: Stack):
        self.sim: Simulator = simulator_for_stack(stack)
        self.families = families_in_use(stack.pools.values())
        self.nodes: list[tuple[str, str, int]] = []  # (node, group, max_pods)
        self.pods_on: dict[str, int] = {}
        self.cursor = 0
        self.serial = 0
        self.tunnel_failures: list[AllocationFailure] = []
        for group in stack.cluster.node_groups:
            for name in node_names(group.name, group.count):
                self.start_node(name, group)
        self.results: dict[str, list[list]] = {}
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

    def run_pod(self, namespace: str, node: str) -> list:
        """One pod on ``node``: one allocation per family in use."""
        self.serial += 1
        pod = f"{namespace}-{self.serial}"
        return [self.sim.allocate(namespace, pod, node, version=v) for v in self.families]

    def place(self, namespace: str) -> list | None:
        """One more pod on the next node with room; None when every node is full."""
        for _ in range(len(self.nodes)):
            node, _, max_pods = self.nodes[self.cursor % len(self.nodes)]
            self.cursor += 1
            if self.pods_on[node] < max_pods:
                self.pods_on[node] += 1
                return self.run_pod(namespace, node)
        return None

    def room(self) -> int:
        return sum(max(0, m - self.pods_on[n]) for n, _, m in self.nodes)


def _failed(results: list) -> AllocationFailure | None:
    return next((r for r in results if isinstance(r, AllocationFailure)), None)


def _more_pods(stack: Stack, namespace: str) -> tuple[int | None, int]:
    """(pods of ``namespace`` that still get addresses before one fails, or None; room)."""
    load = _Load(stack)
    room = load.room()
    for added in range(min(room, MAX_EXTRA_PODS)):
        if _failed(load.place(namespace) or []):
            return added, room
    return None, room


def _more_nodes(stack: Stack, group, namespaces: list[str]) -> tuple[int | None, str | None]:
    load = _Load(stack)
    for added in range(MAX_EXTRA_NODES):
        name = f"{group.name}-{group.count + added}"
        before = len(load.tunnel_failures)
        load.start_node(name, group)
        if len(load.tunnel_failures) > before:
            return added, load.tunnel_failures[-1].message
        for ns in namespaces:
            failure = _failed(load.run_pod(ns, name))
            if failure:
                return added, failure.message
        if not namespaces and not load.sim.tunnels():
            return None, None  # a new node allocates nothing: no exhaustion point
    return None, None


def _stranded(demand: int, size: int) -> tuple[int, int]:
    """(blocks a node needs for ``demand`` addresses, addresses they strand)."""
    blocks = max(1, math.ceil(demand / size))
    return blocks, blocks * size - demand


def recommend_block_size(pool, groups: list[tuple[int, int]], *, max_blocks_per_host: int,
                         strict_affinity: bool) -> tuple[int | None, int | None, int | None]:
    """(better block size or None, stranded per node now, stranded per node at it).

    ``groups`` is (node count, addresses a node needs from this pool). A size
    qualifies when the pool has at least one block per node, a node's demand
    fits in half of ``max_blocks_per_host`` (empty blocks go back only after
    15 minutes, so churn needs spare block slots, calico#4861) and, under
    strict affinity (no borrowing), every node's blocks fit in the pool. The
    least stranded space wins, ties go to larger blocks (fewer routes); a size
    is recommended only when it strands less than the current one.
    """
    width = 32 if pool.version == 4 else 128
    low, high = BLOCK_SIZE_RANGE[pool.version]
    nodes = sum(c for c, _ in groups)
    if nodes == 0:
        return None, None, None
    slots = max(1, max_blocks_per_host // 2)

    def stranded_total(bs: int) -> int | None:
        if bs < pool.prefixlen:
            return None
        size = 1 << (width - bs)
        blocks = 1 << (bs - pool.prefixlen)
        if blocks < nodes:
            return None
        needed = stranded = 0
        for count, demand in groups:
            per_node, waste = _stranded(demand, size)
            if per_node > slots:
                return None
            needed += count * per_node
            stranded += count * waste
        if strict_affinity and needed > blocks:
            return None
        return stranded

    scored = [(s, bs) for bs in range(low, high + 1)
              if (s := stranded_total(bs)) is not None]
    now = stranded_total(pool.spec.block_size)
    now_per_node = None if now is None else now // nodes
    if not scored:
        return None, now_per_node, None
    best_stranded = min(s for s, _ in scored)
    best = min(bs for s, bs in scored if s == best_stranded)
    if now is not None and now <= best_stranded:
        return None, now_per_node, None
    return best, now_per_node, best_stranded // nodes


def _pool_demands(stack: Stack, capacities) -> dict[str, list[tuple[int, int]]]:
    """Per pool: (node count, addresses a node needs) for each node group using it.

    A pool that serves a group automatically may get any pod: maxPods. A pool
    used only through namespace annotations gets those namespaces' expected
    pods plus headroom, spread over the nodes, at most maxPods. A node's
    tunnel address comes from the first tunnel pool in name order. No node can
    get more than the pool's addresses divided by the nodes using it.
    """
    from .capacity import with_headroom
    from .simulate import _selector_matches

    groups = {g.name: g for g in stack.cluster.node_groups}
    tunnel_pool = {}
    for g in stack.cluster.node_groups:
        for name in sorted(stack.pools):
            spec = stack.pools[name].spec
            if (not spec.disabled and stack.pools[name].version == 4
                    and "Tunnel" in spec.allowed_uses
                    and (spec.ipip_mode != "Never" or spec.vxlan_mode != "Never")
                    and _selector_matches(spec.node_selector, dict(g.labels))):
                tunnel_pool[g.name] = name
                break
    out: dict[str, list[tuple[int, int]]] = {}
    for cap in capacities:
        spec = stack.pools[cap.name].spec
        demands = []
        for gname in cap.node_groups:
            g = groups[gname]
            automatic = (spec.assignment_mode == "Automatic"
                         and _selector_matches(spec.node_selector, dict(g.labels)))
            if automatic or not cap.nodes:
                demand = g.max_pods
            else:
                share = math.ceil(with_headroom(cap.expected_pods,
                                                stack.cluster.headroom_percent) / cap.nodes)
                demand = min(g.max_pods, share)
            demand += 1 if tunnel_pool.get(gname) == cap.name else 0
            if cap.nodes:  # a pool cannot give a node more than its fair share
                demand = min(demand, cap.addresses // cap.nodes)
            demands.append((g.count, max(1, demand)))
        out[cap.name] = demands
    return out


def forecast(stack: Stack) -> Forecast:
    """Run the declared load through the Calico model and measure what happens."""
    from .capacity import pool_capacity

    load = _Load(stack)
    sim = load.sim
    cluster = stack.cluster
    limit = cluster.effective_max_blocks_per_host
    group_of = {n: g for n, g, _ in load.nodes}
    addresses = [r for pods in load.results.values() for pod in pods for r in pod]
    allocated = [r for r in addresses if isinstance(r, PodAllocation)]
    blocks = sim.blocks()
    capacities = pool_capacity(stack)
    demands = _pool_demands(stack, capacities)

    pool_forecasts = []
    for cap in capacities:
        pool = stack.pools[cap.name]
        groups = demands[cap.name]
        recommended, now_pn, best_pn = recommend_block_size(
            pool, groups, max_blocks_per_host=limit, strict_affinity=cluster.strict_affinity)
        mine = [b for b in blocks if b.pool == cap.name]
        nodes = sum(c for c, _ in groups)
        pool_forecasts.append(PoolForecast(
            pool=cap.name, cidr=cap.cidr, block_size=cap.block_size,
            block_addresses=cap.block_addresses, blocks_total=cap.blocks,
            blocks_claimed=len(mine), nodes_using=nodes,
            demand_per_node=max((d for _, d in groups), default=0),
            blocks_needed=sum(c * min(limit, _stranded(d, cap.block_addresses)[0])
                              for c, d in groups),
            addresses_in_use=sum(b.allocated for b in mine),
            stranded_addresses=sum(b.free for b in mine),
            borrowed_addresses=sum(1 for p in allocated if p.pool == cap.name and p.borrowed)
            + sum(1 for t in sim.tunnels() if t.pool == cap.name and t.borrowed),
            recommended_block_size=recommended, stranded_per_node_now=now_pn,
            stranded_per_node_recommended=best_pn))

    namespaces_with_pods = sorted(ns for ns, b in stack.bindings.items() if b.expected_pods)
    group_forecasts = []
    for g in cluster.node_groups:
        members = {n for n, grp in group_of.items() if grp == g.name}
        more, first = _more_nodes(stack, g, namespaces_with_pods)
        group_forecasts.append(GroupForecast(
            group=g.name, nodes=g.count, max_pods=g.max_pods,
            pods_placed=sum(load.pods_on[n] for n in members),
            borrowing_nodes=len({p.node for p in allocated if p.borrowed and p.node in members}),
            max_blocks_on_a_node=max((len(sim.node_blocks(n)) for n in members), default=0),
            more_nodes_until_failure=more, first_failure=first))

    ns_forecasts = []
    for ns in sorted(stack.bindings):
        binding = stack.bindings[ns]
        pods = load.results.get(ns, [])
        failures = [f for pod in pods if (f := _failed(pod))]
        got = [r for pod in pods for r in pod if isinstance(r, PodAllocation)]
        more, room = _more_pods(stack, ns) if load.nodes else (None, 0)
        ns_forecasts.append(NamespaceForecast(
            namespace=ns, expected_pods=binding.expected_pods or 0,
            allocated=len(pods) - len(failures),
            borrowed=len({r.pod for r in got if r.borrowed}),
            failed=len(failures), unschedulable=load.unschedulable.get(ns, 0),
            first_failure=f"{failures[0].node}: {failures[0].message}" if failures else None,
            pools=tuple(sorted({r.pool for r in got})),
            more_pods_until_failure=more, pods_until_nodes_full=room))

    return Forecast(stack=stack.name, nodes=len(load.nodes),
                    strict_affinity=cluster.strict_affinity, max_blocks_per_host=limit,
                    pools=tuple(pool_forecasts), groups=tuple(group_forecasts),
                    namespaces=tuple(ns_forecasts),
                    tunnel_failures=tuple(f"{f.node} ({f.kind}): {f.message}"
                                          for f in load.tunnel_failures))


def forecast_findings(stack: Stack) -> list[Finding]:
    """CIP507/CIP508/CIP509 for one stack (nothing without node groups or pools)."""
    if not stack.cluster.node_groups or not stack.pools:
        return []
    from .capacity import capacity_findings

    static = {(f.rule, f.subject) for f in capacity_findings(stack)}

    def covered(subject: str, *rules: str) -> bool:
        return any((r, subject) in static for r in rules)

    result = forecast(stack)
    findings: list[Finding] = []
    exhaustion, borrowing, block_size = rule("CIP508"), rule("CIP509"), rule("CIP507")
    headroom = stack.cluster.headroom_percent
    pools = {p.pool: p for p in result.pools}

    if result.tunnel_failures:
        findings.append(exhaustion.finding(
            f"{len(result.tunnel_failures)} of {result.nodes} nodes would not get their tunnel "
            f"address (calico-node then exits); first: {result.tunnel_failures[0]}",
            f"stack/{stack.name}", stack.cluster_location("nodeGroups"), stack=stack.name))

    for ns in result.namespaces:
        subject = f"namespace/{ns.namespace}"
        location = stack.binding_location(ns.namespace, "expectedPods")
        explained = covered(subject, "CIP503", "CIP504") or any(
            covered(f"pool/{p}", "CIP502", "CIP505") for p in ns.pools)
        if explained:
            continue
        if ns.failed:
            findings.append(exhaustion.finding(
                f"{ns.failed} of {ns.expected_pods} expected pods of namespace {ns.namespace} "
                f"would get no address; Calico would say on node {ns.first_failure}",
                subject, location, stack=stack.name))
        elif ns.expected_pods and ns.more_pods_until_failure is not None:
            wanted = math.ceil(ns.expected_pods * headroom / 100)
            if ns.more_pods_until_failure < wanted:
                free = sum(pools[p].blocks_total * pools[p].block_addresses
                           - pools[p].addresses_in_use for p in ns.pools if p in pools)
                findings.append(exhaustion.finding(
                    f"namespace {ns.namespace}: the {ns.expected_pods} expected pods fit, but "
                    f"only {ns.more_pods_until_failure} more get an address before Calico "
                    f"refuses one, fewer than the {headroom}% headroom ({wanted}), although "
                    f"`calicoctl ipam show` would count {free:,} free addresses in "
                    f"{', '.join(ns.pools)}: the rest sits in other nodes' blocks or beyond "
                    f"the per-host block limit", subject, location, stack=stack.name))

    for pool in result.pools:
        subject = f"pool/{pool.pool}"
        if pool.borrowed_addresses and not covered(subject, "CIP502"):
            findings.append(borrowing.finding(
                f"pool {pool.pool} ({pool.cidr}): with the declared load, "
                f"{pool.borrowed_addresses} addresses are borrowed from blocks affine to other "
                f"nodes once all {pool.blocks_total} /{pool.block_size} blocks are claimed "
                f"({pool.nodes_using} nodes need {pool.blocks_needed} blocks at "
                f"{pool.demand_per_node} addresses each); routes to borrowed addresses go "
                f"through the block's owner (calico#3246)",
                subject, stack.pool_location(pool.pool, "cidr"), stack=stack.name))
        if pool.recommended_block_size is not None and not covered(subject, "CIP502", "CIP505"):
            findings.append(block_size.finding(
                f"pool {pool.pool} ({pool.cidr}): blockSize {pool.recommended_block_size} would "
                f"strand {_addresses(pool.stranded_per_node_recommended)} per node at "
                f"{pool.demand_per_node} addresses a node; blockSize {pool.block_size} "
                f"{_current(pool, stack)}. Every one of the {pool.nodes_using} nodes still gets "
                f"a block; blockSize is immutable, so this means a new pool and a migration",
                subject, stack.pool_location(pool.pool, "blockSize"), stack=stack.name))
    return findings


def format_forecast(result: Forecast) -> str:
    """The forecast as plain text: one line per pool, node group and namespace."""
    lines = [f"Forecast for stack {result.stack}: {result.nodes} nodes "
             f"(named <group>-<i>), strictAffinity {str(result.strict_affinity).lower()}, "
             f"maxBlocksPerHost {result.max_blocks_per_host}"]
    for p in result.pools:
        advice = (f"; blockSize {p.recommended_block_size} would strand "
                  f"{p.stranded_per_node_recommended} per node" if p.recommended_block_size
                  else "")
        lines.append(
            f"  pool {p.pool} ({p.cidr}, /{p.block_size}): {p.blocks_claimed}/{p.blocks_total} "
            f"blocks claimed, {p.blocks_needed} needed by {p.nodes_using} nodes at "
            f"{p.demand_per_node} addresses each; {p.addresses_in_use} in use, "
            f"{p.stranded_addresses} stranded in claimed blocks, "
            f"{p.borrowed_addresses} borrowed{advice}")
    for g in result.groups:
        more = ("no failure within the search" if g.more_nodes_until_failure is None
                else f"{g.more_nodes_until_failure} more nodes before one fails ({g.first_failure})")
        lines.append(f"  node group {g.group}: {g.nodes} nodes, {g.pods_placed} pods, "
                     f"{g.borrowing_nodes} borrowing, up to {g.max_blocks_on_a_node} blocks on "
                     f"a node; {more}")
    for n in result.namespaces:
        more = ("nodes reach maxPods first" if n.more_pods_until_failure is None
                else f"{n.more_pods_until_failure} more pods before one fails")
        failed = f", {n.failed} fail ({n.first_failure})" if n.failed else ""
        lines.append(f"  namespace {n.namespace}: {n.allocated}/{n.expected_pods} pods get "
                     f"addresses{failed}, {n.borrowed} borrowed, {n.unschedulable} beyond "
                     f"maxPods; {more}")
    for t in result.tunnel_failures:
        lines.append(f"  tunnel address fails: {t}")
    return "\n".join(lines)


def _addresses(n: int | None) -> str:
    return f"{n} address" + ("" if n == 1 else "es")


def _current(pool: PoolForecast, stack: Stack) -> str:
    """Why the current block size loses, in the user's terms."""
    if pool.stranded_per_node_now is not None:
        return f"strands {_addresses(pool.stranded_per_node_now)}"
    if pool.blocks_total < pool.nodes_using:
        return f"gives {pool.blocks_total} blocks for {pool.nodes_using} nodes"
    per_node = _stranded(pool.demand_per_node, pool.block_addresses)[0]
    limit = stack.cluster.effective_max_blocks_per_host
    if per_node > max(1, limit // 2):
        return (f"needs {per_node} blocks a node, more than half of maxBlocksPerHost {limit} "
                f"(empty blocks return only after 15 minutes, so churn needs spare slots)")
    return "cannot give every node its blocks without borrowing under strict affinity"
