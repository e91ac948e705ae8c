"""Capacity, first cut: addresses and blocks per pool against nodes and expected pods.

Calico hands out addresses in blocks that belong to one node (reference
calico-ipam-allocation.md): every node that uses a pool needs a block of its
own there, a node may hold at most ``maxBlocksPerHost`` blocks (0 means 20),
and the addresses of a pool bound by annotation are shared by the namespaces
that name it. Reserved addresses (IPReservations) are never handed out and a
block reserved in full is never claimed (libcalico-go lib/ipam/ipam_block.go:223-239
``NumFreeAddresses``, ipam_block_reader_writer.go:178-182), so they are taken
off a pool's addresses and blocks, as Calico's GetUtilization takes them off
"Available" (lib/ipam/reserved.go:52-92 ``countPoolSpace``). This module works
out those numbers from the declaration; the simulator-based forecast
(forecast/) predicts the walk itself.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

from ..calico.annotations import PoolResolver
from ..calico.ipam.messages import MSG_BLOCK_LIMIT, MSG_STRICT  # quoted in findings
from ..calico.selector import (
    SelectorError,
    parse_selector,
    selects_nothing_automatically,
)
from ..core.cidr import parse_cidr
from ..core.model import Finding, NodeGroup, Severity, Stack
from ..core.rules import E, Help, I, Rule, Scope, W
from .registry import CheckContext, check

CIP501 = Rule("CIP501", "pool-capacity", I,
              "Per pool: addresses, blocks and block size.",
              scope=Scope.STACK,
              help=Help("Calico hands out whole blocks per node, so a pool's capacity is its "
                        "blocks, not its addresses; the note shows both for the capacity "
                        "warnings.",
                        "Nothing to fix; `--min-severity warning` hides notes."))
CIP502 = Rule("CIP502", "blocks-fewer-than-nodes", W,
              "Fewer blocks than nodes that may use the pool: late nodes borrow (or fail under "
              "strict affinity).",
              scope=Scope.STACK,
              help=Help("Each node claims blocks of its own; with fewer blocks than nodes, late "
                        "nodes borrow addresses from other nodes' blocks (one route per "
                        "address), or fail to start pods under strictAffinity.",
                        "Make the pool larger or its blocks smaller (blockSize + 1 doubles the "
                        "blocks), or limit the pool to fewer nodes with a nodeSelector.",
                        calico=("libcalico-go/lib/ipam/ipam.go:876",)))
CIP503 = Rule("CIP503", "addresses-insufficient", E,
              "Expected pods exceed the addresses of the pools that serve them.",
              scope=Scope.STACK,
              help=Help("When the pools serving a namespace run out, Calico refuses new pods' "
                        "addresses and they stay in ContainerCreating.",
                        "Add or grow pools for the namespace, or lower `expectedPods` to what "
                        "is really expected."))
CIP504 = Rule("CIP504", "headroom-low", W,
              "Expected pods fit, but with less headroom than configured.",
              scope=Scope.STACK,
              help=Help("Rolling updates, surge pods and addresses stranded in other nodes' "
                        "blocks need room beyond the steady state.",
                        "Grow the pools, or lower `headroomPercent` if the smaller margin is "
                        "deliberate."))
CIP505 = Rule("CIP505", "per-host-block-limit", E,
              "maxPods per node needs more blocks than maxBlocksPerHost allows.",
              scope=Scope.STACK,
              help=Help("Calico refuses a node more blocks than maxBlocksPerHost (\"cannot "
                        "allocate new block due to per host block limit\"): pods fail before the "
                        "node reaches maxPods.",
                        "Use larger blocks (a smaller blockSize), raise `maxBlocksPerHost`, or "
                        "lower the node group's `maxPods`.",
                        calico=("libcalico-go/lib/ipam/ipam.go:73",
                                "libcalico-go/lib/ipam/ipam.go:737")))
CIP506 = Rule("CIP506", "pool-selects-no-nodes", W,
              "An Automatic pool's nodeSelector matches no declared node group.",
              scope=Scope.STACK,
              help=Help("An Automatic pool is used only on nodes its nodeSelector matches; "
                        "matching none of the declared node groups it serves nobody, usually "
                        "because of a typo.",
                        "Fix the selector or the node groups' labels, or make the pool "
                        "`assignmentMode: Manual` if only bindings should use it.",
                        calico=("libcalico-go/lib/ipam/ipam.go:324",)))



@dataclass(frozen=True)
class PoolCapacity:
    """The capacity of one pool and the demand declared on it."""

    name: str
    cidr: str
    block_size: int
    addresses: int
    blocks: int
    block_addresses: int
    reserved: int                       # addresses an IPReservation holds back
    walled_blocks: int                  # blocks reserved in full: never claimed
    node_groups: tuple[str, ...]       # groups whose nodes may take blocks of this pool
    nodes: int                          # nodes in those groups
    bound_namespaces: tuple[str, ...]   # namespaces naming the pool in an annotation
    expected_pods: int                  # expectedPods of those namespaces
    addresses_needed: int               # expected_pods plus the stack's headroom

    @property
    def assignable(self) -> int:
        """Addresses Calico can hand out: the pool less what is reserved."""
        return self.addresses - self.reserved

    @property
    def claimable_blocks(self) -> int:
        return self.blocks - self.walled_blocks


def with_headroom(pods: int, headroom_percent: int) -> int:
    """Addresses wanted for *pods* with *headroom_percent* spare, rounded up."""
    return (pods * (100 + headroom_percent) + 99) // 100


def _selector_matches(text: str, labels) -> bool:
    try:
        return parse_selector(text).evaluate(labels)
    except SelectorError:
        return False  # calico.py reports the selector; the pool is not used


class _StackView:
    """Per-stack lookups computed once (a check runs them for every namespace)."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.resolver = PoolResolver((n, p.spec.cidr) for n, p in stack.pools.items())
        self._resolved: dict[tuple, list[str]] = {}
        groups = stack.cluster.node_groups
        # pool name -> node groups its nodeSelector matches.
        self.selected = {name: tuple(g for g in groups
                                     if _selector_matches(pool.spec.node_selector, g.labels))
                         for name, pool in stack.pools.items()}
        self.bound: dict[str, list[str]] = defaultdict(list)
        for ns, binding in stack.bindings.items():
            for name in self.resolve((*binding.ipv4_pools, *binding.ipv6_pools)):
                if ns not in self.bound[name]:
                    self.bound[name].append(ns)
        self._automatic: dict[tuple, list[str]] = {}

    def resolve(self, entries: Iterable[str]) -> list[str]:
        """Names of the valid pools that binding entries resolve to (names or exact CIDRs).

        Entries that do not resolve are bindings.py's findings; here they add no capacity.
        """
        key = tuple(entries)
        hit = self._resolved.get(key)
        if hit is None:  # namespaces repeat the same few lists
            hit = []
            for entry in key:
                name = self.resolver.resolve(entry)
                if name is not None and name not in hit:
                    hit.append(name)
            self._resolved[key] = hit
        return list(hit)

    def node_groups_using(self, name: str) -> tuple[NodeGroup, ...]:
        """Node groups whose nodes may take a block of pool *name*.

        Annotated requests ignore nodeSelector (calico#10502), so a bound pool
        may be used on any node; otherwise an Automatic pool is used on the
        nodes its nodeSelector matches and a Manual one on none. LoadBalancer
        pools hand addresses to Services, not nodes.
        """
        spec = self.stack.pools[name].spec
        if spec.disabled or "LoadBalancer" in spec.allowed_uses:
            return ()
        if self.bound.get(name):
            return self.stack.cluster.node_groups
        if spec.assignment_mode != "Automatic":
            return ()
        return self.selected[name]

    def automatic_pools(self, version: int, ns_labels) -> list[str]:
        """Pools that serve a namespace without an annotation for this family.

        Calico uses every enabled Automatic pool of the family whose
        nodeSelector matches the node and whose namespaceSelector matches the
        namespace. A pool whose nodeSelector matches no declared node group
        serves no pod (when no node groups are declared, any selector but
        ``!all()`` is assumed to match).
        """
        key = (version, tuple(sorted(ns_labels.items())))
        if key in self._automatic:
            return self._automatic[key]
        has_groups = bool(self.stack.cluster.node_groups)
        out = []
        for name, pool in self.stack.pools.items():
            spec = pool.spec
            if (pool.version != version or not pool.usable_for_workloads
                    or spec.assignment_mode != "Automatic"):
                continue
            if spec.namespace_selector and not _selector_matches(spec.namespace_selector,
                                                                 ns_labels):
                continue
            if has_groups:
                if not self.selected[name]:
                    continue
            elif selects_nothing_automatically(spec.node_selector):
                continue
            out.append(name)
        self._automatic[key] = out
        return out

    def demands(self) -> list[tuple[int, str, frozenset[str], int]]:
        """(family, namespace, pools serving it, expected pods) for every namespace and family.

        The rule for namespaces without pools: Calico assigns one address per
        family the cluster runs, so a family counts as in use when the stack
        declares an enabled Workload pool of it; a namespace that names no
        pool in that family draws from the Automatic pools of the family (see
        ``automatic_pools``). A namespace whose annotation names only unusable
        pools is left out: its pods fail outright, which bindings.py reports.
        """
        pools = self.stack.pools
        families = sorted({p.version for p in pools.values() if p.usable_for_workloads})
        out = []
        for ns, binding in self.stack.bindings.items():
            pods = binding.expected_pods or 0
            if not pods:
                continue
            for version in families:
                entries = binding.ipv4_pools if version == 4 else binding.ipv6_pools
                if entries:
                    serving = [n for n in self.resolve(entries)
                               if pools[n].version == version and pools[n].usable_for_workloads]
                    if not serving:
                        continue
                else:
                    serving = self.automatic_pools(version, binding.labels)
                out.append((version, ns, frozenset(serving), pods))
        return out


@dataclass(frozen=True)
class CapacityReport:
    """What the capacity rules work out for one stack, computed once: the
    forecast starts from the same capacities and leaves out what these
    findings already report (``CheckContext.once(capacity_report)``)."""

    capacities: tuple[PoolCapacity, ...]
    findings: tuple[Finding, ...]


def pool_capacity(stack: Stack) -> list[PoolCapacity]:
    """One PoolCapacity per valid declared pool, in declaration order."""
    return _pool_capacity(_StackView(stack))


def _pool_capacity(view: _StackView) -> list[PoolCapacity]:
    stack = view.stack
    reserved = stack.allocator.ranges()
    headroom = stack.cluster.headroom_percent
    bindings = stack.bindings
    out = []
    for name, pool in stack.pools.items():
        groups = view.node_groups_using(name)
        namespaces = tuple(view.bound.get(name, ()))
        pods = sum(bindings[ns].expected_pods or 0 for ns in namespaces)
        reserved_here = walled = 0
        if reserved:
            cidr = parse_cidr(pool.spec.cidr)
            reserved_here = reserved.count(cidr)
            if pool.blocks:
                walled = sum(b - a + 1
                             for a, b in reserved.whole_blocks(cidr, pool.spec.block_size))
        out.append(PoolCapacity(
            name=name, cidr=pool.spec.cidr, block_size=pool.spec.block_size,
            addresses=pool.addresses, blocks=pool.blocks, block_addresses=pool.block_addresses,
            reserved=reserved_here, walled_blocks=walled,
            node_groups=tuple(g.name for g in groups), nodes=sum(g.count for g in groups),
            bound_namespaces=namespaces, expected_pods=pods,
            addresses_needed=with_headroom(pods, headroom)))
    return out


def _components(sets: Iterable[frozenset[str]]) -> list[frozenset[str]]:
    """Unions of pool sets that share a pool (namespaces competing for addresses)."""
    merged: list[set[str]] = []
    for pools in sets:
        joined = set(pools)
        rest = []
        for group in merged:
            if group & joined:
                joined |= group
            else:
                rest.append(group)
        merged = rest + [joined]
    return [frozenset(g) for g in merged]


def _address_findings(view: _StackView, capacities: Iterable[PoolCapacity]) -> list[Finding]:
    """CIP503/CIP504: expected pods (plus headroom) against the addresses of the pools serving them.

    A namespace listing several pools may use any of them, and pools are shared
    between namespaces, so for every set S of pools that some namespace uses
    (and every union of overlapping such sets) the pods of all namespaces that
    can only use pools in S must fit in S. That is Hall's condition restricted
    to the sets that occur; the smallest failing sets are reported.
    """
    stack = view.stack
    findings = []
    demands = view.demands()
    capacity = {c.name: c for c in capacities}
    order = {ns: i for i, ns in enumerate(stack.bindings)}
    for version in (4, 6):
        # Namespaces grouped by the pool set they use: candidates are checked per set.
        by_set: dict[frozenset[str], list[tuple[str, int]]] = defaultdict(list)
        for _, ns, used, pods in (d for d in demands if d[0] == version):
            by_set[used].append((ns, pods))
        reported: list[frozenset[str]] = []
        totals = {used: sum(p for _, p in group) for used, group in by_set.items()}
        for pools in sorted(set(by_set) | set(_components(by_set)),
                            key=lambda s: (len(s), sorted(s))):
            if any(r <= pools for r in reported):
                continue
            # Most sets fit: decide that from the totals before listing the members.
            pods = sum(n for used, n in totals.items() if used <= pools)
            if (with_headroom(pods, stack.cluster.headroom_percent)
                    <= sum(capacity[n].assignable for n in pools)):
                continue
            members = sorted((m for used, group in by_set.items() if used <= pools
                              for m in group), key=lambda m: order[m[0]])
            finding = _pool_set_finding(stack, version, pools, members, capacity)
            if finding is not None:
                reported.append(pools)
                findings.append(finding)
    return findings


def _pool_set_finding(stack: Stack, version: int, pools: frozenset[str],
                      members: list[tuple[str, int]],
                      capacity: dict[str, PoolCapacity]) -> Finding | None:
    """CIP503 or CIP504 when the pods of *members* (namespace, pods) do not fit,
    with the configured headroom, in the addresses of *pools*."""
    headroom = stack.cluster.headroom_percent
    pods = sum(p for _, p in members)
    needed = with_headroom(pods, headroom)
    addresses = sum(capacity[n].assignable for n in pools)
    if needed <= addresses:
        return None
    names = [ns for ns, _ in members]
    who = (f"namespace {names[0]} expects" if len(names) == 1 else
           f"namespaces {', '.join(names)} expect")
    ordered = [n for n in stack.pools if n in pools]
    where = stack.binding_location(names[0], "expectedPods")
    related = tuple(stack.pool_location(n, "cidr") for n in ordered)
    family, subject = f"IPv{version}", f"namespace/{names[0]}"
    if not pools:
        return CIP503.finding(
            f"{who} {pods} pods, but no enabled Automatic {family} pool serves "
            f"{'it' if len(names) == 1 else 'them'} (no nodeSelector matches a node "
            f"group, or namespaceSelectors exclude them): their pods fail with Calico's "
            f"\"no configured Calico pools for node\"", subject, where, stack=stack.name)
    holds = " + ".join(f"{n} ({stack.pools[n].spec.cidr}: {capacity[n].assignable:,}"
                       + (f" after {capacity[n].reserved:,} reserved" if capacity[n].reserved
                          else "") + ")" for n in ordered)
    verb = "holds" if len(ordered) == 1 else "hold"
    total = f"{addresses:,} {family} addresses"
    if pods > addresses:
        return CIP503.finding(
            f"{who} {pods:,} pods ({needed:,} addresses with {headroom}% headroom), but {holds} "
            f"{verb} only {total}: pods beyond the {addresses:,}th get no address and stay "
            "ContainerCreating", subject, where, stack=stack.name, related=related)
    return CIP504.finding(
        f"{who} {pods:,} pods; {holds} {verb} {total}, {addresses - pods:,} spare "
        f"({(addresses - pods) * 100 // pods}%), less than the configured headroom of "
        f"{headroom}% ({needed:,} addresses)", subject, where, stack=stack.name,
        related=related)


def capacity_findings(stack: Stack) -> list[Finding]:
    """CIP501-CIP506 for every valid declared pool of *stack*."""
    return list(capacity_report(stack).findings)


def capacity_report(stack: Stack) -> CapacityReport:
    """The pools' capacities and CIP501-CIP506 for *stack*."""
    findings = []
    view = _StackView(stack)
    capacities = _pool_capacity(view)
    for cap in capacities:
        findings.append(_summary(stack, cap))
        findings += _late_nodes(stack, cap)
        findings += _block_limit(stack, cap)
        findings += _selects_no_nodes(view, cap)
    findings.extend(_address_findings(view, capacities))
    return CapacityReport(tuple(capacities), tuple(findings))


def _summary(stack: Stack, cap: PoolCapacity) -> Finding:
    """CIP501: the pool's addresses, blocks and the demand declared on it."""
    cluster, spec = stack.cluster, stack.pools[cap.name].spec
    summary = (f"pool {cap.name} ({cap.cidr}): {cap.addresses:,} addresses in "
               f"{cap.blocks:,} blocks of /{cap.block_size} ({cap.block_addresses:,} "
               f"address{'es' if cap.block_addresses != 1 else ''} each)")
    if cap.reserved:
        walled = (f", {cap.walled_blocks:,} block{'s' if cap.walled_blocks != 1 else ''} "
                  "reserved in full" if cap.walled_blocks else "")
        summary += (f"; {cap.reserved:,} reserved by IPReservations ({cap.assignable:,} "
                    f"assignable{walled})")
    if spec.disabled:
        summary += "; disabled, no new allocations"
    elif "LoadBalancer" in spec.allowed_uses:
        summary += "; LoadBalancer addresses for Services"
    elif cluster.node_groups:
        summary += (f"; {cap.nodes:,} node{'s' if cap.nodes != 1 else ''} may use it"
                    + (f" ({', '.join(cap.node_groups)})" if cap.node_groups else ""))
    if cap.bound_namespaces:
        summary += (f"; bound namespaces expect {cap.expected_pods:,} pods "
                    f"({cap.addresses_needed:,} addresses with {cluster.headroom_percent}% "
                    f"headroom)")
    return CIP501.finding(summary, f"pool/{cap.name}", stack.pool_location(cap.name, "cidr"),
                          stack=stack.name)


def _late_nodes(stack: Stack, cap: PoolCapacity) -> list[Finding]:
    """CIP502: fewer (claimable) blocks than nodes; an error under strict affinity."""
    blocks = cap.claimable_blocks
    if cap.nodes <= blocks:
        return []
    cluster = stack.cluster
    strict = stack.allocator.strict_affinity
    groups = {g.name: g for g in cluster.node_groups}
    per_group = ", ".join(f"{g}: {groups[g].count}" for g in cap.node_groups)
    late = cap.nodes - blocks
    walled = (f" ({cap.walled_blocks:,} more reserved in full by IPReservations)"
              if cap.walled_blocks else "")
    message = (f"pool {cap.name} ({cap.cidr}) has {blocks:,} blocks of /{cap.block_size}"
               f"{walled} but {cap.nodes:,} nodes may use it ({per_group}): the last {late:,} "
               f"node{'s' if late != 1 else ''} to allocate get no block of their own")
    if strict:
        # Without borrowing the late nodes' pods fail: an outage, not a risk.
        message += (f", and with strictAffinity they cannot borrow: their pods fail with "
                    f"Calico's \"{MSG_STRICT}\"")
    else:
        message += (" and borrow addresses from other nodes' blocks (routes to borrowed "
                    "addresses are a known source of trouble); a smaller blockSize or a larger "
                    "pool gives every node a block")
    return [CIP502.finding(
        message, f"pool/{cap.name}", stack.pool_location(cap.name, "blockSize"),
        stack=stack.name, severity=Severity.ERROR if strict else None,
        related=tuple(groups[g].location for g in cap.node_groups))]


def _block_limit(stack: Stack, cap: PoolCapacity) -> list[Finding]:
    """CIP505: a full node needs more blocks than maxBlocksPerHost allows."""
    cluster = stack.cluster
    limit = stack.allocator.effective_max_blocks_per_host
    groups = {g.name: g for g in cluster.node_groups}
    over = [groups[g] for g in cap.node_groups
            if -(-groups[g].max_pods // cap.block_addresses) > limit]
    if not over:
        return []
    worst = max(over, key=lambda g: g.max_pods)
    blocks_needed = -(-worst.max_pods // cap.block_addresses)
    groups_text = ", ".join(f"{g.name} (maxPods {g.max_pods})" for g in over)
    configured = stack.allocator.max_blocks_per_host
    setting = (f"maxBlocksPerHost {configured}"
               if configured else "maxBlocksPerHost 0 (which means 20)")
    family_bits = 32 if stack.pools[cap.name].version == 4 else 128
    return [CIP505.finding(
        f"pool {cap.name} has /{cap.block_size} blocks of {cap.block_addresses:,} "
        f"address{'es' if cap.block_addresses != 1 else ''}: a full node of {groups_text} "
        f"needs up to {blocks_needed:,} blocks of it, but {setting} allows {limit}; pods "
        f"beyond {limit * cap.block_addresses:,} on a node fail with Calico's "
        f"\"{MSG_BLOCK_LIMIT}\" (no borrowing helps). Use blockSize "
        f"{_block_size_for(worst.max_pods, limit, family_bits)} or smaller",
        f"pool/{cap.name}", stack.pool_location(cap.name, "blockSize"), stack=stack.name,
        related=(*(g.location for g in over), stack.ipam_config_location("maxBlocksPerHost")))]


def _selects_no_nodes(view: _StackView, cap: PoolCapacity) -> list[Finding]:
    """CIP506: an Automatic pool whose nodeSelector matches no declared node group."""
    stack = view.stack
    cluster, spec = stack.cluster, stack.pools[cap.name].spec
    if not (cluster.node_groups and not spec.disabled and spec.assignment_mode == "Automatic"
            and "LoadBalancer" not in spec.allowed_uses
            and not selects_nothing_automatically(spec.node_selector)
            and not view.selected[cap.name]):
        return []
    names = ", ".join(g.name for g in cluster.node_groups)
    return [CIP506.finding(
        f"pool {cap.name} has nodeSelector {spec.node_selector}, which matches no declared "
        f"node group ({names}): no pod gets an address from it automatically"
        + (" (only the namespaces binding it by annotation use it)"
           if cap.bound_namespaces else ""),
        f"pool/{cap.name}", stack.pool_location(cap.name, "nodeSelector"), stack=stack.name)]


def _block_size_for(max_pods: int, limit: int, family_bits: int) -> int:
    """The largest blockSize (smallest blocks) whose *limit* blocks still hold *max_pods*."""
    host_bits = 0
    while limit * (1 << host_bits) < max_pods:
        host_bits += 1
    return family_bits - host_bits


@check(CIP501, CIP502, CIP503, CIP504, CIP505, CIP506)
def check_capacity(ctx: CheckContext) -> list[Finding]:
    return list(ctx.once(capacity_report).findings)
