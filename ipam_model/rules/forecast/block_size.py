"""Block-size advice (CIP507): what a pool's blockSize strands, and a size that
fixes a concrete problem it causes.

Calico gives each node whole blocks, so a node needing ``d`` addresses from
blocks of ``S`` holds ``ceil(d / S)`` of them and strands the rest; empty
blocks go back only after 15 minutes, so churn needs spare block slots
(calico#4861).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

from ...calico.ipam.chooser import TUNNEL_TYPES, selector_matches
from ...core.ippool import BLOCK_SIZE_RANGE
from ...core.model import NodeGroup, Pool, Stack
from ..capacity import PoolCapacity, with_headroom

# CIP507 fires on waste only when it is large and in the way: more than this
# share of the pool stranded at the declared load, and too little left in
# unclaimed blocks for the stack's headroom.
STRANDED_SHARE_PERCENT = 25


def stranded(demand: int, size: int) -> tuple[int, int]:
    """(blocks a node needs for ``demand`` addresses, addresses they strand)."""
    blocks = max(1, math.ceil(demand / size))
    return blocks, blocks * size - demand


def _stranded_total(pool: Pool, bs: int, groups: list[tuple[int, int]], slots: int,
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
    needed = waste_total = 0
    for count, demand in groups:
        per_node, waste = stranded(demand, size)
        if per_node > slots:
            return None
        needed += count * per_node
        waste_total += count * waste
    if strict_affinity and needed > blocks:
        return None
    return waste_total


def recommend_block_size(pool: Pool, groups: list[tuple[int, int]], *, max_blocks_per_host: int,
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


@dataclass(frozen=True)
class BlockSizeAdvice:
    recommended: int | None
    problem: str | None
    fix: str | None
    stranded_per_node_now: int | None
    stranded_per_node_recommended: int | None


@dataclass(frozen=True)
class _AtSize:
    """A pool and the addresses each node got from it under the declared load,
    measured at any block size."""

    pool: Pool
    usage: tuple[int, ...]

    def geometry(self, bs: int) -> tuple[int, int]:
        """(blocks in the pool, addresses a block) at blockSize ``bs``."""
        width = 32 if self.pool.version == 4 else 128
        return 1 << (bs - self.pool.prefixlen), 1 << (width - bs)

    def load_blocks(self, bs: int) -> int:
        return sum(-(-u // self.geometry(bs)[1]) for u in self.usage if u)

    def load_stranded(self, bs: int) -> int:
        return self.load_blocks(bs) * self.geometry(bs)[1] - sum(self.usage)

    def outside_claimed(self, bs: int) -> int:
        blocks, size = self.geometry(bs)
        return max(0, blocks - self.load_blocks(bs)) * size


_Problem = tuple[str, Callable[[int], bool]]  # what is wrong, what a fixing size satisfies


def _problems(at: _AtSize, groups: list[tuple[int, int]], *, stranded_now: int, borrowed: int,
              failed: int, limit: int, headroom_percent: int) -> list[_Problem]:
    """The concrete problems of the current block size, each with the test a
    recommended size must pass to remove it."""
    pool = at.pool
    nodes = sum(c for c, _ in groups)
    slots = max(1, limit // 2)
    width = 32 if pool.version == 4 else 128
    pool_size = 1 << (width - pool.prefixlen)
    bs_now = pool.spec.block_size
    blocks_now, size_now = at.geometry(bs_now)
    demand = max(d for _, d in groups)
    per_node_now = stranded(demand, size_now)[0]
    problems: list[_Problem] = []
    if blocks_now < nodes:
        problems.append((f"gives {blocks_now:,} blocks for {nodes:,} nodes that may use it",
                         lambda bs: at.geometry(bs)[0] >= nodes))
    if per_node_now > limit:
        problems.append((f"needs {_blocks(per_node_now)} for a node at {demand:,} addresses, "
                         f"more than maxBlocksPerHost {limit}",
                         lambda bs: stranded(demand, at.geometry(bs)[1])[0] <= slots))
    if borrowed or failed:
        what = ", ".join(x for x in (f"{borrowed:,} borrowed" if borrowed else "",
                                     f"{failed:,} refused" if failed else "") if x)
        problems.append((f"makes the declared load need {at.load_blocks(bs_now):,} blocks of "
                         f"the {blocks_now:,} there are ({what} addresses)",
                         lambda bs: at.load_blocks(bs) <= at.geometry(bs)[0]))
    threshold = pool_size * STRANDED_SHARE_PERCENT // 100
    growth = -(-sum(at.usage) * headroom_percent // 100)  # headroom beyond the declared load
    if stranded_now > threshold and at.outside_claimed(bs_now) < growth:
        problems.append((f"leaves {_addresses(stranded_now)} of the pool's {pool_size:,} "
                         f"({100 * stranded_now // pool_size}%) unused inside claimed blocks "
                         f"at the declared load, and only "
                         f"{_addresses(at.outside_claimed(bs_now))} outside them for the "
                         f"{headroom_percent}% headroom ({growth:,})",
                         lambda bs: at.load_stranded(bs) <= threshold
                         and at.outside_claimed(bs) >= growth))
    return problems


def block_size_advice(pool: Pool, groups: list[tuple[int, int]], usage: Sequence[int], *,
                      stranded_now: int, borrowed: int, failed: int, limit: int,
                      strict_affinity: bool, headroom_percent: int) -> BlockSizeAdvice:
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
    nodes = sum(c for c, _ in groups)
    if nodes == 0:
        return BlockSizeAdvice(None, None, None, None, None)
    at = _AtSize(pool, tuple(usage))
    slots = max(1, limit // 2)
    bs_now = pool.spec.block_size
    problems = _problems(at, groups, stranded_now=stranded_now, borrowed=borrowed,
                         failed=failed, limit=limit, headroom_percent=headroom_percent)
    now_total = _stranded_total(pool, bs_now, groups, slots, strict_affinity)
    now_pn = None if now_total is None else now_total // nodes
    if not problems:
        return BlockSizeAdvice(None, None, None, now_pn, None)
    low, high = BLOCK_SIZE_RANGE[pool.version]
    fixing = [(s, bs) for bs in range(max(low, pool.prefixlen), high + 1)
              if bs != bs_now
              and (s := _stranded_total(pool, bs, groups, slots, strict_affinity)) is not None
              and all(check(bs) for _, check in problems)]
    problem = f"blockSize {bs_now} " + "; ".join(text for text, _ in problems)
    if not fixing:
        return BlockSizeAdvice(None, problem, None, now_pn, None)
    best_total = min(s for s, _ in fixing)
    best = min(bs for s, bs in fixing if s == best_total)
    return BlockSizeAdvice(best, problem, _fix(at, best, groups, limit), now_pn,
                           best_total // nodes)


def _fix(at: _AtSize, best: int, groups: list[tuple[int, int]], limit: int) -> str:
    """What the recommended size gives instead, in numbers."""
    blocks, size = at.geometry(best)
    nodes = sum(c for c, _ in groups)
    demand = max(d for _, d in groups)
    return (f"blockSize {best} gives {blocks:,} blocks of {_addresses(size)} for {nodes:,} "
            f"nodes; the declared load would claim {at.load_blocks(best):,} of them and strand "
            f"{_addresses(at.load_stranded(best))}; a node at {demand:,} addresses takes "
            f"{_blocks(stranded(demand, size)[0])} of maxBlocksPerHost {limit}")


def pool_demands(stack: Stack, capacities: Sequence[PoolCapacity]
                 ) -> dict[str, list[tuple[int, int]]]:
    """Per pool: (node count, addresses a node needs) for each node group using it.

    A pool that serves a group automatically may get any pod: maxPods. A pool
    used only through namespace annotations gets those namespaces' expected
    pods plus headroom, spread over the nodes, at most maxPods. A node's
    tunnel address comes from the first tunnel pool in name order. No node can
    get more than the pool's addresses divided by the nodes using it.
    """
    groups = {g.name: g for g in stack.cluster.node_groups}
    selects = _group_selection(stack)
    tunnel_pool = _tunnel_pools(stack, selects)
    out: dict[str, list[tuple[int, int]]] = {}
    for cap in capacities:
        spec = stack.pools[cap.name].spec
        demands = []
        for gname in cap.node_groups:
            g = groups[gname]
            automatic = (spec.assignment_mode == "Automatic"
                         and selects(spec.node_selector, g))
            if automatic or not cap.nodes:
                demand = g.max_pods
            else:
                share = math.ceil(with_headroom(cap.expected_pods,
                                                stack.cluster.headroom_percent) / cap.nodes)
                demand = min(g.max_pods, share)
            demand += tunnel_pool.get(gname, []).count(cap.name)
            if cap.nodes:  # a pool cannot give a node more than its fair share
                demand = min(demand, cap.addresses // cap.nodes)
            demands.append((g.count, max(1, demand)))
        out[cap.name] = demands
    return out


def _group_selection(stack: Stack):
    """selects(node selector, group): whether the selector matches the group's
    labels, evaluated once per selector and group (pools share few selectors)."""
    labels = {id(g): dict(g.labels) for g in stack.cluster.node_groups}
    seen: dict[tuple[str, int], bool] = {}

    def selects(selector: str, group: NodeGroup) -> bool:
        key = (selector, id(group))
        hit = seen.get(key)
        if hit is None:
            hit = seen[key] = selector_matches(selector, labels[id(group)])
        return hit
    return selects


def _tunnel_pools(stack: Stack, selects) -> dict[str, list[str]]:
    """Per node group: the pools its nodes' tunnel addresses come from, one per
    tunnel type (IPIP, VXLAN, VXLAN IPv6: the first enabled pool in name order
    of that family with the encapsulation on that allows Tunnel and selects the
    group, as ``chooser.tunnel_pools`` and calico-node pick them)."""
    tunnel_pool: dict[str, list[str]] = {}
    for g in stack.cluster.node_groups:
        for _, attr, version in TUNNEL_TYPES:
            for name in sorted(stack.pools):
                spec = stack.pools[name].spec
                if (not spec.disabled and stack.pools[name].version == version
                        and "Tunnel" in spec.allowed_uses and getattr(spec, attr) != "Never"
                        and selects(spec.node_selector, g)):
                    tunnel_pool.setdefault(g.name, []).append(name)
                    break
    return tunnel_pool


def _blocks(n: int) -> str:
    return f"{n:,} block" + ("" if n == 1 else "s")


def _addresses(n: int | None) -> str:
    return f"{n:,} address" + ("" if n == 1 else "es")
