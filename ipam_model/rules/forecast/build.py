"""``forecast``: run the declared load through the Calico model and measure it,
per pool, per namespace and per node group."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ...calico.ipam.results import AllocationFailure, PodAllocation
from ...core.model import Stack
from ..capacity import PoolCapacity, pool_capacity
from .block_size import block_size_advice, pool_demands, stranded
from .load import Budget, Load, first_failure
from .model import Forecast, GroupForecast, NamespaceForecast, PoolForecast
from .more import MorePods, more_nodes, replay_budget


def forecast(stack: Stack, *, node_groups: bool = True,
             capacities: Sequence[PoolCapacity] | None = None) -> Forecast:
    """Run the declared load through the Calico model and measure what happens.

    Without ``node_groups`` the groups' "how many more nodes" searches are
    skipped (``groups`` is then empty). They run last, so nothing else changes.
    ``capacities``: the stack's ``capacity.pool_capacity`` when the caller has it.
    """
    load = Load(stack)
    budget = replay_budget()
    pools = _pool_forecasts(stack, load, pool_capacity(stack) if capacities is None
                            else capacities)
    namespaces = _namespace_forecasts(stack, load, budget)
    groups = _group_forecasts(stack, load, budget) if node_groups else ()
    return Forecast(stack=stack.name, nodes=len(load.nodes),
                    strict_affinity=stack.allocator.strict_affinity,
                    max_blocks_per_host=stack.allocator.effective_max_blocks_per_host,
                    pools=tuple(pools), groups=tuple(groups), namespaces=tuple(namespaces),
                    tunnel_failures=tuple(f"{f.node} ({f.kind}): {f.message}"
                                          for f in load.tunnel_failures))


def _allocated(load: Load) -> list[PodAllocation]:
    """Every address the declared pods got."""
    return [r for pods in load.results.values() for pod in pods for r in pod
            if isinstance(r, PodAllocation)]


@dataclass(frozen=True)
class _PoolUse:
    """What the declared load did in each pool."""

    borrowed: dict[str, int]           # pool -> borrowed addresses (pods and tunnels)
    usage: dict[str, dict[str, int]]   # pool -> node -> addresses its pods and tunnel got
    failed: dict[str, int]             # pool -> refused requests that tried it


def _pool_use(stack: Stack, load: Load) -> _PoolUse:
    borrowed: dict[str, int] = {}
    usage: dict[str, dict[str, int]] = {}
    for a in [*_allocated(load), *load.sim.tunnels()]:
        if a.borrowed:
            borrowed[a.pool] = borrowed.get(a.pool, 0) + 1
        per_node = usage.setdefault(a.pool, {})
        per_node[a.node] = per_node.get(a.node, 0) + 1
    failed: dict[str, int] = {}  # refused requests, charged to the pools they tried
    for pods in load.results.values():
        for pod in pods:
            for r in pod:
                if isinstance(r, AllocationFailure):
                    for name in sorted(stack.pools):
                        if stack.pools[name].spec.cidr in r.message:
                            failed[name] = failed.get(name, 0) + 1
    return _PoolUse(borrowed, usage, failed)


def _pool_forecasts(stack: Stack, load: Load, capacities: Sequence[PoolCapacity]
                    ) -> list[PoolForecast]:
    """Per pool: blocks claimed and needed, addresses used, stranded and borrowed, and
    block-size advice."""
    cluster = stack.cluster
    limit = stack.allocator.effective_max_blocks_per_host
    demands = pool_demands(stack, capacities)
    claimed: dict[str, list] = {}
    for b in load.sim.blocks():
        claimed.setdefault(b.pool, []).append(b)
    use = _pool_use(stack, load)
    out = []
    for cap in capacities:
        groups = demands[cap.name]
        mine = claimed.get(cap.name, [])
        waste = sum(b.free for b in mine)
        advice = block_size_advice(
            stack.pools[cap.name], groups, list(use.usage.get(cap.name, {}).values()),
            stranded_now=waste, borrowed=use.borrowed.get(cap.name, 0),
            failed=use.failed.get(cap.name, 0), limit=limit,
            strict_affinity=stack.allocator.strict_affinity,
            headroom_percent=cluster.headroom_percent)
        out.append(PoolForecast(
            pool=cap.name, cidr=cap.cidr, block_size=cap.block_size,
            block_addresses=cap.block_addresses, blocks_total=cap.blocks,
            blocks_claimed=len(mine), nodes_using=sum(c for c, _ in groups),
            demand_per_node=max((d for _, d in groups), default=0),
            blocks_needed=sum(c * min(limit, stranded(d, cap.block_addresses)[0])
                              for c, d in groups),
            addresses_in_use=sum(b.allocated for b in mine),
            stranded_addresses=waste,
            borrowed_addresses=use.borrowed.get(cap.name, 0),
            recommended_block_size=advice.recommended,
            stranded_per_node_now=advice.stranded_per_node_now,
            stranded_per_node_recommended=advice.stranded_per_node_recommended,
            block_size_problem=advice.problem, block_size_fix=advice.fix))
    return out


def _namespace_forecasts(stack: Stack, load: Load, budget: Budget) -> list[NamespaceForecast]:
    """Per namespace: what its declared pods got, and how many more fit."""
    out = []
    more_pods = MorePods(stack, load, budget) if load.nodes else None
    for ns in sorted(stack.bindings):
        binding = stack.bindings[ns]
        pods = load.results.get(ns, [])
        failures = [f for pod in pods if (f := first_failure(pod))]
        got = [r for pod in pods for r in pod if isinstance(r, PodAllocation)]
        more, exact = more_pods.answer(ns) if more_pods else (None, True)
        out.append(NamespaceForecast(
            namespace=ns, expected_pods=binding.expected_pods or 0,
            allocated=len(pods) - len(failures),
            borrowed=len({r.pod for r in got if r.borrowed}),
            failed=len(failures), unschedulable=load.unschedulable.get(ns, 0),
            first_failure=f"{failures[0].node}: {failures[0].message}" if failures else None,
            pools=tuple(sorted({r.pool for r in got})),
            more_pods_until_failure=more, pods_until_nodes_full=load.room(),
            more_pods_is_lower_bound=not exact))
    return out


def _group_forecasts(stack: Stack, load: Load, budget: Budget) -> list[GroupForecast]:
    """Per node group: its pods, borrowing and blocks, and how many more nodes fit."""
    sim = load.sim
    allocated = _allocated(load)
    namespaces_with_pods = sorted(ns for ns, b in stack.bindings.items() if b.expected_pods)
    group_of = {n: g for n, g, _ in load.nodes}  # a name in two groups counts for the last
    members: dict[str, list[str]] = {}
    for n, grp in group_of.items():
        members.setdefault(grp, []).append(n)
    out = []
    for g in stack.cluster.node_groups:
        names = set(members.get(g.name, ()))
        more, first, exact = more_nodes(load, g, namespaces_with_pods, budget)
        out.append(GroupForecast(
            group=g.name, nodes=g.count, max_pods=g.max_pods,
            pods_placed=sum(load.pods_on[n] for n in names),
            borrowing_nodes=len({p.node for p in allocated if p.borrowed and p.node in names}),
            max_blocks_on_a_node=max((len(sim.node_blocks(n)) for n in names), default=0),
            more_nodes_until_failure=more, first_failure=first,
            more_nodes_is_lower_bound=not exact))
    return out
