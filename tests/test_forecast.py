"""Capacity planning from the IPAM model: borrowing, exhaustion, block-size advice."""
from ipam_model.forecast import (forecast, forecast_findings, format_forecast,
                                recommend_block_size)
from ipam_model.model import (Binding, ClusterSettings, NodeGroup, Pool, PoolSpec, Stack,
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


def test_borrowing_predicted_when_nodes_need_more_blocks_than_exist():
    # 5 nodes <= 8 blocks (no static CIP502), but 10 pods a node need 2 /29s each:
    # 5 first blocks + 3 second ones, the last 2 nodes borrow 2 addresses each.
    stack = make_stack(nodes=5, expected=50)
    f = forecast(stack)
    assert f.pools[0].blocks_claimed == 8 and f.pools[0].borrowed_addresses == 4
    assert f.groups[0].borrowing_nodes == 2
    (finding,) = rules_of(forecast_findings(stack), "CIP509")
    assert finding.subject == "pool/pool-a" and "4 addresses are borrowed" in finding.message


def test_strict_affinity_predicts_failures():
    stack = make_stack(nodes=5, expected=50, strict=True)
    ns = forecast(stack).namespaces[0]
    assert (ns.allocated, ns.failed) == (46, 4)
    (finding,) = rules_of(forecast_findings(stack), "CIP508")
    assert "4 of 50 expected pods of namespace app" in finding.message
    assert "strict affinity enabled" in finding.message


def test_no_duplicate_of_static_blocks_fewer_than_nodes():
    # 10 nodes, 8 blocks: capacity.py's CIP502 explains it; the forecast stays quiet.
    stack = make_stack(nodes=10, expected=10)
    assert forecast(stack).pools[0].borrowed_addresses == 2
    findings = forecast_findings(stack)
    assert not rules_of(findings, "CIP509") and not rules_of(findings, "CIP508")


def test_exhaustion_point_counts_pods_until_failure():
    # 4 nodes, 4 pods in a /26 of 8 blocks: 60 more pods fit, the 61st fails.
    ns = forecast(make_stack(nodes=4, expected=4)).namespaces[0]
    assert ns.more_pods_until_failure == 60


def test_exhaustion_point_counts_nodes_until_failure():
    # 3 nodes with a tunnel address each: 5 more nodes get a block, the 6th fails
    # under strict affinity.
    f = forecast(make_stack(nodes=3, expected=3, strict=True, ipip="Always"))
    assert f.groups[0].more_nodes_until_failure == 5
    assert "strict affinity" in f.groups[0].first_failure


def test_recommended_block_size_reduces_stranded_space():
    pool = Pool("p", PoolSpec("10.0.0.0/16", 26))
    assert recommend_block_size(pool, [(100, 110)], max_blocks_per_host=20,
                                strict_affinity=False) == (28, 18, 2)


def test_no_recommendation_when_current_is_best():
    pool = Pool("p", PoolSpec("10.0.0.0/16", 28))
    assert recommend_block_size(pool, [(100, 110)], max_blocks_per_host=20,
                                strict_affinity=False)[0] is None


def test_recommendation_keeps_a_block_per_node_and_half_the_host_limit():
    pool = Pool("p", PoolSpec("10.0.0.0/24", 26))
    # /26 gives 4 blocks for 10 nodes (no "now"); /28 is the first with a block per
    # node; /29 and /30 strand the same 2 addresses with more blocks; /31 needs 15
    # blocks a node, more than half of the limit of 20.
    assert recommend_block_size(pool, [(10, 30)], max_blocks_per_host=20,
                                strict_affinity=False) == (28, None, 2)
    # Under strict affinity nothing fits: 10 nodes x 30 addresses > 256.
    assert recommend_block_size(pool, [(10, 30)], max_blocks_per_host=20,
                                strict_affinity=True) == (None, None, None)


def test_text_and_json_outputs():
    f = forecast(make_stack(nodes=5, expected=50))
    text = format_forecast(f)
    assert "pool pool-a (172.16.0.0/26, /29): 8/8 blocks claimed" in text
    assert "namespace app: 50/50 pods get addresses, 4 borrowed" in text
    data = f.to_dict()
    assert data["pools"][0]["borrowed_addresses"] == 4
    assert data["namespaces"][0]["more_pods_until_failure"] == 14  # 64 - 50


def test_block_size_finding_explains_why_the_current_size_loses():
    # /16 with /26 blocks, 100 nodes at maxPods 110: /28 strands 2 a node instead of 18.
    pool = Pool("wide", PoolSpec("10.0.0.0/16", 26))
    stack = Stack(name="t", file=None,
                  cluster=ClusterSettings(node_groups=(NodeGroup("w", 100),)),
                  pool_specs=frozen_map(), pool_metadata=frozen_map(),
                  pools=frozen_map({"wide": pool}), bindings=frozen_map())
    (finding,) = rules_of(forecast_findings(stack), "CIP507")
    assert finding.subject == "pool/wide"
    assert "blockSize 28 would strand 2 addresses per node at 110 addresses a node" in finding.message
    assert "blockSize 26 strands 18 addresses" in finding.message
