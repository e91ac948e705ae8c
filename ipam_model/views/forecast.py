"""The capacity forecast as plain text."""
from __future__ import annotations

from ..rules.forecast.model import Forecast


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
