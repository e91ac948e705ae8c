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

import copy
import heapq
import math
from dataclasses import asdict, dataclass
from typing import Iterable

from ...calico.ipam.simulator import (
    NODE_NAME_LABEL,
    AllocationFailure,
    NamespaceInfo,
    PodAllocation,
    Simulator,
    _PoolChooser,
    families_in_use,
    namespaces_from_bindings,
    node_names,
    simulator_for_stack,
)
from ...core.gc import paused_gc
from ...core.ippool import BLOCK_SIZE_RANGE
from ...core.model import Finding, Stack
from ...core.rules import rule

# Bounds on the "how many more" searches so `check` stays quick on any stack.
# Most namespaces get an exact answer in closed form; only the rest are
# replayed on a copy of the load, and all replays of one forecast (copies
# included) share MAX_REPLAY_ALLOCATIONS simulated requests. A search cut
# short by a bound reports a lower bound and says so.
MAX_EXTRA_PODS = 200_000
MAX_EXTRA_NODES = 2_000
MAX_REPLAY_ALLOCATIONS = 10_000


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
    recommended_block_size: int | None   # only when it fixes ``block_size_problem``
    stranded_per_node_now: int | None
    stranded_per_node_recommended: int | None
    block_size_problem: str | None = None  # what the current block size does wrong, in numbers
    block_size_fix: str | None = None      # what the recommended size gives instead

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
    more_nodes_is_lower_bound: bool = False  # the search stopped at the work bound

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
    more_pods_is_lower_bound: bool = False  # at least this many: the search stopped early

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
        self.labels: dict[str, dict] = {}
        self.pods_on: dict[str, int] = {}
        self.free_slots = 0  # pods the nodes can still take (sum of maxPods - pods)
        self.cursor = 0
        self.serial = 0
        self.allocations = 0  # requests made so far: the work a copy of this load stands for
        self.tunnel_failures: list[AllocationFailure] = []
        for group in stack.cluster.node_groups:
            for name in node_names(group.name, group.count):
                self.start_node(name, group)
        self.results: dict[str, list[list]] = {}
        self.unschedulable: dict[str, int] = {}
        for ns, binding in sorted(stack.bindings.items()):
            out = self.results.setdefault(ns, [])
            expected = binding.expected_pods or 0
            placed = min(expected, self.free_slots)
            for _ in range(placed):
                out.append(self.place(ns))
            if expected > placed:
                self.unschedulable[ns] = expected - placed

    def start_node(self, name: str, group) -> None:
        self.nodes.append((name, group.name, group.max_pods))
        self.labels[name] = {NODE_NAME_LABEL: name, **group.labels}
        self.pods_on[name] = 0
        self.free_slots += group.max_pods
        for r in self.sim.add_node(name, group.labels):
            self.allocations += 1
            if isinstance(r, AllocationFailure):
                self.tunnel_failures.append(r)

    def run_pod(self, namespace: str, node: str) -> list:
        """One pod on ``node``: one allocation per family in use."""
        self.serial += 1
        self.allocations += len(self.families)
        pod = f"{namespace}-{self.serial}"
        return [self.sim.allocate(namespace, pod, node, version=v) for v in self.families]

    def place(self, namespace: str) -> list | None:
        """One more pod on the next node with room; None when every node is full."""
        if self.free_slots <= 0:
            return None
        while True:
            node, _, max_pods = self.nodes[self.cursor % len(self.nodes)]
            self.cursor += 1
            if self.pods_on[node] < max_pods:
                self.pods_on[node] += 1
                self.free_slots -= 1
                return self.run_pod(namespace, node)

    def room(self) -> int:
        return self.free_slots

    def replica(self) -> "_Load":
        """An independent copy to try more pods or nodes on.

        What never changes is shared, not copied: the pool chooser (pools and
        its pure caches), namespaces, the recorded results and the immutable
        allocation records.
        """
        sim = self.sim
        shared = [sim._chooser, sim.namespaces, self.results, self.unschedulable,
                  self.tunnel_failures, *sim._chooser.infos]
        shared += [e[2] for entries in sim._pods.values() for e in entries]
        shared += [t[2] for t in sim._tunnels.values()]
        memo = {id(x): x for x in shared}
        twin = copy.deepcopy(self, memo)
        twin.tunnel_failures = list(self.tunnel_failures)
        return twin


def _failed(results: list) -> AllocationFailure | None:
    return next((r for r in results if isinstance(r, AllocationFailure)), None)


class _Budget:
    """Replays (pods or nodes simulated on a copy of the load) share one bound.

    Copying the load counts as the requests that built it, so many small
    replays on a large stack cost what they really cost.
    """

    def __init__(self, allocations: int):
        self.left = allocations

    def spend_on_copy(self, copy_cost: int, step: int) -> bool:
        """Pay for a copy only if at least one step of the replay can follow it."""
        return copy_cost + step <= self.left and self.spend(copy_cost)

    def spend(self, n: int) -> bool:
        if n > self.left:
            return False
        self.left -= n
        return True


# --------------------------------------------------------------------------
# More pods of one namespace: closed form where one exists, replay otherwise


class _Placement:
    """Where the extra pods go: round-robin from the load's cursor over nodes with room.

    Pod r (1-based) of the node at position p is the extra pod number
    ``index(r, p)`` (0-based): rounds are full turns of the cursor, so
    (round, position) orders the extra pods exactly as ``_Load.place`` does.
    """

    def __init__(self, load: _Load):
        count = len(load.nodes)
        start = load.cursor % count if count else 0
        order = [load.nodes[(start + i) % count] for i in range(count)]
        self.names = [n for n, _, m in order if m > load.pods_on[n]]
        self.rooms = [m - load.pods_on[n] for n, _, m in order if m > load.pods_on[n]]
        self.total = sum(self.rooms)

    def index(self, rnd: int, pos: int) -> int:
        before = sum(min(x, rnd - 1) for x in self.rooms)
        return before + sum(1 for x in self.rooms[:pos] if x >= rnd)

    @staticmethod
    def nth(members: list[tuple[int, int]], m: int) -> tuple[int, int] | None:
        """(round, position) of the m-th (1-based) request among ``members`` (pos, room)."""
        if m > sum(room for _, room in members):
            return None
        low, high = 1, max(room for _, room in members)
        while low < high:  # first round by which m requests have been made
            mid = (low + high) // 2
            if sum(min(room, mid) for _, room in members) >= m:
                high = mid
            else:
                low = mid + 1
        left = m - sum(min(room, low - 1) for _, room in members)
        for pos, room in sorted(members):
            if room >= low:
                left -= 1
                if left == 0:
                    return low, pos
        raise AssertionError("unreachable: the round holds the request")


class _PoolState:
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


def _node_classes(load: _Load, placement: _Placement) -> tuple[list[int], list[str]]:
    """Nodes with room grouped by the set of pools selecting them: pool choice depends
    on a node only through that set. (class of each node, a node of each class)."""
    chooser = load.sim._chooser  # the simulator's own pool choice, so routes match it exactly
    classes: dict[frozenset, int] = {}
    of_node, example = [], []
    for name in placement.names:
        matches = chooser.node_pools(name, load.labels[name])
        if matches not in classes:
            classes[matches] = len(example)
            example.append(name)
        of_node.append(classes[matches])
    return of_node, example


def _routes(load: _Load, classes: tuple[list[int], list[str]], namespace: str,
            version: int) -> tuple:
    """Per node with room: the pools Calico would try for the namespace, or None (refused)."""
    from ...calico.ipam.simulator import WORKLOAD, _Refused

    chooser = load.sim._chooser
    info = load.sim.namespaces.get(namespace) or NamespaceInfo(namespace)
    of_node, example = classes
    per_class = []
    for name in example:
        try:
            pools, _ = chooser.choose(version, name, load.labels[name], info, None, WORKLOAD)
            per_class.append(tuple(p.name for p in pools))
        except _Refused:
            per_class.append(None)
    return tuple(per_class[c] for c in of_node)


def _pool_first_failure(members, state: _PoolState, pool: str, limit: int, strict: bool):
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
        return _Placement.nth([(p, r) for p, r, _ in members], state.free[pool] + 1), True
    return None, True


def _first_possible_event(members, state: _PoolState, route) -> tuple[int, int] | None:
    """Earliest request that may leave a node's own blocks (nothing before it can fail)."""
    firsts = []
    for pos, room, node in members:
        free = sum(state.affine.get((node, p), (0, 0))[0] for p in route)
        if free + 1 <= room:
            firsts.append((free + 1, pos))
    return min(firsts, default=None)


def _closed_form(load: _Load, placement: _Placement, state: _PoolState,
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


def _replay_pods(replica: _Load, namespace: str, steps: int) -> tuple[int | None, int]:
    """Place more pods of ``namespace`` on a copy of the load until one fails.

    Returns (pods that got addresses before the failing one, or None when no
    failure came within ``steps`` pods; pods placed).
    """
    for added in range(min(replica.room(), steps)):
        if _failed(replica.place(namespace) or []):
            return added, added + 1
    return None, min(replica.room(), steps)


class _MorePods:
    """How many more pods of each namespace get addresses, from one run of the load."""

    def __init__(self, stack: Stack, load: _Load, budget: _Budget):
        self.stack = stack
        self.load = load
        self.budget = budget
        self.placement = _Placement(load)
        self.state = _PoolState(stack, load.sim)
        self.limit = stack.cluster.effective_max_blocks_per_host
        self.strict = stack.cluster.strict_affinity
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
        more, placed = _replay_pods(self.load.replica(), namespace, steps)
        self.budget.spend(placed * families)
        if more is not None or steps >= placement.total:
            return more, True
        return max(lower, steps), False


def _more_nodes(load: _Load, group, namespaces: list[str], budget: _Budget
                ) -> tuple[int | None, str | None, bool]:
    """(nodes of ``group`` that still start and run a pod of every namespace, or None;
    the first failure; exact?). Replayed on a copy of the load within the budget."""
    per_node = len(load.families) * len(namespaces) + 2  # tunnels: at most ipip + vxlan
    if not budget.spend_on_copy(load.allocations, per_node):
        return 0, None, False
    load = load.replica()
    for added in range(MAX_EXTRA_NODES):
        if not budget.spend(per_node):
            return added, None, False
        name = f"{group.name}-{group.count + added}"
        before = len(load.tunnel_failures)
        load.start_node(name, group)
        if len(load.tunnel_failures) > before:
            return added, load.tunnel_failures[-1].message, True
        for ns in namespaces:
            failure = _failed(load.run_pod(ns, name))
            if failure:
                return added, failure.message, True
        if not namespaces and not load.sim.tunnels():
            return None, None, True  # a new node allocates nothing: no exhaustion point
    return None, None, True


def _stranded(demand: int, size: int) -> tuple[int, int]:
    """(blocks a node needs for ``demand`` addresses, addresses they strand)."""
    blocks = max(1, math.ceil(demand / size))
    return blocks, blocks * size - demand


def _stranded_total(pool, bs: int, groups: list[tuple[int, int]], slots: int,
                    strict_affinity: bool) -> int | None:
    """Addresses stranded at blockSize ``bs`` by nodes at their demand, or None when the
    size does not qualify (fewer blocks than nodes, more than ``slots`` blocks a node,
    or under strict affinity more blocks needed than the pool has)."""
    width = 32 if pool.version == 4 else 128
    if bs < pool.prefixlen:
        return None
    size = 1 << (width - bs)
    blocks = 1 << (bs - pool.prefixlen)
    if blocks < sum(c for c, _ in groups):
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
    low, high = BLOCK_SIZE_RANGE[pool.version]
    nodes = sum(c for c, _ in groups)
    if nodes == 0:
        return None, None, None
    slots = max(1, max_blocks_per_host // 2)
    scored = [(s, bs) for bs in range(low, high + 1)
              if (s := _stranded_total(pool, bs, groups, slots, strict_affinity)) is not None]
    now = _stranded_total(pool, pool.spec.block_size, groups, slots, strict_affinity)
    now_per_node = None if now is None else now // nodes
    if not scored:
        return None, now_per_node, None
    best_stranded = min(s for s, _ in scored)
    best = min(bs for s, bs in scored if s == best_stranded)
    if now is not None and now <= best_stranded:
        return None, now_per_node, None
    return best, now_per_node, best_stranded // nodes


# CIP507 fires on waste only when it is large and in the way: more than this
# share of the pool stranded at the declared load, and too little left in
# unclaimed blocks for the stack's headroom.
STRANDED_SHARE_PERCENT = 25


@dataclass(frozen=True)
class _BlockSizeAdvice:
    recommended: int | None
    problem: str | None
    fix: str | None
    stranded_per_node_now: int | None
    stranded_per_node_recommended: int | None


def _block_size_advice(pool, groups: list[tuple[int, int]], usage: list[int], *,
                       stranded_now: int, borrowed: int, failed: int, limit: int,
                       strict_affinity: bool, headroom_percent: int) -> _BlockSizeAdvice:
    """Whether the current block size causes a concrete problem, and a size that fixes it.

    ``groups`` is (node count, demand a node) as for ``recommend_block_size``;
    ``usage`` the addresses each node got from the pool under the declared
    load (borrowed ones counted on the node that uses them). Problems: fewer
    blocks than nodes; a node at its demand needs more than
    ``maxBlocksPerHost`` blocks; the declared load borrows or fails in the
    pool; more than STRANDED_SHARE_PERCENT of the pool stranded at the declared
    load while the unclaimed blocks cannot hold the stack's headroom (growth
    would then have to borrow from the stranded space of other nodes). A size is recommended only when it
    removes every problem found and qualifies as in ``recommend_block_size``.
    """
    width = 32 if pool.version == 4 else 128
    nodes = sum(c for c, _ in groups)
    if nodes == 0:
        return _BlockSizeAdvice(None, None, None, None, None)
    slots = max(1, limit // 2)
    pool_size = 1 << (width - pool.prefixlen)

    def geometry(bs: int) -> tuple[int, int]:
        return 1 << (bs - pool.prefixlen), 1 << (width - bs)

    def load_blocks(bs: int) -> int:
        return sum(-(-u // geometry(bs)[1]) for u in usage if u)

    def load_stranded(bs: int) -> int:
        return load_blocks(bs) * geometry(bs)[1] - sum(usage)

    bs_now = pool.spec.block_size
    blocks_now, size_now = geometry(bs_now)
    demand = max(d for _, d in groups)
    per_node_now = _stranded(demand, size_now)[0]
    problems: list[str] = []
    checks = []  # what a recommended size must satisfy, one per problem
    if blocks_now < nodes:
        problems.append(f"gives {blocks_now:,} blocks for {nodes:,} nodes that may use it")
        checks.append(lambda bs: geometry(bs)[0] >= nodes)
    if per_node_now > limit:
        problems.append(f"needs {_blocks(per_node_now)} for a node at {demand:,} addresses, "
                        f"more than maxBlocksPerHost {limit}")
        checks.append(lambda bs: _stranded(demand, geometry(bs)[1])[0] <= slots)
    if borrowed or failed:
        what = ", ".join(x for x in (f"{borrowed:,} borrowed" if borrowed else "",
                                     f"{failed:,} refused" if failed else "") if x)
        problems.append(f"makes the declared load need {load_blocks(bs_now):,} blocks of the "
                        f"{blocks_now:,} there are ({what} addresses)")
        checks.append(lambda bs: load_blocks(bs) <= geometry(bs)[0])
    threshold = pool_size * STRANDED_SHARE_PERCENT // 100
    growth = -(-sum(usage) * headroom_percent // 100)  # headroom beyond the declared load

    def outside_claimed(bs: int) -> int:
        blocks, size = geometry(bs)
        return max(0, blocks - load_blocks(bs)) * size

    if stranded_now > threshold and outside_claimed(bs_now) < growth:
        problems.append(f"leaves {_addresses(stranded_now)} of the pool's {pool_size:,} "
                        f"({100 * stranded_now // pool_size}%) unused inside claimed blocks at "
                        f"the declared load, and only {_addresses(outside_claimed(bs_now))} "
                        f"outside them for the {headroom_percent}% headroom ({growth:,})")
        checks.append(lambda bs: load_stranded(bs) <= threshold
                      and outside_claimed(bs) >= growth)
    now_total = _stranded_total(pool, bs_now, groups, slots, strict_affinity)
    now_pn = None if now_total is None else now_total // nodes
    if not problems:
        return _BlockSizeAdvice(None, None, None, now_pn, None)
    low, high = BLOCK_SIZE_RANGE[pool.version]
    fixing = [(s, bs) for bs in range(max(low, pool.prefixlen), high + 1)
              if bs != bs_now
              and (s := _stranded_total(pool, bs, groups, slots, strict_affinity)) is not None
              and all(check(bs) for check in checks)]
    problem = f"blockSize {bs_now} " + "; ".join(problems)
    if not fixing:
        return _BlockSizeAdvice(None, problem, None, now_pn, None)
    best_total = min(s for s, _ in fixing)
    best = min(bs for s, bs in fixing if s == best_total)
    blocks, size = geometry(best)
    fix = (f"blockSize {best} gives {blocks:,} blocks of {_addresses(size)} for {nodes:,} "
           f"nodes; the declared load would claim {load_blocks(best):,} of them and strand "
           f"{_addresses(load_stranded(best))}; a node at {demand:,} addresses takes "
           f"{_blocks(_stranded(demand, size)[0])} of maxBlocksPerHost {limit}")
    return _BlockSizeAdvice(best, problem, fix, now_pn, best_total // nodes)


def _pool_demands(stack: Stack, capacities) -> dict[str, list[tuple[int, int]]]:
    """Per pool: (node count, addresses a node needs) for each node group using it.

    A pool that serves a group automatically may get any pod: maxPods. A pool
    used only through namespace annotations gets those namespaces' expected
    pods plus headroom, spread over the nodes, at most maxPods. A node's
    tunnel address comes from the first tunnel pool in name order. No node can
    get more than the pool's addresses divided by the nodes using it.
    """
    from ...calico.ipam.simulator import _selector_matches
    from ..capacity import with_headroom

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
    return _forecast(stack, node_groups=True)


def _forecast(stack: Stack, *, node_groups: bool) -> Forecast:
    """``forecast``; without ``node_groups`` the groups' "how many more nodes" searches are
    skipped (``groups`` is then empty). They run last, so nothing else changes."""
    from ..capacity import pool_capacity

    load = _Load(stack)
    sim = load.sim
    cluster = stack.cluster
    limit = cluster.effective_max_blocks_per_host
    group_of = {n: g for n, g, _ in load.nodes}
    addresses = [r for pods in load.results.values() for pod in pods for r in pod]
    allocated = [r for r in addresses if isinstance(r, PodAllocation)]
    capacities = pool_capacity(stack)
    demands = _pool_demands(stack, capacities)

    claimed: dict[str, list] = {}
    for b in sim.blocks():
        claimed.setdefault(b.pool, []).append(b)
    borrowed: dict[str, int] = {}
    usage: dict[str, dict[str, int]] = {}  # pool -> node -> addresses its pods and tunnel got
    for a in [*allocated, *sim.tunnels()]:
        if a.borrowed:
            borrowed[a.pool] = borrowed.get(a.pool, 0) + 1
        per_node = usage.setdefault(a.pool, {})
        per_node[a.node] = per_node.get(a.node, 0) + 1
    failed_in: dict[str, int] = {}  # refused requests, charged to the pools they tried
    for ns, pods in load.results.items():
        for pod in pods:
            for r in pod:
                if isinstance(r, AllocationFailure):
                    for name in sorted(stack.pools):
                        if stack.pools[name].spec.cidr in r.message:
                            failed_in[name] = failed_in.get(name, 0) + 1

    pool_forecasts = []
    for cap in capacities:
        pool = stack.pools[cap.name]
        groups = demands[cap.name]
        mine = claimed.get(cap.name, [])
        stranded = sum(b.free for b in mine)
        advice = _block_size_advice(
            pool, groups, list(usage.get(cap.name, {}).values()), stranded_now=stranded,
            borrowed=borrowed.get(cap.name, 0), failed=failed_in.get(cap.name, 0),
            limit=limit, strict_affinity=cluster.strict_affinity,
            headroom_percent=cluster.headroom_percent)
        pool_forecasts.append(PoolForecast(
            pool=cap.name, cidr=cap.cidr, block_size=cap.block_size,
            block_addresses=cap.block_addresses, blocks_total=cap.blocks,
            blocks_claimed=len(mine), nodes_using=sum(c for c, _ in groups),
            demand_per_node=max((d for _, d in groups), default=0),
            blocks_needed=sum(c * min(limit, _stranded(d, cap.block_addresses)[0])
                              for c, d in groups),
            addresses_in_use=sum(b.allocated for b in mine),
            stranded_addresses=stranded,
            borrowed_addresses=borrowed.get(cap.name, 0),
            recommended_block_size=advice.recommended,
            stranded_per_node_now=advice.stranded_per_node_now,
            stranded_per_node_recommended=advice.stranded_per_node_recommended,
            block_size_problem=advice.problem, block_size_fix=advice.fix))

    budget = _Budget(MAX_REPLAY_ALLOCATIONS)
    ns_forecasts = []
    more_pods = _MorePods(stack, load, budget) if load.nodes else None
    for ns in sorted(stack.bindings):
        binding = stack.bindings[ns]
        pods = load.results.get(ns, [])
        failures = [f for pod in pods if (f := _failed(pod))]
        got = [r for pod in pods for r in pod if isinstance(r, PodAllocation)]
        more, exact = more_pods.answer(ns) if more_pods else (None, True)
        ns_forecasts.append(NamespaceForecast(
            namespace=ns, expected_pods=binding.expected_pods or 0,
            allocated=len(pods) - len(failures),
            borrowed=len({r.pod for r in got if r.borrowed}),
            failed=len(failures), unschedulable=load.unschedulable.get(ns, 0),
            first_failure=f"{failures[0].node}: {failures[0].message}" if failures else None,
            pools=tuple(sorted({r.pool for r in got})),
            more_pods_until_failure=more, pods_until_nodes_full=load.room(),
            more_pods_is_lower_bound=not exact))

    namespaces_with_pods = sorted(ns for ns, b in stack.bindings.items() if b.expected_pods)
    members: dict[str, list[str]] = {}
    for n, grp in group_of.items():
        members.setdefault(grp, []).append(n)
    group_forecasts = []
    for g in (cluster.node_groups if node_groups else ()):
        names = set(members.get(g.name, ()))
        more, first, exact = _more_nodes(load, g, namespaces_with_pods, budget)
        group_forecasts.append(GroupForecast(
            group=g.name, nodes=g.count, max_pods=g.max_pods,
            pods_placed=sum(load.pods_on[n] for n in names),
            borrowing_nodes=len({p.node for p in allocated if p.borrowed and p.node in names}),
            max_blocks_on_a_node=max((len(sim.node_blocks(n)) for n in names), default=0),
            more_nodes_until_failure=more, first_failure=first,
            more_nodes_is_lower_bound=not exact))

    return Forecast(stack=stack.name, nodes=len(load.nodes),
                    strict_affinity=cluster.strict_affinity, max_blocks_per_host=limit,
                    pools=tuple(pool_forecasts), groups=tuple(group_forecasts),
                    namespaces=tuple(ns_forecasts),
                    tunnel_failures=tuple(f"{f.node} ({f.kind}): {f.message}"
                                          for f in load.tunnel_failures))


# --------------------------------------------------------------------------
# Fast path for `check`: prove that no forecast finding can fire
#
# The argument, in blocks per node as Calico allocates. Take every request the
# findings look at: the nodes' tunnel addresses, the declared pods and, per
# namespace, the extra pods of its headroom (CIP508 fires only when one of
# those fails). For a pool p with B blocks of S addresses let T be the requests
# whose route (the pools Calico may try, in order) contains p, and cap(n) the
# ones of them on node n: at most min(maxPods, T's pods) plus its tunnels.
#
# 1. Until the first request that finds p without an unclaimed block, nothing
#    borrows in p, so a node's p blocks hold only its own addresses. A node
#    claims its k-th p block only when its blocks are full: 1 + (k-1)*S of its
#    requests went through p, and it holds at most min(maxBlocksPerHost,
#    ceil(cap/S)) of them. Giving first blocks to as many nodes as T allows and
#    S requests to every further block bounds the claims by
#    U = f + min(further blocks the f roomiest nodes may hold, (T - f) // S),
#    f = min(nodes with cap >= 1, T). The request finding p full would claim
#    one more, so with U <= B it never comes: p never borrows, never runs dry.
# 2. A request refused at the block limit holds maxBlocksPerHost full blocks of
#    its route R: more than limit * (smallest S in R) of its node's requests go
#    through R. When the requests on any node that may touch R stay within
#    that, no request hits the limit.
#    2b. A request is refused at the limit only when all its node's blocks of R
#    are full. A block of a pool that never borrows (1) holds only its node's
#    addresses, so full it took S of them; a block of a borrowing pool (4) took
#    at least one (its first request) and every further one of the node's
#    blocks there S more, since claims precede borrowing. With A of the
#    node's requests through R before the refused one and b borrowing pools
#    in R, it holds at most min(b, A) + (A - min(b, A)) // (smallest S in R)
#    blocks of R; below maxBlocksPerHost, nothing is refused at the limit.
# 3. With 1 and 2 for every pool and route and no route refused outright,
#    nothing fails or borrows: no CIP508, no CIP509, and CIP507's "borrows or
#    refuses" problem is absent.
# 4. A pool where U > B may borrow (CIP509, reported unless CIP502 explains
#    it; under strictAffinity a refusal: no proof). Nothing fails there still
#    when: a route with another pool never gets to borrow (that pool keeps
#    unclaimed blocks); a route of such pools only runs dry once every
#    address of its pools is taken, so the requests touching it must fit in
#    them; and since every claim in p comes before p's first borrow, a node
#    holds at most ceil((its requests through p - 1) / S) p blocks when one
#    more request comes, which must stay below maxBlocksPerHost over the route. Its other problems are exact from the
#    declaration (blocks < nodes, a node at its demand beyond the block limit)
#    or bounded: stranded space is below S per node holding addresses (at most
#    f nodes of the declared load), and the unclaimed blocks are at least
#    B - U of the declared load's U.
# Anything else (duplicate node names, refused routes, a bound that fails) falls
# back to the full forecast: the proof only ever skips work, never findings.


@dataclass(frozen=True)
class _Clearance:
    pools: frozenset[str]  # pools for which CIP507 and CIP509 cannot fire
    stack: bool            # no CIP507/CIP508/CIP509 at all


def _most_blocks(requests: int, size: int, nodes: list[tuple[int, int]]) -> int:
    """Most blocks ``requests`` can claim at ``size`` addresses a block when
    ``nodes`` are (node count, most blocks one of them may hold): a first block
    costs one request, every further one ``size`` requests."""
    ranked = sorted(((m, c) for c, m in nodes if m > 0), reverse=True)
    first = min(requests, sum(c for _, c in ranked))
    further, left = 0, first
    for m, c in ranked:
        take = min(c, left)
        further += take * (m - 1)
        left -= take
        if not left:
            break
    return first + min(further, (requests - first) // size)


class _Unit:
    """Nodes that Calico treats alike: one node group, or one node when a
    nodeSelector names nodes by hostname."""

    def __init__(self, name: str, labels: dict, count: int, max_pods: int):
        self.name, self.labels, self.count, self.max_pods = name, labels, count, max_pods
        self.tunnels: list[frozenset[str]] = []             # one route per tunnel address
        self.pods: dict[frozenset[str], list[int]] = {}     # route -> [declared, with headroom]
        self._by_pool: dict[str, list[int]] | None = None

    def requests(self, route: frozenset[str], declared: bool) -> int:
        """Requests of one node of the unit whose route shares a pool with ``route``."""
        i = 0 if declared else 1
        if len(route) == 1:
            if self._by_pool is None:
                self._by_pool = {}
                for r, n in self.pods.items():
                    for p in r:
                        entry = self._by_pool.setdefault(p, [0, 0])
                        entry[0] += n[0]
                        entry[1] += n[1]
            (p,) = route
            pods = self._by_pool.get(p, (0, 0))[i]
        else:
            pods = sum(n[i] for r, n in self.pods.items() if r & route)
        return min(self.max_pods, pods) + sum(1 for t in self.tunnels if t & route)


def _clearance(stack: Stack, capacities, covered) -> _Clearance:
    """Pools (and whether the whole stack) the forecast provably finds nothing for."""
    from ...calico.ipam.simulator import TUNNEL, WORKLOAD, _Refused

    cluster = stack.cluster
    headroom = cluster.headroom_percent
    pool_level = frozenset(c.name for c in capacities if covered(f"pool/{c.name}", "CIP502"))
    nothing = _Clearance(pool_level, False)
    chooser = _PoolChooser(stack.pools.values())  # the simulator's pool choice, nothing else
    limit = cluster.effective_max_blocks_per_host
    names = [n for g in cluster.node_groups for n in node_names(g.name, g.count)]
    if len(set(names)) != len(names):
        return nothing
    by_hostname = any(NODE_NAME_LABEL in p.spec.node_selector for p in stack.pools.values())
    units = []
    for g in cluster.node_groups:
        members = node_names(g.name, g.count if by_hostname else min(1, g.count))
        for name in members:
            units.append(_Unit(name, {NODE_NAME_LABEL: name, **g.labels},
                               1 if by_hostname else g.count, g.max_pods))
    families = families_in_use(stack.pools.values())
    # A route depends on the namespace only through its annotation, or without one
    # through its labels and name when a namespaceSelector may test them: namespaces
    # of one shape share every route, so their pods are counted together.
    ns_selectors = any(p.spec.namespace_selector for p in stack.pools.values())
    shapes: dict[tuple, list] = {}  # (family, shape) -> [a namespace, declared, with headroom]
    for ns, b in stack.bindings.items():
        if not b.expected_pods:
            continue
        declared = b.expected_pods
        wanted = declared + math.ceil(declared * headroom / 100)
        for v in families:
            entries = b.ipv4_pools if v == 4 else b.ipv6_pools
            shape = ((tuple(entries),) if entries else
                     (None, tuple(sorted(b.labels.items())), ns) if ns_selectors else (None,))
            entry = shapes.get((v, shape))
            if entry is None:
                shapes[(v, shape)] = [ns, declared, wanted]
            else:
                entry[1] += declared
                entry[2] += wanted
    infos = namespaces_from_bindings({e[0]: stack.bindings[e[0]] for e in shapes.values()})

    reach: dict[tuple, set[str]] = {}  # (family, shape) -> pools its pods may use
    annotated: dict[tuple, frozenset[str]] = {}
    try:
        for u in units:
            for kind, pools in chooser.tunnel_pools(u.name, u.labels).items():
                _, route = chooser.choose(4, u.name, u.labels, None, [p.cidr for p in pools],
                                          TUNNEL)
                u.tunnels.append(route)
            if u.count == 0 or u.max_pods <= 0:
                continue
            for key, (ns, declared, wanted) in shapes.items():
                # An annotation names its pools whatever the node: one look-up serves all.
                route = annotated.get(key) if key[1][0] is not None else None
                if route is None:
                    route = chooser.choose(key[0], u.name, u.labels, infos[ns], None,
                                           WORKLOAD)[1]
                    if key[1][0] is not None:
                        annotated[key] = route
                reach.setdefault(key, set()).update(route)
                entry = u.pods.setdefault(route, [0, 0])
                entry[0] += declared
                entry[1] += wanted
    except _Refused:
        return nothing  # some request fails outright
    through: dict[str, list[int]] = {}  # pool -> [declared, with headroom] pod requests
    for key, pools in reach.items():  # a pod counts once per pool
        _, declared, wanted = shapes[key]
        for p in pools:
            entry = through.setdefault(p, [0, 0])
            entry[0] += declared
            entry[1] += wanted
    tunnels_in: dict[str, int] = {}  # pool -> tunnel requests whose route contains it
    for u in units:
        for t in u.tunnels:
            for p in t:
                tunnels_in[p] = tunnels_in.get(p, 0) + u.count

    def bound(p: str, declared: bool) -> tuple[int, int]:
        """(most blocks the requests can claim in p, most nodes holding addresses of p)."""
        info = chooser.by_name[p]
        size = info.block_addresses
        requests = through.get(p, [0, 0])[0 if declared else 1] + tunnels_in.get(p, 0)
        only = frozenset((p,))
        nodes = [(u.count, min(limit, -(-u.requests(only, declared) // size))) for u in units]
        holders = min(requests, sum(c for c, m in nodes if m))
        return _most_blocks(requests, size, nodes), holders

    # 1: pools that may run out of unclaimed blocks (and then borrow or refuse)
    borrowing = {i.name for i in chooser.infos
                 if i.enabled and bound(i.name, False)[0] > i.num_blocks}
    if borrowing and cluster.strict_affinity:
        return nothing
    tunnels = [(u.count, t) for u in units for t in u.tunnels]
    for route in {r for u in units if u.count for r in (*u.pods, *u.tunnels)}:
        if route <= borrowing:  # 4: the borrowing loop finds a free address
            requests = (sum(shapes[key][2] for key, pools in reach.items() if pools & route)
                        + sum(c for c, t in tunnels if t & route))
            if requests > sum(chooser.by_name[p].num_blocks * chooser.by_name[p].block_addresses
                              for p in route):
                return nothing
    for u in units:  # 2: no node reaches the block limit on any route it uses
        if not u.count:
            continue
        for route in {*u.pods, *u.tunnels}:
            smallest = min(chooser.by_name[p].block_addresses for p in route)
            held = len(route & borrowing)

            def most_held(own: int) -> int:  # 2b, ``own``: the node's requests through route
                firsts = min(held, max(0, own - 1))
                return firsts + max(0, own - 1 - firsts) // smallest

            if most_held(u.max_pods + len(u.tunnels)) < limit:
                continue  # no node of the unit makes more requests than that
            if most_held(u.requests(route, False)) < limit:
                continue
            if sum(-(-max(0, u.requests(frozenset((p,)), False) - 1)
                     // chooser.by_name[p].block_addresses) for p in route) >= limit:
                return nothing

    demands = _pool_demands(stack, capacities)
    block_limit = cluster.effective_max_blocks_per_host
    clear = set(pool_level)
    for cap in capacities:  # 3: CIP507's other problems
        subject = f"pool/{cap.name}"
        if cap.name in clear:
            continue
        if cap.name in borrowing:  # CIP509, unless CIP502 explains it
            continue
        if covered(subject, "CIP505"):
            clear.add(cap.name)
            continue
        pool = stack.pools[cap.name]
        groups = demands[cap.name]
        nodes = sum(c for c, _ in groups)
        if nodes == 0:
            clear.add(cap.name)
            continue
        width = 32 if pool.version == 4 else 128
        blocks, size = 1 << (pool.spec.block_size - pool.prefixlen), 1 << (width - pool.spec.block_size)
        if blocks < nodes or _stranded(max(d for _, d in groups), size)[0] > block_limit:
            continue
        if cap.name not in chooser.by_name or not chooser.by_name[cap.name].enabled:
            clear.add(cap.name)  # never allocated from: nothing stranded
            continue
        claimed, holders = bound(cap.name, True)
        used = through.get(cap.name, [0, 0])[0] + tunnels_in.get(cap.name, 0)
        threshold = (1 << (width - pool.prefixlen)) * STRANDED_SHARE_PERCENT // 100
        growth = -(-used * headroom // 100)
        if holders * (size - 1) <= threshold or (blocks - claimed) * size >= growth:
            clear.add(cap.name)
    everything = all(c.name in clear for c in capacities)
    return _Clearance(frozenset(clear), everything)


def forecast_findings(stack: Stack, *, fast: bool = True,
                      capacity: Iterable[Finding] | None = None) -> list[Finding]:
    """CIP507/CIP508/CIP509 for one stack (nothing without node groups or pools).

    ``fast`` first tries to prove that nothing can fire (``_clearance``) and
    runs the simulator only when it cannot; ``fast=False`` always runs it.
    ``capacity``: the stack's ``capacity.capacity_findings`` when the caller
    has them already (a finding a static rule reports is left out here).
    """
    # The proof and the simulator allocate heavily and create no cycles; with a
    # fleet loaded, each collection would re-scan every stack (~20% of the time).
    with paused_gc():
        return _forecast_findings(stack, fast=fast, capacity=capacity)


def _forecast_findings(stack: Stack, *, fast: bool,
                       capacity: Iterable[Finding] | None) -> list[Finding]:
    if not stack.cluster.node_groups or not stack.pools:
        return []
    from ..capacity import capacity_findings, pool_capacity

    if capacity is None:
        capacity = capacity_findings(stack)
    static = {(f.rule, f.subject) for f in capacity}

    def covered(subject: str, *rules: str) -> bool:
        return any((r, subject) in static for r in rules)

    if fast and _clearance(stack, pool_capacity(stack), covered).stack:
        return []
    # The node-group searches feed no finding: leave them out.
    result = forecast(stack) if not fast else _forecast(stack, node_groups=False)
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
        elif (ns.expected_pods and ns.more_pods_until_failure is not None
              and not ns.more_pods_is_lower_bound):
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
                f"pool {pool.pool} ({pool.cidr}): now {pool.block_size_problem}. Instead, "
                f"{pool.block_size_fix}. blockSize is immutable, so this means a new pool and "
                f"a migration", subject, stack.pool_location(pool.pool, "blockSize"),
                stack=stack.name))
    return findings


def _blocks(n: int) -> str:
    return f"{n:,} block" + ("" if n == 1 else "s")


def _addresses(n: int | None) -> str:
    return f"{n:,} address" + ("" if n == 1 else "es")
