"""Capacity planning from the IPAM model: borrowing, exhaustion, block-size advice."""
from pathlib import Path
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings, strategies as st

from ipam_model.rules.forecast.forecast import (MAX_EXTRA_NODES, _failed, _Load, forecast,
    forecast_findings, recommend_block_size)
from ipam_model.views.forecast import format_forecast
from ipam_model.core.model import (Binding, ClusterSettings, NodeGroup, Pool, PoolSpec, Stack,
    frozen_map)


DATA = Path(__file__).parent / "data"


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


def test_no_block_size_advice_without_a_concrete_problem():
    # /16 with /26 blocks, 100 nodes at maxPods 110: a /28 would strand less, but every
    # node has its blocks and nothing borrows, fails or runs short: no migration advice.
    pool = Pool("wide", PoolSpec("10.0.0.0/16", 26))
    stack = Stack(name="t", file=None,
                  cluster=ClusterSettings(node_groups=(NodeGroup("w", 100),)),
                  pool_specs=frozen_map(), pool_metadata=frozen_map(),
                  pools=frozen_map({"wide": pool}), bindings=frozen_map())
    assert not rules_of(forecast_findings(stack), "CIP507")
    assert forecast(stack).pools[0].recommended_block_size is None


def test_block_size_advice_when_the_declared_load_borrows_and_a_size_fixes_it():
    # 5 nodes x 10 pods in 8 /29 blocks: 2 nodes borrow. /31 blocks (32 of 2) hold
    # 5 blocks a node for 25 blocks in all: nothing borrows, nothing is stranded.
    stack = make_stack(nodes=5, expected=50, max_pods=10)
    (finding,) = rules_of(forecast_findings(stack), "CIP507")
    assert finding.message == (
        "pool pool-a (172.16.0.0/26): now blockSize 29 makes the declared load need 10 "
        "blocks of the 8 there are (4 borrowed addresses). Instead, blockSize 31 gives 32 "
        "blocks of 2 addresses for 5 nodes; the declared load would claim 25 of them and "
        "strand 0 addresses; a node at 10 addresses takes 5 blocks of maxBlocksPerHost 20. "
        "blockSize is immutable, so this means a new pool and a migration")
    assert " 1 addresses" not in finding.message


def test_no_block_size_advice_when_no_size_fixes_the_problem():
    # 5 nodes x 110 pods cannot fit in 64 addresses at any block size: a capacity
    # problem (CIP503/CIP508), not a block-size one.
    stack = make_stack(nodes=5, expected=300)
    assert not rules_of(forecast_findings(stack), "CIP507")


def test_bundled_stacks_get_no_block_size_advice():
    from ipam_model.declared.files import load_stacks
    stacks = load_stacks(DATA / "forecast_stacks")
    assert {s.name for s in stacks} == {"dev", "staging", "prod"}
    for stack in stacks:
        assert not rules_of(forecast_findings(stack), "CIP507"), stack.name


# --------------------------------------------------------------------------
# The fast "how many more" answers against brute force (the old replay)


def brute_more_pods(stack, namespace):
    load = _Load(stack)
    for added in range(load.room()):
        if _failed(load.place(namespace) or []):
            return added
    return None


def brute_more_nodes(stack, group, namespaces):
    load = _Load(stack)
    for added in range(MAX_EXTRA_NODES):
        name = f"{group.name}-{group.count + added}"
        before = len(load.tunnel_failures)
        load.start_node(name, group)
        if len(load.tunnel_failures) > before:
            return added, load.tunnel_failures[-1].message
        for ns in namespaces:
            failure = _failed(load.run_pod(ns, name))
            if failure:
                return added, failure.message
        if not namespaces and not load.sim.tunnels():
            return None, None
    return None, None


POOL_CIDRS = ["10.0.0.0/27", "10.0.1.0/28", "10.0.2.0/26", "10.0.3.0/29"]


@st.composite
def small_stacks(draw):
    pools = {}
    for i in range(draw(st.integers(1, 3))):
        cidr = POOL_CIDRS[i]
        prefix = int(cidr.split("/")[1])
        pools[f"p{i}"] = Pool(f"p{i}", PoolSpec(
            cidr, draw(st.integers(prefix, min(32, prefix + 4))),
            ipip_mode=draw(st.sampled_from(["Never", "Never", "Always"])),
            node_selector=draw(st.sampled_from(["", "", "zone == 'a'", "zone == 'b'"])),
            assignment_mode=draw(st.sampled_from(["Automatic", "Automatic", "Manual"]))))
    if draw(st.booleans()):
        pools["v6"] = Pool("v6", PoolSpec("fd00::/122", draw(st.integers(122, 126))))
    groups = tuple(NodeGroup(f"g{i}", draw(st.integers(1, 4)), labels=frozen_map({"zone": z}),
                             max_pods=draw(st.integers(1, 12)))
                   for i, z in enumerate(draw(st.lists(st.sampled_from("ab"), min_size=1,
                                                       max_size=2))))
    names = sorted(pools)
    bindings = {}
    for i in range(draw(st.integers(1, 4))):
        v4 = [n for n in names if n != "v6"]
        chosen = tuple(draw(st.lists(st.sampled_from(v4), max_size=2, unique=True)))
        bindings[f"ns{i}"] = Binding(f"ns{i}", chosen, expected_pods=draw(st.integers(0, 12)))
    cluster = ClusterSettings(node_groups=groups, strict_affinity=draw(st.booleans()),
                              max_blocks_per_host=draw(st.sampled_from([0, 1, 2, 3])))
    return Stack(name="t", file=None, cluster=cluster, pool_specs=frozen_map(),
                 pool_metadata=frozen_map(), pools=frozen_map(pools),
                 bindings=frozen_map(bindings))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_stacks())
def test_more_pods_and_nodes_match_brute_force(stack):
    result = forecast(stack)
    for ns in result.namespaces:
        assert not ns.more_pods_is_lower_bound
        assert ns.more_pods_until_failure == brute_more_pods(stack, ns.namespace), ns.namespace
    with_pods = sorted(n for n, b in stack.bindings.items() if b.expected_pods)
    for g, group in zip(result.groups, stack.cluster.node_groups):
        assert not g.more_nodes_is_lower_bound
        assert (g.more_nodes_until_failure, g.first_failure) == brute_more_nodes(
            stack, group, with_pods)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_stacks())
def test_closed_form_alone_matches_brute_force_where_it_claims_exactness(stack):
    # With no replay budget, an answer flagged exact comes from the closed form only;
    # every other answer is a lower bound that brute force never undercuts.
    with patch("ipam_model.rules.forecast.forecast.MAX_REPLAY_ALLOCATIONS", 0):
        result = forecast(stack)
    for ns in result.namespaces:
        truth = brute_more_pods(stack, ns.namespace)
        if ns.more_pods_is_lower_bound:
            assert truth is None or truth >= ns.more_pods_until_failure
        else:
            assert ns.more_pods_until_failure == truth


def test_a_search_cut_short_says_it_is_a_lower_bound():
    # Two pools in one annotation: no closed form, and no budget to replay.
    pools = {"a": Pool("a", PoolSpec("10.0.0.0/28", 30)),
             "b": Pool("b", PoolSpec("10.0.1.0/28", 30))}
    stack = Stack(name="t", file=None,
                  cluster=ClusterSettings(node_groups=(NodeGroup("w", 2, max_pods=20),)),
                  pool_specs=frozen_map(), pool_metadata=frozen_map(), pools=frozen_map(pools),
                  bindings=frozen_map({"app": Binding("app", ("a", "b"), expected_pods=2)}))
    assert brute_more_pods(stack, "app") == 30
    with patch("ipam_model.rules.forecast.forecast.MAX_REPLAY_ALLOCATIONS", 0):
        result = forecast(stack)
    ns = result.namespaces[0]
    # each node has 3 free addresses in its first /30: 6 more pods are certain
    assert (ns.more_pods_until_failure, ns.more_pods_is_lower_bound) == (6, True)
    text = format_forecast(result)
    assert "namespace app: 2/2 pods get addresses" in text
    assert "at least 6 more pods without a failure (search stopped at its work bound)" in text
    assert "at least 0 more nodes" in text
    full = forecast(stack).namespaces[0]
    assert (full.more_pods_until_failure, full.more_pods_is_lower_bound) == (30, False)


def test_forecast_findings_leave_the_garbage_collector_as_they_found_it():
    import gc

    stack = make_stack(nodes=20, expected=400)
    assert gc.isenabled()
    first = forecast_findings(stack, fast=False)
    assert gc.isenabled()
    gc.disable()
    try:
        assert forecast_findings(stack, fast=False) == first
        assert not gc.isenabled()
    finally:
        gc.enable()
