"""The fast path for ``check``: prove that no forecast finding can fire.

The argument, in blocks per node as Calico allocates. Take every request the
findings look at: the nodes' tunnel addresses, the declared pods and, per
namespace, the extra pods of its headroom (CIP508 fires only when one of
those fails). For a pool p with B blocks of S addresses let T be the requests
whose route (the pools Calico may try, in order) contains p, and cap(n) the
ones of them on node n: at most min(maxPods, T's pods) plus its tunnels.

``clearance`` first builds the units (nodes Calico treats alike), the request
shapes (namespaces that share every route) and the route table, then runs the
numbered steps, each a function below whose docstring is that step of the
proof. Anything else (duplicate node names, refused routes, a bound that
fails) falls back to the full forecast: the proof only ever skips work, never
findings.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from ...calico.ipam.chooser import (
    NODE_NAME_LABEL,
    TUNNEL,
    WORKLOAD,
    PoolChooser,
    Refused,
)
from ...calico.ipam.from_stack import (
    families_in_use,
    namespaces_from_bindings,
    node_names,
)
from ...core.model import Stack
from ..capacity import PoolCapacity
from .block_size import STRANDED_SHARE_PERCENT, pool_demands, stranded

# covered(subject, *rules): a static capacity rule already reports the subject
Covered = Callable[..., bool]


@dataclass(frozen=True)
class Clearance:
    pools: frozenset[str]  # pools for which CIP507 and CIP509 cannot fire
    stack: bool            # no CIP507/CIP508/CIP509 at all


def clearance(stack: Stack, capacities: Sequence[PoolCapacity], covered: Covered) -> Clearance:
    """Pools (and whether the whole stack) the forecast provably finds nothing for."""
    pool_level = frozenset(c.name for c in capacities if covered(f"pool/{c.name}", "CIP502"))
    nothing = Clearance(pool_level, False)
    if any(c.reserved for c in capacities):
        return nothing  # the bounds assume whole blocks of S addresses; reservations break that
    if not stack.allocator.auto_allocate_blocks:
        return nothing  # no node claims a block: the first request of each fails
    units = _units(stack)
    if units is None:
        return nothing
    routes = _route_table(stack, units, _request_shapes(stack))
    if routes is None:
        return nothing  # some request fails outright
    borrowing = _pools_that_may_borrow(routes)
    if borrowing and stack.allocator.strict_affinity:
        return nothing  # step 4: borrowing is a refusal there
    dry = _routes_that_may_run_dry(routes, borrowing)
    if dry and not _dry_routes_are_explained(stack, routes, dry, pool_level, covered):
        return nothing
    if not _no_node_reaches_block_limit(routes, borrowing):
        return nothing
    clear = _pools_without_block_size_problem(stack, capacities, routes, borrowing, covered,
                                              pool_level, _released_by_refusals(stack, routes,
                                                                                dry))
    return Clearance(frozenset(clear), all(c.name in clear for c in capacities))


# --------------------------------------------------------------------------
# Units, request shapes, routes


_NO_REQUESTS = (0, 0, 0)


class _Unit:
    """Nodes that Calico treats alike: one node group, or one node when a
    nodeSelector names nodes by hostname."""

    def __init__(self, name: str, labels: dict, count: int, max_pods: int):
        self.name, self.labels, self.count, self.max_pods = name, labels, count, max_pods
        self.tunnels: list[frozenset[str]] = []             # one route per tunnel address
        self.pods: dict[frozenset[str], list[int]] = {}     # route -> [declared, with headroom]
        self._by_pool: dict[str, list[int]] | None = None   # pool -> pods, then tunnels

    def requests(self, route: frozenset[str], declared: bool) -> int:
        """Requests of one node of the unit whose route shares a pool with ``route``."""
        i = 0 if declared else 1
        if len(route) == 1:
            # One pool (every bound in ``claims``): the unit's requests per pool,
            # counted once when the routes are complete.
            by_pool = self._by_pool
            if by_pool is None:
                by_pool = self._by_pool = {}
                for r, n in self.pods.items():
                    for p in r:
                        entry = by_pool.setdefault(p, [0, 0, 0])
                        entry[0] += n[0]
                        entry[1] += n[1]
                for t in self.tunnels:
                    for p in t:
                        by_pool.setdefault(p, [0, 0, 0])[2] += 1
            (p,) = route
            entry = by_pool.get(p, _NO_REQUESTS)
            return min(self.max_pods, entry[i]) + entry[2]
        pods = sum(n[i] for r, n in self.pods.items() if r & route)
        return min(self.max_pods, pods) + sum(1 for t in self.tunnels if t & route)


def _units(stack: Stack) -> list[_Unit] | None:
    """The node groups as units, or None when two nodes would share a name."""
    groups = stack.cluster.node_groups
    names = [n for g in groups for n in node_names(g.name, g.count)]
    if len(set(names)) != len(names):
        return None
    by_hostname = any(NODE_NAME_LABEL in p.spec.node_selector for p in stack.pools.values())
    units = []
    for g in groups:
        members = node_names(g.name, g.count if by_hostname else min(1, g.count))
        for name in members:
            units.append(_Unit(name, {NODE_NAME_LABEL: name, **g.labels},
                               1 if by_hostname else g.count, g.max_pods))
    return units


def _shape_keys(stack: Stack):
    """(namespace, binding, [(family, shape)] for each family in use) of every
    namespace that expects pods.

    A route depends on the namespace only through its annotation, or without one
    through its labels and name when a namespaceSelector may test them: namespaces
    of one shape share every route. A shape is ``(entries,)`` when annotated,
    ``(None, ...)`` when not.
    """
    families = families_in_use(stack.pools.values())
    ns_selectors = any(p.spec.namespace_selector for p in stack.pools.values())
    for ns, b in stack.bindings.items():
        if not b.expected_pods:
            continue
        keys = []
        for v in families:
            entries = b.ipv4_pools if v == 4 else b.ipv6_pools
            shape = ((tuple(entries),) if entries else
                     (None, tuple(sorted(b.labels.items())), ns) if ns_selectors else (None,))
            keys.append((v, shape))
        yield ns, b, keys


def _request_shapes(stack: Stack) -> dict[tuple, list]:
    """(family, shape) -> [a namespace, declared pods, with headroom]: the pods of
    namespaces of one shape (``_shape_keys``) are counted together."""
    headroom = stack.cluster.headroom_percent
    shapes: dict[tuple, list] = {}
    for ns, b, keys in _shape_keys(stack):
        declared = b.expected_pods
        wanted = declared + math.ceil(declared * headroom / 100)
        for key in keys:
            entry = shapes.get(key)
            if entry is None:
                shapes[key] = [ns, declared, wanted]
            else:
                entry[1] += declared
                entry[2] += wanted
    return shapes


@dataclass(frozen=True)
class _Routes:
    """Every request's route, and the requests through each pool."""

    chooser: PoolChooser              # the simulator's pool choice, nothing else
    limit: int                        # maxBlocksPerHost in effect
    units: list[_Unit]
    shapes: dict[tuple, list]
    reach: dict[tuple, set[str]]      # (family, shape) -> pools its pods may use
    by_shape: dict[tuple, set[frozenset[str]]]  # (family, shape) -> its pods' routes
    through: dict[str, list[int]]     # pool -> [declared, with headroom] pod requests
    tunnels_in: dict[str, int]        # pool -> tunnel requests whose route contains it

    def claims(self, p: str, declared: bool) -> tuple[int, int]:
        """(most blocks the requests can claim in p, most nodes holding addresses of p)."""
        size = self.chooser.by_name[p].block_addresses
        requests = self.through.get(p, [0, 0])[0 if declared else 1] + self.tunnels_in.get(p, 0)
        only = frozenset((p,))
        nodes = [(u.count, min(self.limit, -(-u.requests(only, declared) // size)))
                 for u in self.units]
        holders = min(requests, sum(c for c, m in nodes if m))
        return _most_blocks(requests, size, nodes), holders


def _route_table(stack: Stack, units: list[_Unit], shapes: dict[tuple, list]) -> _Routes | None:
    """Each request's route from Calico's pool choice, or None if one is refused."""
    chooser = PoolChooser(stack.pools.values())
    infos = namespaces_from_bindings({e[0]: stack.bindings[e[0]] for e in shapes.values()})
    by_shape: dict[tuple, set[frozenset[str]]] = {}
    try:
        reach = _route_requests(units, shapes, infos, chooser, by_shape)
    except Refused:
        return None
    through: dict[str, list[int]] = {}
    for key, pools in reach.items():  # a pod counts once per pool
        _, declared, wanted = shapes[key]
        for p in pools:
            entry = through.setdefault(p, [0, 0])
            entry[0] += declared
            entry[1] += wanted
    tunnels_in: dict[str, int] = {}
    for u in units:
        for t in u.tunnels:
            for p in t:
                tunnels_in[p] = tunnels_in.get(p, 0) + u.count
    return _Routes(chooser, stack.allocator.effective_max_blocks_per_host, units, shapes, reach,
                   by_shape, through, tunnels_in)


def _route_requests(units: list[_Unit], shapes: dict[tuple, list], infos: dict,
                    chooser: PoolChooser, by_shape: dict[tuple, set[frozenset[str]]]
                    ) -> dict[tuple, set[str]]:
    """Fill in each unit's tunnel routes and pod requests per route, and each shape's
    routes (``by_shape``); return the pools each shape's pods may use. Raises
    ``Refused`` as Calico would refuse a request."""
    reach: dict[tuple, set[str]] = {}
    # An annotation names its pools whatever the node: the annotated shapes' requests
    # per route are the same on every unit, worked out on the first that runs pods.
    annotated: dict[frozenset[str], list[int]] | None = None
    for u in units:
        for kind, (version, pools) in chooser.tunnel_pools(u.name, u.labels).items():
            _, route = chooser.choose(version, u.name, u.labels, None,
                                      [p.cidr for p in pools], TUNNEL)
            u.tunnels.append(route)
        if u.count == 0 or u.max_pods <= 0:
            continue
        if annotated is None:
            annotated = {}
            for key, (ns, declared, wanted) in shapes.items():
                if key[1][0] is not None:
                    route = chooser.choose(key[0], u.name, u.labels, infos[ns], None,
                                           WORKLOAD)[1]
                    _add_requests(annotated, route, declared, wanted)
                    reach.setdefault(key, set()).update(route)
                    by_shape.setdefault(key, set()).add(route)
        u.pods = {route: list(n) for route, n in annotated.items()}
        for key, (ns, declared, wanted) in shapes.items():
            if key[1][0] is None:
                route = chooser.choose(key[0], u.name, u.labels, infos[ns], None, WORKLOAD)[1]
                _add_requests(u.pods, route, declared, wanted)
                reach.setdefault(key, set()).update(route)
                by_shape.setdefault(key, set()).add(route)
    return reach


def _add_requests(pods: dict[frozenset[str], list[int]], route: frozenset[str],
                  declared: int, wanted: int) -> None:
    entry = pods.setdefault(route, [0, 0])
    entry[0] += declared
    entry[1] += wanted


def _released_by_refusals(stack: Stack, routes: _Routes, dry: set[frozenset[str]]
                          ) -> dict[str, int]:
    """Step 5 for step 3: a pod refused on a dry route gives back what its other
    family got (cni-plugin ipam_plugin.go:412-450), a free address in a claimed
    block beyond step 3's "below S per node": at most one per pod of those
    namespaces, in each pool of their other routes."""
    out: dict[str, int] = {}
    if not dry:
        return out
    for _, b, keys in _shape_keys(stack):
        own = [routes.by_shape.get(key, ()) for key in keys]
        if not any(r in dry for rs in own for r in rs):
            continue
        for rs in own:
            for route in rs:
                if route not in dry:
                    for p in route:
                        out[p] = out.get(p, 0) + b.expected_pods
    return out


# --------------------------------------------------------------------------
# The proof, step by step


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


def _pools_that_may_borrow(routes: _Routes) -> set[str]:
    """Step 1: the pools that may run out of unclaimed blocks (and then borrow or refuse).

    Until the first request that finds p without an unclaimed block, nothing
    borrows in p, so a node's p blocks hold only its own addresses. A node
    claims its k-th p block only when its blocks are full: 1 + (k-1)*S of its
    requests went through p, and it holds at most min(maxBlocksPerHost,
    ceil(cap/S)) of them. Giving first blocks to as many nodes as T allows and
    S requests to every further block bounds the claims by
    U = f + min(further blocks the f roomiest nodes may hold, (T - f) // S),
    f = min(nodes with cap >= 1, T). The request finding p full would claim
    one more, so with U <= B it never comes: p never borrows, never runs dry.
    """
    return {i.name for i in routes.chooser.infos
            if i.enabled and routes.claims(i.name, False)[0] > i.num_blocks}


def _routes_that_may_run_dry(routes: _Routes, borrowing: set[str]) -> set[frozenset[str]]:
    """Step 4: the routes where requests may fail in the pools that may borrow.

    A pool where U > B may borrow (CIP509, reported unless CIP502 explains
    it; under strictAffinity a refusal: no proof). Nothing fails there still
    when: a route with another pool never gets to borrow (that pool keeps
    unclaimed blocks); a route of such pools only runs dry once every
    address of its pools is taken, so the requests touching it must fit in
    them (the routes where they may not are returned, for step 5); and since
    every claim in p comes before p's first borrow, a node holds at most
    ceil((its requests through p - 1) / S) p blocks when one more request
    comes, which must stay below maxBlocksPerHost over the route (checked
    with step 2, ``_no_node_reaches_block_limit``).
    """
    by_name = routes.chooser.by_name
    tunnels = [(u.count, t) for u in routes.units for t in u.tunnels]
    dry = set()
    for route in {r for u in routes.units if u.count for r in (*u.pods, *u.tunnels)}:
        if route <= borrowing:  # the borrowing loop finds a free address
            requests = (sum(routes.shapes[key][2] for key, pools in routes.reach.items()
                            if pools & route)
                        + sum(c for c, t in tunnels if t & route))
            if requests > _addresses(routes, route):
                dry.add(route)
    return dry


def _addresses(routes: _Routes, pools: Iterable[str]) -> int:
    by_name = routes.chooser.by_name
    return sum(by_name[p].num_blocks * by_name[p].block_addresses for p in pools)


def _dry_routes_are_explained(stack: Stack, routes: _Routes, dry: set[frozenset[str]],
                              pool_level: frozenset[str], covered: Covered) -> bool:
    """Step 5: whether every finding a route running dry may cause is one the
    static rules already explain.

    Requests fail only on the routes of step 4; what they may cause is CIP509
    and CIP507 on those pools and CIP508 on the namespaces drawing from them.
    With CIP502 on every such pool, the pool findings are left out, and so is
    a namespace's CIP508 once one of its pods got its addresses (it then drew
    from a pool CIP502 explains), or when CIP503/CIP504 reports it. The
    proof holds when: no tunnel goes through those pools; only annotated
    namespaces run dry there (an annotation's route is the same on every node); no
    other pool's CIDR is part of theirs (a refusal is charged to each pool whose
    CIDR its message quotes); and every such namespace not reported itself
    either finds the nodes full (the pods of the namespaces placed before it,
    in name order, reach the nodes' maxPods: it gets no pod, so none fails,
    and no more pods fit) or finds, on each of its dry routes, a free address
    for its first pod (those namespaces' pods touching the route's pools are
    fewer than its addresses; a pod asks once per family). A failed pod keeps
    nothing and was counted as a request in steps 1 and 4: the other routes'
    bounds stand.
    """
    dry_pools = frozenset().union(*dry)
    if not dry_pools <= pool_level:
        return False
    if any(t & dry_pools for u in routes.units if u.count for t in u.tunnels):
        return False
    texts = [routes.chooser.by_name[p].cidr for p in dry_pools]
    if any(pool.spec.cidr in text for name, pool in stack.pools.items()
           if name not in dry_pools for text in texts):
        return False
    if any(key[1][0] is None and not dry.isdisjoint(own)
           for key, own in routes.by_shape.items()):
        return False
    slots = sum(g.count * g.max_pods for g in stack.cluster.node_groups)
    before, touching = 0, {route: 0 for route in dry}  # pods placed so far, per dry route
    for ns, b, keys in sorted(_shape_keys(stack), key=lambda item: item[0]):
        reach = [frozenset(routes.reach.get(key, ())) for key in keys]
        mine = [r for key in keys for r in routes.by_shape.get(key, ()) if r in dry]
        if (mine and before < slots and not covered(f"namespace/{ns}", "CIP503", "CIP504")
                and any(touching[r] >= _addresses(routes, r) for r in mine)):
            return False
        before += b.expected_pods
        for route in dry:
            if any(r & route for r in reach):
                touching[route] += b.expected_pods
    return True


def _no_node_reaches_block_limit(routes: _Routes, borrowing: set[str]) -> bool:
    """Steps 2 and 2b: whether no node reaches the block limit on any route it uses.

    2. A request refused at the block limit holds maxBlocksPerHost full blocks of
    its route R: more than limit * (smallest S in R) of its node's requests go
    through R. When the requests on any node that may touch R stay within
    that, no request hits the limit.

    2b. A request is refused at the limit only when all its node's blocks of R
    are full. A block of a pool that never borrows (1) holds only its node's
    addresses, so full it took S of them; a block of a borrowing pool (4) took
    at least one (its first request) and every further one of the node's
    blocks there S more, since claims precede borrowing. With A of the
    node's requests through R before the refused one and b borrowing pools
    in R, it holds at most min(b, A) + (A - min(b, A)) // (smallest S in R)
    blocks of R; below maxBlocksPerHost, nothing is refused at the limit.

    Failing both, step 4's bound per pool of the route decides.
    """
    for u in routes.units:
        if not u.count:
            continue
        for route in {*u.pods, *u.tunnels}:
            if _may_reach_limit(routes, u, route, borrowing):
                return False
    return True


def _may_reach_limit(routes: _Routes, u: _Unit, route: frozenset[str],
                     borrowing: set[str]) -> bool:
    """Whether a node of ``u`` may be refused at the block limit on ``route``."""
    by_name, limit = routes.chooser.by_name, routes.limit
    smallest = min(by_name[p].block_addresses for p in route)
    held = len(route & borrowing)

    def most_held(own: int) -> int:  # 2b, ``own``: the node's requests through route
        firsts = min(held, max(0, own - 1))
        return firsts + max(0, own - 1 - firsts) // smallest

    if most_held(u.max_pods + len(u.tunnels)) < limit:
        return False  # no node of the unit makes more requests than that
    if most_held(u.requests(route, False)) < limit:
        return False
    return sum(-(-max(0, u.requests(frozenset((p,)), False) - 1) // by_name[p].block_addresses)
               for p in route) >= limit  # step 4


def _pools_without_block_size_problem(stack: Stack, capacities: Sequence[PoolCapacity],
                                      routes: _Routes, borrowing: set[str], covered: Covered,
                                      pool_level: frozenset[str], released: dict[str, int]
                                      ) -> set[str]:
    """Step 3: the pools for which CIP507 and CIP509 cannot fire.

    With 1 and 2 for every pool and route and no route refused outright,
    nothing fails or borrows: no CIP508, no CIP509, and CIP507's "borrows or
    refuses" problem is absent. CIP507's other problems are exact from the
    declaration (blocks < nodes, a node at its demand beyond the block limit)
    or bounded: stranded space is below S per node holding addresses (at most
    f nodes of the declared load), plus the addresses refused pods gave back
    (``released``, step 5), and the unclaimed blocks are at least B - U of
    the declared load's U.
    """
    demands = pool_demands(stack, capacities)
    clear = set(pool_level)
    for cap in capacities:
        if cap.name in clear:
            continue
        if cap.name in borrowing:  # CIP509, unless CIP502 explains it
            continue
        if covered(f"pool/{cap.name}", "CIP505") or _stranding_is_harmless(
                stack, cap, demands[cap.name], routes, released.get(cap.name, 0)):
            clear.add(cap.name)
    return clear


def _stranding_is_harmless(stack: Stack, cap: PoolCapacity, groups: list[tuple[int, int]],
                           routes: _Routes, released: int = 0) -> bool:
    """No CIP507 for a pool that neither borrows nor refuses: its geometry fits the
    nodes, and what it strands is either small or leaves room for the headroom."""
    pool = stack.pools[cap.name]
    nodes = sum(c for c, _ in groups)
    if nodes == 0:
        return True
    width = 32 if pool.version == 4 else 128
    blocks, size = 1 << (pool.spec.block_size - pool.prefixlen), 1 << (width - pool.spec.block_size)
    if blocks < nodes or stranded(max(d for _, d in groups), size)[0] > routes.limit:
        return False
    info = routes.chooser.by_name.get(cap.name)
    if info is None or not info.enabled:
        return True  # never allocated from: nothing stranded
    claimed, holders = routes.claims(cap.name, True)
    used = routes.through.get(cap.name, [0, 0])[0] + routes.tunnels_in.get(cap.name, 0)
    threshold = (1 << (width - pool.prefixlen)) * STRANDED_SHARE_PERCENT // 100
    growth = -(-used * stack.cluster.headroom_percent // 100)
    return (holders * (size - 1) + released <= threshold
            or (blocks - claimed) * size >= growth)
