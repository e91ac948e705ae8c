"""Small stacks for the forecast tests (one pool, one node group, one namespace)."""
from ipam_model.core.model import (Binding, ClusterSettings, NodeGroup, Pool, PoolSpec, Stack,
    frozen_map)


def make_stack(cidr="172.16.0.0/26", bs=29, nodes=10, expected=10, strict=False,
               max_pods=110, ipip="Never"):
    pool = Pool("pool-a", PoolSpec(cidr, bs, ipip_mode=ipip))
    return Stack(name="t", file=None,
                 cluster=ClusterSettings(node_groups=(NodeGroup("w", nodes, max_pods=max_pods),),
                                         strict_affinity=strict),
                 pool_specs=frozen_map(), pool_metadata=frozen_map(),
                 pools=frozen_map({"pool-a": pool}),
                 bindings=frozen_map({"app": Binding("app", ("pool-a",), expected_pods=expected)}))


def rules_of(findings, rule):
    return [f for f in findings if f.rule == rule]
