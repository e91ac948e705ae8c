"""Capacity planning from the IPAM model: borrowing, exhaustion, block-size advice."""
from ipam_model.forecast import forecast, forecast_findings, recommend_block_size
from ipam_model.model import Binding, ClusterSettings, NodeGroup, Pool, PoolSpec, Stack, frozen_map


def make_stack(cidr="172.16.0.0/26", bs=29, nodes=10, expected=10, strict=False, max_pods=110):
    pool = Pool("pool-a", PoolSpec(cidr, bs))
    return Stack(name="t", file=None,
                 cluster=ClusterSettings(node_groups=(NodeGroup("w", nodes, max_pods=max_pods),),
                                         strict_affinity=strict),
                 pool_specs=frozen_map(), pool_metadata=frozen_map(),
                 pools=frozen_map({"pool-a": pool}),
                 bindings=frozen_map({"app": Binding("app", ("pool-a",), expected_pods=expected)}))


def test_more_nodes_than_blocks_predicts_borrowing():
    f = forecast(make_stack())
    assert f.pools[0].borrowed_pods == 2 and f.pools[0].blocks_claimed == 8
    rules = {x.rule for x in forecast_findings(make_stack())}
    assert "CIP509" in rules


def test_strict_affinity_predicts_failures_instead():
    stack = make_stack(strict=True)
    ns = forecast(stack).namespaces[0]
    assert (ns.allocated, ns.failed) == (8, 2)
    msgs = [x.message for x in forecast_findings(stack) if x.rule == "CIP508"]
    assert msgs and "strict affinity enabled" in msgs[0]


def test_exhaustion_point_counts_pods_until_failure():
    # 4 nodes, 4 pods in a /26 of 8 blocks: 60 more pods fit, the 61st fails.
    ns = forecast(make_stack(nodes=4, expected=4)).namespaces[0]
    assert ns.more_pods_until_failure == 60


def test_recommended_block_size_reduces_stranded_space():
    pool = Pool("p", PoolSpec("10.0.0.0/16", 26))
    best, now, then = recommend_block_size(pool, [(100, 110)], max_blocks_per_host=20,
                                           strict_affinity=False)
    assert (best, now, then) == (28, 18, 2)


def test_no_recommendation_when_current_is_best():
    pool = Pool("p", PoolSpec("10.0.0.0/16", 28))
    assert recommend_block_size(pool, [(100, 110)], max_blocks_per_host=20,
                                strict_affinity=False)[0] is None
