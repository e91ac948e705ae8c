"""CIP507 block-size-recommendation, CIP508 pool-exhaustion and CIP509
predicted-borrowing from the forecast.

A finding is left out when a static capacity rule (CIP502-CIP506) already
reports the same pool or namespace, so users see one explanation per problem.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Iterable

from ...core.gc import paused_gc
from ...core.model import Finding, Stack
from ...core.rules import Help, I, Rule, Scope, W
from ..capacity import CapacityReport, capacity_report, pool_capacity
from ..registry import CheckContext, check
from .build import forecast
from .clearance import Covered, clearance
from .model import Forecast

CIP507 = Rule("CIP507", "block-size-recommendation", I,
              "The block size causes borrowing, refusals, block-limit overruns or large stranded "
              "waste, and a size that fixes it exists.",
              scope=Scope.STACK,
              help=Help("Calico's algorithm, simulated over the declared nodes and pods, shows "
                        "this block size causing borrowing, refusals or many stranded "
                        "addresses, and another size avoiding them.",
                        "Use the recommended blockSize for a new pool; an existing pool needs "
                        "the migration calico-ipam plan prints (blockSize cannot change in "
                        "place).",
                        calico=("libcalico-go/lib/ipam/ipam_block_reader_writer.go:630",)))
CIP508 = Rule("CIP508", "pool-exhaustion", W,
              "The simulator predicts allocations failing before the declared load is met.",
              scope=Scope.STACK,
              help=Help("Calico's algorithm, simulated over the declared nodes and pods, runs "
                        "out of blocks or addresses before the declared load is placed: those "
                        "pods would not start.",
                        "Grow the pool or use smaller blocks; `calico-ipam simulate --stack "
                        "STACK` shows where allocation fails.",
                        calico=("libcalico-go/lib/ipam/ipam.go:566",)))
CIP509 = Rule("CIP509", "predicted-borrowing", W,
              "The simulator predicts nodes borrowing addresses from other nodes' blocks.",
              scope=Scope.STACK,
              help=Help("Borrowed addresses are routed one by one (a /32 or /128 route to the "
                        "borrowing node) instead of one route per block; at scale that bloats "
                        "every routing table.",
                        "Give the pool more blocks than nodes that use it (a larger pool or "
                        "smaller blocks).",
                        calico=("libcalico-go/lib/ipam/ipam.go:876",)))



def forecast_findings(stack: Stack, *, fast: bool = True,
                      capacity: Iterable[Finding] | CapacityReport | None = None
                      ) -> list[Finding]:
    """CIP507/CIP508/CIP509 for one stack (nothing without node groups or pools).

    ``fast`` first tries to prove that nothing can fire (``clearance``) and
    runs the simulator only when it cannot; ``fast=False`` always runs it.
    ``capacity``: the stack's ``capacity.capacity_report`` (or its findings)
    when the caller has it already (a finding a static rule reports is left
    out here).
    """
    # The proof and the simulator allocate heavily and create no cycles; with a
    # fleet loaded, each collection would re-scan every stack (~20% of the time).
    with paused_gc():
        return _forecast_findings(stack, fast=fast, capacity=capacity)


def _forecast_findings(stack: Stack, *, fast: bool,
                       capacity: Iterable[Finding] | CapacityReport | None) -> list[Finding]:
    if not stack.cluster.node_groups or not stack.pools:
        return []
    if capacity is None:
        capacity = capacity_report(stack)
    elif not isinstance(capacity, CapacityReport):
        capacity = CapacityReport(tuple(pool_capacity(stack)), tuple(capacity))
    static = {(f.rule, f.subject) for f in capacity.findings}

    def covered(subject: str, *rules: str) -> bool:
        return any((r, subject) in static for r in rules)

    if fast and clearance(stack, capacity.capacities, covered).stack:
        return []
    # The node-group searches feed no finding: leave them out.
    result = forecast(stack, node_groups=not fast, capacities=capacity.capacities)
    found = [*_tunnel_findings(stack, result), *_namespace_findings(stack, result, covered),
             *_pool_findings(stack, result, covered)]
    return [replace(f, message=f.message + _assumed(stack)) for f in found]


def _assumed(stack: Stack) -> str:
    """What every forecast finding ends with: the IPAMConfig it simulated."""
    return f". Forecast with {stack.allocator.described()}"


def _tunnel_findings(stack: Stack, result: Forecast) -> list[Finding]:
    """CIP508 when nodes would not get their tunnel address."""
    if not result.tunnel_failures:
        return []
    return [CIP508.finding(
        f"{len(result.tunnel_failures)} of {result.nodes} nodes would not get their tunnel "
        f"address (calico-node then exits); first: {result.tunnel_failures[0]}",
        f"stack/{stack.name}", stack.cluster_location("nodeGroups"), stack=stack.name)]


def _namespace_findings(stack: Stack, result: Forecast, covered: Covered) -> list[Finding]:
    """CIP508 per namespace: declared pods refused, or too few more before a refusal."""
    exhaustion = CIP508
    headroom = stack.cluster.headroom_percent
    pools = {p.pool: p for p in result.pools}
    findings: list[Finding] = []
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
    return findings


def _pool_findings(stack: Stack, result: Forecast, covered: Covered) -> list[Finding]:
    """CIP509 when the declared load borrows in a pool; CIP507 when a block size fixes
    a concrete problem."""
    borrowing, block_size = CIP509, CIP507
    findings: list[Finding] = []
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


@check(CIP507, CIP508, CIP509)
def check_forecast(ctx: CheckContext) -> list[Finding]:
    # The forecast leaves out what the static capacity rules already report.
    return forecast_findings(ctx.stack, capacity=ctx.once(capacity_report))
