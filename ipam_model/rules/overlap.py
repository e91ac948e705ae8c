"""Overlapping CIDRs: pools against pools, cluster CIDRs, other stacks and live pools.

Two CIDRs overlap exactly when one contains the other (they are aligned, so
a family of CIDRs is laminar: any two are nested or disjoint; Calico's
``IsNetOverlap`` in libcalico-go/lib/net/ipnet.go). That makes a
sort-and-sweep exact: sort by (family, first address, widest first) and keep
a stack of the currently open CIDRs. Every CIDR still open when a new one
starts contains it, so the sweep costs O(n log n) plus one step per overlap
found, where pairwise comparison costs O(n^2).

IPv4 and IPv6 never overlap. Link-local (R16) is a Calico rule and lives in
calico.py.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Mapping, Sequence, TypeVar

from ..core.cidr import cidr_problem, parse_cidr
from ..core.live_state import LivePool
from ..core.model import Finding, Severity, Stack
from ..core.rules import E, Help, Rule, Scope
from .registry import CheckContext, check

CIP201 = Rule("CIP201", "pool-overlap", E,
              "Two pools of one stack overlap (disabled pools included).",
              scope=Scope.STACK,
              help=Help("Two pools over the same addresses can give one address to two pods. "
                        "Calico's client refuses the second pool and its controller disables "
                        "it, but writes to crd.projectcalico.org/v1 go through and leave "
                        "duplicates.",
                        "Give each pool its own range; to move addresses from one pool to "
                        "another, follow the migration calico-ipam plan prints.",
                        calico=("libcalico-go/lib/clientv3/ippool.go:469",
                                "kube-controllers/pkg/controllers/ippool/pool_controller.go:287")))
CIP202 = Rule("CIP202", "routing-domain-overlap", E,
              "Pools of two stacks in the same routing domain overlap.",
              scope=Scope.FLEET,
              help=Help("Clusters of one routing domain exchange routes: overlapping pools make "
                        "pod addresses ambiguous between them.",
                        "Give the stacks of a routing domain distinct ranges, or different "
                        "`routingDomain`s if their networks never meet."))
CIP203 = Rule("CIP203", "service-cidr-overlap", E,
              "A pool overlaps the cluster's service CIDRs.",
              scope=Scope.STACK,
              help=Help("A pod address inside the service range is shadowed by kube-proxy's "
                        "Service rules: traffic meant for the pod reaches a Service instead.",
                        "Move the pool out of `serviceCidrs`, or correct `serviceCidrs` to the "
                        "cluster's --service-cluster-ip-range."))
CIP204 = Rule("CIP204", "node-cidr-overlap", E,
              "A pool overlaps the cluster's node CIDRs.",
              scope=Scope.STACK,
              help=Help("Pod addresses inside the node network collide with hosts and break "
                        "routing to the nodes.",
                        "Move the pool out of `nodeCidrs`, or correct `nodeCidrs`."))
CIP205 = Rule("CIP205", "live-pool-overlap", E,
              "A declared pool overlaps a live pool this stack does not declare.",
              scope=Scope.LIVE,
              help=Help("The cluster already has a pool over these addresses that this stack "
                        "does not declare; Calico's client refuses to create the declared one, "
                        "so pulumi up fails.",
                        "Choose a free range, or adopt the live pool into the stack with "
                        "calico-ipam import.",
                        calico=("libcalico-go/lib/clientv3/ippool.go:469",)))
CIP206 = Rule("CIP206", "cluster-cidr-invalid", E,
              "A service or node CIDR is not a valid, strictly masked network.",
              scope=Scope.STACK,
              help=Help("The overlap checks against service and node networks need valid "
                        "networks; an invalid one would let an overlap pass unseen.",
                        "Write each `serviceCidrs` and `nodeCidrs` entry as a strictly masked "
                        "CIDR."))


K = TypeVar("K")

_CALICO_REJECTS = ('Calico rejects overlapping pools ("IPPool({new}) CIDR overlaps with '
                   'IPPool({old}) CIDR {old_cidr}")')


def find_overlaps(entries: Iterable[tuple[str, K]]) -> list[tuple[K, K]]:
    """Every pair of overlapping entries among (cidr, key) pairs.

    Each pair is (outer, inner): the first key's CIDR contains or equals the
    second's. For equal CIDRs the entry given first comes first. Pairs come
    out in sweep order (family, then address). Raises ValueError on a CIDR
    that does not parse; host bits are ignored (the network is used).
    """
    items = []
    for index, (cidr, key) in enumerate(entries):
        parsed = parse_cidr(cidr)
        if parsed is None:
            raise ValueError(f"{cidr!r} is not a CIDR: {cidr_problem(cidr)}")
        family, first, last = parsed.version, parsed.first, parsed.last
        # Widest first among equal starts so that a container precedes what it
        # contains; the input index keeps equal CIDRs stable and keys uncompared.
        items.append((family, first, -last, index, key))
    items.sort(key=lambda item: item[:4])
    pairs: list[tuple[K, K]] = []
    open_: list[tuple[int, int, K]] = []  # (family, last, key): a chain of nested CIDRs
    for family, first, neg_last, _, key in items:
        while open_ and (open_[-1][0] != family or open_[-1][1] < first):
            open_.pop()
        for _, _, outer in open_:
            pairs.append((outer, key))
        open_.append((family, -neg_last, key))
    return pairs


def relation(a: str, b: str) -> str:
    """How CIDR *a* relates to overlapping CIDR *b*: 'equals', 'contains' or 'is inside'."""
    a_cidr, b_cidr = parse_cidr(a), parse_cidr(b)
    if (a_cidr.first, a_cidr.last) == (b_cidr.first, b_cidr.last):
        return "equals"
    if a_cidr.contains(b_cidr):
        return "contains"
    return "is inside"


def _stack_label(stack: Stack) -> str:
    return f"stack {stack.name} ({stack.file})" if stack.file else f"stack {stack.name}"


def declared_pool_cidrs(stack: Stack) -> list[tuple[str, str]]:
    """(pool name, canonical CIDR) of every declared pool whose CIDR parses and is masked.

    Uses the raw specs, disabled pools and pools failing other Calico rules
    included: an overlap is worth reporting whatever else is wrong. Pools
    with a bad CIDR are skipped here; calico.py reports their CIDR.
    """
    out = []
    for name, spec in stack.pool_specs.items():
        cidr = parse_cidr(spec.get("cidr"))
        if cidr is not None and cidr.masked:
            out.append((name, cidr.text))
    return out


def _cluster_cidrs(stack: Stack, field: str) -> tuple[list[tuple[int, str]], list[Finding]]:
    """Valid (index, CIDR) entries of serviceCidrs/nodeCidrs, and CIP206 for the rest."""
    kind = {"serviceCidrs": "service CIDR", "nodeCidrs": "node CIDR"}[field]
    values = getattr(stack.cluster, {"serviceCidrs": "service_cidrs",
                                     "nodeCidrs": "node_cidrs"}[field])
    valid, findings = [], []
    for index, text in enumerate(values):
        where = stack.cluster_location(field, index)
        parsed = parse_cidr(text)
        if parsed is None:
            findings.append(CIP206.finding(
                f"{kind} {text!r} ({field}[{index}]) is not a valid CIDR (address/prefix, e.g. "
                f"10.96.0.0/12): pools cannot be checked against it", f"stack/{stack.name}",
                where, stack=stack.name))
            continue
        if not parsed.masked:
            fixed = parsed.text
            findings.append(CIP206.finding(
                f"{kind} {text} ({field}[{index}]) has host bits set; write {fixed} (the network "
                f"it denotes), which is what pools are checked against", f"stack/{stack.name}",
                where, stack=stack.name))
            valid.append((index, str(fixed)))
            continue
        valid.append((index, text))
    return valid, findings


_CLUSTER_CONSEQUENCE = {
    "serviceCidrs": (CIP203, "service CIDR",
                     "pods would get addresses that kube-proxy routes to Services, so traffic to "
                     "them goes to the wrong place"),
    "nodeCidrs": (CIP204, "node CIDR",
                  "pods would get addresses of the node network, so routes to those pods shadow "
                  "real hosts (or the reverse)"),
}


def stack_overlap_findings(stack: Stack) -> list[Finding]:
    """CIP201 pool vs pool, CIP203/CIP204 pool vs service/node CIDRs, CIP206 bad cluster CIDRs."""
    findings: list[Finding] = []
    pools = declared_pool_cidrs(stack)
    order = {name: i for i, (name, _) in enumerate(pools)}
    entries: list[tuple[str, tuple]] = [(cidr, ("pool", name, cidr)) for name, cidr in pools]
    for field in ("serviceCidrs", "nodeCidrs"):
        valid, problems = _cluster_cidrs(stack, field)
        findings.extend(problems)
        entries.extend((cidr, (field, index, cidr)) for index, cidr in valid)

    for a, b in find_overlaps(entries):
        if a[0] == "pool" and b[0] == "pool":
            # Report on the pool declared later: it is the one Calico would refuse.
            first, second = sorted((a, b), key=lambda k: order[k[1]])
            _, old, old_cidr = first
            _, new, new_cidr = second
            message = (f"pool {old} ({old_cidr}) {relation(old_cidr, new_cidr)} pool {new} "
                       f"({new_cidr}); " + _CALICO_REJECTS.format(new=new, old=old,
                                                                   old_cidr=old_cidr)
                       + " and raw CRD writes would hand out duplicate addresses")
            findings.append(CIP201.finding(
                message, f"pool/{new}", stack.pool_location(new, "cidr"), stack=stack.name,
                related=(stack.pool_location(old, "cidr"),)))
            continue
        if a[0] != "pool" and b[0] != "pool":
            continue  # service vs node CIDRs are the cluster's business, not a pool's
        pool, other = (a, b) if a[0] == "pool" else (b, a)
        field, index, other_cidr = other
        cluster_rule, kind, consequence = _CLUSTER_CONSEQUENCE[field]
        _, name, cidr = pool
        message = (f"pool {name} ({cidr}) {relation(cidr, other_cidr)} {kind} {other_cidr} "
                   f"({field}[{index}]): {consequence}")
        findings.append(cluster_rule.finding(
            message, f"pool/{name}", stack.pool_location(name, "cidr"), stack=stack.name,
            related=(stack.cluster_location(field, index),)))
    return findings


def routing_domain_findings(stacks: Sequence[Stack]) -> list[Finding]:
    """CIP202: pools of different stacks in one routing domain that overlap.

    Stacks without a routingDomain are never compared (they are separate
    networks by declaration). One finding per overlapping pair, located on
    the pool of the stack listed first, so that a caller listing the stacks
    it reports on before the ones it only compares against keeps it.
    """
    by_domain: dict[str, list[int]] = defaultdict(list)
    for index, stack in enumerate(stacks):
        if stack.cluster.routing_domain:
            by_domain[stack.cluster.routing_domain].append(index)
    findings: list[Finding] = []
    for domain, members in by_domain.items():
        if len(members) < 2:
            continue
        entries = []
        for index in members:
            for position, (name, cidr) in enumerate(declared_pool_cidrs(stacks[index])):
                entries.append((cidr, (index, position, name, cidr)))
        for a, b in find_overlaps(entries):
            if a[0] == b[0]:
                continue  # same stack: CIP201's business
            here, there = sorted((a, b))
            stack, other = stacks[here[0]], stacks[there[0]]
            name, cidr, other_name, other_cidr = here[2], here[3], there[2], there[3]
            message = (f"pool {name} ({cidr}) of {_stack_label(stack)} "
                       f"{relation(cidr, other_cidr)} pool {other_name} ({other_cidr}) of "
                       f"{_stack_label(other)}; both stacks are in routing domain {domain}, "
                       f"so pods of both clusters could get the same addresses and traffic to "
                       f"them is routed to whichever cluster the network learnt last")
            findings.append(CIP202.finding(
                message, f"pool/{name}", stack.pool_location(name, "cidr"),
                stack=stack.name, related=(other.pool_location(other_name, "cidr"),)))
    return findings


def live_overlap_findings(stack: Stack, live_pools: Mapping[str, LivePool],
                          existing: frozenset[str] = frozenset()) -> list[Finding]:
    """CIP205: live pools the stack does not declare that overlap a declared pool.

    A live pool with the name of a declared pool is that pool (a CIDR change
    there is the planner's business, not an overlap). Calico checks overlaps
    only when a pool is created (clientv3 ippool.go validateAndSetDefaults,
    ``old == nil``): a declared pool in ``existing`` (live already, with this
    CIDR, so pulumi up updates it in place) gets a warning, not an error.
    """
    declared = declared_pool_cidrs(stack)
    entries: list[tuple[str, tuple]] = [(cidr, ("declared", name, cidr)) for name, cidr in declared]
    for name, live in live_pools.items():
        if name in stack.pool_specs:
            continue
        if parse_cidr(live.spec.cidr) is None:
            continue  # a live pool Calico would not have accepted; nothing to compare
        entries.append((live.spec.cidr, ("live", name, live.spec.cidr)))
    findings = []
    for a, b in find_overlaps(entries):
        if a[0] == b[0]:
            continue
        (_, name, cidr), (_, live_name, live_cidr) = (a, b) if a[0] == "declared" else (b, a)
        live = live_pools[live_name]
        notes = [f"owner: {live.owner}"]
        if live.spec.disabled:
            notes.append("disabled, still counted by Calico")
        if live.deleting:
            notes.append("being deleted, still occupies its CIDR")
        message = (f"pool {name} ({cidr}) {relation(cidr, live_cidr)} live pool {live_name} "
                   f"({live_cidr}), which exists in the cluster but is not declared in "
                   f"{_stack_label(stack)} ({', '.join(notes)}); ")
        if name in existing:
            message += (f"both pools exist already, so Calico, which checks overlaps only when "
                        f"a pool is created, lets pulumi up update {name} in place; but "
                        "overlapping pools can hand out duplicate addresses (Calico's "
                        "kube-controllers marks the newer one Allocatable=False): disable or "
                        f"migrate one of them")
            findings.append(CIP205.finding(
                message, f"pool/{name}", stack.pool_location(name, "cidr"), stack=stack.name,
                severity=Severity.WARNING))
            continue
        message += (_CALICO_REJECTS.format(new=name, old=live_name, old_cidr=live_cidr)
                    + ", and if both exist pods can get duplicate addresses")
        findings.append(CIP205.finding(
            message, f"pool/{name}", stack.pool_location(name, "cidr"), stack=stack.name))
    return findings


@check(CIP201, CIP203, CIP204, CIP206)
def check_stack_overlaps(ctx: CheckContext) -> list[Finding]:
    return stack_overlap_findings(ctx.stack)


@check(CIP202, scope=Scope.FLEET)
def check_routing_domains(stacks: Sequence[Stack]) -> list[Finding]:
    return routing_domain_findings(stacks)
