"""The forecast as data: per pool, node group and namespace, what the declared
load does in the Calico IPAM model. ``views/forecast.py`` renders it."""
from __future__ import annotations

from dataclasses import asdict, dataclass


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
