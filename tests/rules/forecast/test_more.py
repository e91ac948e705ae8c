"""How many more pods or nodes: the closed form and the replays against brute force."""
from unittest.mock import patch

from forecast_helpers import allocator, make_stack
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipam_model.core.model import (
    Binding,
    ClusterSettings,
    NodeGroup,
    Pool,
    PoolSpec,
    Stack,
    frozen_map,
)
from ipam_model.rules.forecast import forecast
from ipam_model.rules.forecast.load import Load, first_failure
from ipam_model.rules.forecast.more import MAX_EXTRA_NODES
from ipam_model.views.forecast import format_forecast


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


# --------------------------------------------------------------------------
# The fast "how many more" answers against brute force (the old replay)


def brute_more_pods(stack, namespace):
    load = Load(stack)
    for added in range(load.room()):
        if first_failure(load.place(namespace) or []):
            return added
    return None


def brute_more_nodes(stack, group, namespaces):
    load = Load(stack)
    for added in range(MAX_EXTRA_NODES):
        name = f"{group.name}-{group.count + added}"
        before = len(load.tunnel_failures)
        load.start_node(name, group)
        if len(load.tunnel_failures) > before:
            return added, load.tunnel_failures[-1].message
        for ns in namespaces:
            failure = first_failure(load.run_pod(ns, name))
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
    ipam = allocator(draw(st.booleans()), draw(st.sampled_from([0, 1, 2, 3])))
    cluster = ClusterSettings(node_groups=groups)
    return Stack(name="t", file=None, cluster=cluster, pool_specs=frozen_map(),
                 pool_metadata=frozen_map(), pools=frozen_map(pools),
                 bindings=frozen_map(bindings), allocator=ipam)


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
    with patch("ipam_model.rules.forecast.more.MAX_REPLAY_ALLOCATIONS", 0):
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
    with patch("ipam_model.rules.forecast.more.MAX_REPLAY_ALLOCATIONS", 0):
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
