"""How many more pods of a namespace, or nodes of a group, before Calico refuses one.

* pods: more pods of one namespace, round-robin from where the declared
  load stopped, until an allocation fails or every node is at ``maxPods``;
* nodes: more nodes of one group, each starting and running one pod of every
  namespace with expected pods, until an allocation fails.

Most namespaces get an exact answer in closed form (``_closed_form``); only
the rest are replayed on a copy of the load, and all replays of one forecast
(copies included) share MAX_REPLAY_ALLOCATIONS simulated requests. A search
cut short by a bound reports a lower bound and says so.
"""
from __future__ import annotations

import heapq

from ...calico.ipam.chooser import TUNNEL_TYPES, WORKLOAD, NamespaceInfo, Refused
from ...calico.ipam.simulator import Simulator
from ...core.model import NodeGroup, Stack
from .load import Budget, Load, Placement, first_failure

# Bounds on the searches, so `check` stays quick on any stack.
MAX_EXTRA_PODS = 200_000
MAX_EXTRA_NODES = 2_000
MAX_REPLAY_ALLOCATIONS = 10_000


def replay_budget() -> Budget:
    """The work all replays of one forecast may share."""
    return Budget(MAX_REPLAY_ALLOCATIONS)


class _LoadLeft:
    """Per pool and per (node, pool): what the load left, read once from the simulator."""

    def __init__(self, stack: Stack, sim: Simulator):
        self.affine: dict[tuple[str, str], list[int]] = {}  # (node, pool) -> [free, blocks]
        claimed: dict[str, int] = {}
        used: dict[str, int] = {}
        for b in sim.blocks():
            claimed[b.pool] = claimed.get(b.pool, 0) + 1
            used[b.pool] = used.get(b.pool, 0) + b.allocated
            if b.affinity:
                entry = self.affine.setdefault((b.affinity[len("host:"):], b.pool), [0, 0])
                entry[0] += b.free
                entry[1] += 1
        self.block_addresses: dict[str, int] = {}
        self.unclaimed: dict[str, int] = {}
        self.free: dict[str, int] = {}
        for name, pool in stack.pools.items():
            width = 32 if pool.version == 4 else 128
            bs = pool.spec.block_size
            blocks = 1 << (bs - pool.prefixlen) if pool.prefixlen <= bs <= width else 0
            size = 1 << (width - bs)
            self.block_addresses[name] = size
            self.unclaimed[name] = blocks - claimed.get(name, 0)
            self.free[name] = blocks * size - used.get(name, 0)


def _node_classes(load: Load, placement: Placement) -> tuple[list[int], list[str]]:
    """Nodes with room grouped by the set of pools selecting them: pool choice depends
    on a node only through that set. (class of each node, a node of each class)."""
    chooser = load.sim.chooser  # the simulator's own pool choice, so routes match it exactly
    classes: dict[frozenset, int] = {}
    of_node, example = [], []
    for name in placement.names:
        matches = chooser.node_pools(name, load.labels[name])
        if matches not in classes:
            classes[matches] = len(example)
            example.append(name)
        of_node.append(classes[matches])
    return of_node, example


def _routes(load: Load, classes: tuple[list[int], list[str]], namespace: str,
            version: int) -> tuple:
    """Per node with room: the pools Calico would try for the namespace, or None (refused)."""
    chooser = load.sim.chooser
    info = load.sim.namespaces.get(namespace) or NamespaceInfo(namespace)
    of_node, example = classes
    per_class = []
    for name in example:
        try:
            pools, _ = chooser.choose(version, name, load.labels[name], info, None, WORKLOAD)
            per_class.append(tuple(p.name for p in pools))
        except Refused:
            per_class.append(None)
    return tuple(per_class[c] for c in of_node)


def _pool_first_failure(members, state: _LoadLeft, pool: str, limit: int, strict: bool):
    """First failing extra request in ``pool``, as (round, position), or None.

    ``members`` are (position, room, node) of the nodes whose only pool is
    ``pool``. Returns (answer, exact): not exact when borrowing starts while a
    node at the per-host block limit still takes pods (others' borrowing then
    decides when it runs dry).

    Between events a node just fills its own blocks; an event is a request
    that finds them full: limit reached -> fail; unclaimed block -> claim;
    none under strict affinity -> fail; else borrowing, after which every
    request takes one of the pool's free addresses until none is left.
    """
    size = state.block_addresses[pool]
    unclaimed = state.unclaimed[pool]
    heap = []
    owned = {}
    for pos, room, node in members:
        free, blocks = state.affine.get((node, pool), (0, 0))
        owned[pos] = blocks
        if free + 1 <= room:
            heap.append((free + 1, pos, room))
    heapq.heapify(heap)
    while heap:
        rnd, pos, room = heapq.heappop(heap)
        if owned[pos] >= limit:
            return (rnd, pos), True
        if unclaimed > 0:
            unclaimed -= 1
            owned[pos] += 1
            if rnd + size <= room:
                heapq.heappush(heap, (rnd + size, pos, room))
            continue
        if strict:
            return (rnd, pos), True
        if any(owned[p] >= limit and (room_p, p) > (rnd, pos) for p, room_p, _ in members):
            return (rnd, pos), False  # exact up to here only
        return Placement.nth([(p, r) for p, r, _ in members], state.free[pool] + 1), True
    return None, True


def _first_possible_event(members, state: _LoadLeft, route) -> tuple[int, int] | None:
    """Earliest request that may leave a node's own blocks (nothing before it can fail)."""
    firsts = []
    for pos, room, node in members:
        free = sum(state.affine.get((node, p), (0, 0))[0] for p in route)
        if free + 1 <= room:
            firsts.append((free + 1, pos))
    return min(firsts, default=None)


def _closed_form(load: Load, placement: Placement, state: _LoadLeft,
                 routes_by_family: dict[int, tuple], limit: int, strict: bool):
    """(first failing extra pod as (round, position) or None, exact?, safe point).

    Exact when every node's route is one pool (or refused). Otherwise the
    answer is exact only if a known failure comes before anything the closed
    form cannot follow; ``safe`` is the earliest such point.
    """
    failures = []
    unknown = []  # earliest points from which the closed form cannot follow
    for routes in routes_by_family.values():
        by_pool: dict[str, list] = {}
        for pos, route in enumerate(routes):
            room, node = placement.rooms[pos], placement.names[pos]
            if route is None:
                failures.append((1, pos))
            elif len(route) == 1:
                by_pool.setdefault(route[0], []).append((pos, room, node))
            else:
                point = _first_possible_event([(pos, room, node)], state, route)
                if point is not None:
                    unknown.append(point)
        for pool, members in by_pool.items():
            if any(len(r or ()) > 1 and pool in r for r in routes):
                point = _first_possible_event(members, state, (pool,))
                if point is not None:
                    unknown.append(point)  # shared with multi-pool routes
                continue
            found, exact = _pool_first_failure(members, state, pool, limit, strict)
            if found is not None:
                (failures if exact else unknown).append(found)
    first = min(failures, default=None)
    safe = min(unknown, default=None)
    if safe is None or (first is not None and first < safe):
        return first, True, None
    return None, False, safe


def _replay_pods(replica: Load, namespace: str, steps: int) -> tuple[int | None, int]:
    """Place more pods of ``namespace`` on a copy of the load until one fails.

    Returns (pods that got addresses before the failing one, or None when no
    failure came within ``steps`` pods; pods placed).
    """
    for added in range(min(replica.room(), steps)):
        if first_failure(replica.place(namespace) or []):
            return added, added + 1
    return None, min(replica.room(), steps)


class MorePods:
    """How many more pods of each namespace get addresses, from one run of the load."""

    def __init__(self, stack: Stack, load: Load, budget: Budget):
        self.stack = stack
        self.load = load
        self.budget = budget
        self.placement = Placement(load)
        self.state = _LoadLeft(stack, load.sim)
        self.limit = stack.allocator.effective_max_blocks_per_host
        self.strict = stack.allocator.strict_affinity
        self.known: dict[tuple, tuple[int | None, bool]] = {}
        self.classes = _node_classes(load, self.placement)

    def answer(self, namespace: str) -> tuple[int | None, bool]:
        """(extra pods before one fails, or None when nodes reach maxPods first; exact?)."""
        placement = self.placement
        if placement.total == 0:
            return None, True
        routes = {v: _routes(self.load, self.classes, namespace, v) for v in self.load.families}
        key = tuple(sorted(routes.items()))
        if key not in self.known:  # namespaces with the same routes get the same answer
            self.known[key] = self._solve(namespace, routes)
        return self.known[key]

    def _solve(self, namespace: str, routes) -> tuple[int | None, bool]:
        placement = self.placement
        first, exact, safe = _closed_form(self.load, placement, self.state, routes,
                                          self.limit, self.strict)
        if exact:
            return (None if first is None else placement.index(*first)), True
        lower = placement.index(*safe)
        if not self.budget.spend_on_copy(self.load.allocations, len(self.load.families)):
            return lower, False
        families = len(self.load.families)
        steps = min(MAX_EXTRA_PODS, self.budget.left // families)
        more, placed = _replay_pods(self.load.fork(), namespace, steps)
        self.budget.spend(placed * families)
        if more is not None or steps >= placement.total:
            return more, True
        return max(lower, steps), False


def more_nodes(load: Load, group: NodeGroup, namespaces: list[str], budget: Budget
               ) -> tuple[int | None, str | None, bool]:
    """(nodes of ``group`` that still start and run a pod of every namespace, or None;
    the first failure; exact?). Replayed on a copy of the load within the budget."""
    # tunnels: at most ipip + vxlan + vxlan-v6 (chooser.TUNNEL_TYPES)
    per_node = len(load.families) * len(namespaces) + len(TUNNEL_TYPES)
    if not budget.spend_on_copy(load.allocations, per_node):
        return 0, None, False
    load = load.fork()
    for added in range(MAX_EXTRA_NODES):
        if not budget.spend(per_node):
            return added, None, False
        name = f"{group.name}-{group.count + added}"
        before = len(load.tunnel_failures)
        load.start_node(name, group)
        if len(load.tunnel_failures) > before:
            return added, load.tunnel_failures[-1].message, True
        for ns in namespaces:
            failure = first_failure(load.run_pod(ns, name))
            if failure:
                return added, failure.message, True
        if not namespaces and not load.sim.tunnels():
            return None, None, True  # a new node allocates nothing: no exhaustion point
    return None, None, True
