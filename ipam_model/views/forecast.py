"""The capacity forecast as plain text."""
from __future__ import annotations

import re

from ..rules.forecast.model import Forecast, GroupForecast, NamespaceForecast


def format_forecast(result: Forecast) -> str:
    """The forecast as plain text: one line per pool, node group and namespace."""
    lines = [f"Forecast for stack {result.stack}: {result.nodes} nodes "
             f"(named <group>-<i>), strictAffinity {str(result.strict_affinity).lower()}, "
             f"maxBlocksPerHost {result.max_blocks_per_host}"]
    for p in result.pools:
        advice = (f"; now {p.block_size_problem}; {p.block_size_fix}"
                  if p.recommended_block_size else "")
        lines.append(
            f"  pool {p.pool} ({p.cidr}, /{p.block_size}): {p.blocks_claimed}/{p.blocks_total} "
            f"blocks claimed, {p.blocks_needed} needed by {p.nodes_using} nodes at "
            f"{p.demand_per_node} addresses each; {p.addresses_in_use} in use, "
            f"{p.stranded_addresses} stranded in claimed blocks, "
            f"{p.borrowed_addresses} borrowed{advice}")
    for g in result.groups:
        if g.more_nodes_is_lower_bound:
            more = (f"at least {g.more_nodes_until_failure} more nodes without a failure "
                    f"(search stopped at its work bound)")
        elif g.more_nodes_until_failure is None:
            more = "no failure within the search"
        else:
            more = f"{g.more_nodes_until_failure} more nodes before one fails ({g.first_failure})"
        lines.append(f"  node group {g.group}: {g.nodes} nodes, {g.pods_placed} pods, "
                     f"{g.borrowing_nodes} borrowing, up to {g.max_blocks_on_a_node} blocks on "
                     f"a node; {more}")
    for n in result.namespaces:
        if n.more_pods_is_lower_bound:
            more = (f"at least {n.more_pods_until_failure} more pods without a failure "
                    f"(search stopped at its work bound)")
        elif n.more_pods_until_failure is None:
            more = "nodes reach maxPods first"
        else:
            more = f"{n.more_pods_until_failure} more pods before one fails"
        failed = f", {n.failed} fail ({n.first_failure})" if n.failed else ""
        lines.append(f"  namespace {n.namespace}: {n.allocated}/{n.expected_pods} pods get "
                     f"addresses{failed}, {n.borrowed} borrowed, {n.unschedulable} beyond "
                     f"maxPods; {more}")
    for t in result.tunnel_failures:
        lines.append(f"  tunnel address fails: {t}")
    return "\n".join(lines)


def _more_pods(namespaces: list[NamespaceForecast]) -> list[str]:
    """One line per namespace that runs out; one for those whose nodes fill up first."""
    lines = [f"{n.namespace}: {'at least ' if n.more_pods_is_lower_bound else ''}"
             f"{n.more_pods_until_failure:,} more pods before one fails"
             for n in namespaces if n.more_pods_until_failure is not None]
    full = [n for n in namespaces if n.more_pods_until_failure is None]
    if full:
        room = full[0].pods_until_nodes_full
        lines.append(f"{', '.join(n.namespace for n in full)}: not before the nodes reach "
                     + (f"maxPods ({room:,} more pods fit)" if room else
                        "maxPods, which the declared pods already do"))
    return lines


def _more_nodes(g: GroupForecast) -> str:
    return (f"node group {g.group}: {g.more_nodes_until_failure:,} more nodes before one "
            f"fails ({g.first_failure})")


def _names(message: str | None, cidr: str) -> bool:
    """Whether Calico's message lists *cidr* (``No IPs available in pools: [a b]``)."""
    return bool(message) and re.search(rf"(?<![\w.:]){re.escape(cidr)}(?![\w.:/])",
                                       message) is not None


def pool_outlook(result: Forecast, pool: str) -> list[str]:
    """What the forecast says about one pool: when it runs out (the namespaces
    drawing from it, the node groups whose first failure names it) and the
    block-size advice. Nothing for a stack that declares no nodes: there is
    no load to forecast."""
    p = next((x for x in result.pools if x.pool == pool), None)
    if p is None or not result.nodes:
        return []
    lines = [f"{p.cidr} with /{p.block_size} blocks: {p.blocks_claimed:,} of "
             f"{p.blocks_total:,} claimed; {p.blocks_needed:,} needed by {p.nodes_using:,} "
             f"nodes at {p.demand_per_node:,} addresses each"]
    runs_out = _more_pods([n for n in result.namespaces if pool in n.pools])
    # A node group's first failure names the pools it found full (as _pool_use charges them).
    runs_out += [_more_nodes(g) for g in result.groups if g.more_nodes_until_failure is not None
                 and not g.more_nodes_is_lower_bound and _names(g.first_failure, p.cidr)]
    lines += [f"runs out: {line}" for line in runs_out]
    if p.borrowed_addresses:
        lines.append(f"{p.borrowed_addresses:,} addresses borrowed across nodes")
    if p.recommended_block_size:
        lines.append(f"block size: now {p.block_size_problem}; {p.block_size_fix}")
    return lines


def pool_exhaustion(result: Forecast, pool: str) -> str:
    """The nearest failure for a table cell: ``58 more external-ns pods``."""
    nearest = min((n for n in result.namespaces if pool in n.pools
                   and n.more_pods_until_failure is not None),
                  key=lambda n: n.more_pods_until_failure, default=None)
    if nearest is None:
        return "not before nodes are full" if any(pool in n.pools for n in result.namespaces) \
            else ""
    bound = "≥ " if nearest.more_pods_is_lower_bound else ""
    return f"{bound}{nearest.more_pods_until_failure:,} more {nearest.namespace} pods"
