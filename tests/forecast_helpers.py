"""Small stacks for the forecast tests (one pool, one node group, one namespace)."""
from ipam_model.core.model import (
    ORIGIN_DECLARED,
    AllocatorSettings,
    Binding,
    ClusterSettings,
    IPAMConfig,
    NodeGroup,
    Pool,
    PoolSpec,
    Stack,
    frozen_map,
)


def allocator(strict=False, max_blocks_per_host=0, auto_allocate_blocks=True
              ) -> AllocatorSettings:
    """The IPAMConfig a test stack declares (calico-ipam:ipamConfig)."""
    return AllocatorSettings(IPAMConfig(strict_affinity=strict,
                                        max_blocks_per_host=max_blocks_per_host,
                                        auto_allocate_blocks=auto_allocate_blocks),
                             ORIGIN_DECLARED)


def make_stack(cidr="172.16.0.0/26", bs=29, nodes=10, expected=10, strict=False,
               max_pods=110, ipip="Never"):
    pool = Pool("pool-a", PoolSpec(cidr, bs, ipip_mode=ipip))
    return Stack(name="t", file=None,
                 cluster=ClusterSettings(node_groups=(NodeGroup("w", nodes, max_pods=max_pods),)),
                 pool_specs=frozen_map(), pool_metadata=frozen_map(),
                 pools=frozen_map({"pool-a": pool}),
                 bindings=frozen_map({"app": Binding("app", ("pool-a",), expected_pods=expected)}),
                 allocator=allocator(strict))


def rules_of(findings, rule):
    return [f for f in findings if f.rule == rule]
