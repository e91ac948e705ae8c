"""The fast path of forecast_findings: it may skip the simulator only when the full
forecast would report nothing, and it never changes the findings."""
from dataclasses import replace
from pathlib import Path
from unittest.mock import patch

from forecast_helpers import allocator
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
from ipam_model.declared.files import load_stacks
from ipam_model.rules.capacity import capacity_findings, pool_capacity
from ipam_model.rules.forecast import build, forecast_findings
from ipam_model.rules.forecast.clearance import clearance as prove

DATA = Path(__file__).resolve().parents[2] / "data"
POOL_CIDRS = ["10.0.0.0/24", "10.0.1.0/27", "10.0.2.0/22", "10.0.8.0/26"]
V6_CIDRS = ["fd00::/120", "fd00:1::/122"]


def clearance(stack):
    static = {(f.rule, f.subject) for f in capacity_findings(stack)}
    return prove(stack, pool_capacity(stack),
                 lambda subject, *rules: any((r, subject) in static for r in rules))


@st.composite
def small_stacks(draw):
    pools = {}
    for i in range(draw(st.integers(1, 4))):
        cidr = POOL_CIDRS[draw(st.integers(0, 3))] if i == 0 else POOL_CIDRS[i]
        prefix = int(cidr.split("/")[1])
        pools[f"p{i}"] = Pool(f"p{i}", PoolSpec(
            cidr, draw(st.integers(prefix, min(32, prefix + 6))),
            ipip_mode=draw(st.sampled_from(["Never", "Never", "Always"])),
            vxlan_mode=draw(st.sampled_from(["Never", "Never", "Always"])),
            node_selector=draw(st.sampled_from(["", "", "zone == 'a'", "zone == 'b'",
                                                "kubernetes.io/hostname == 'g0-1'"])),
            namespace_selector=draw(st.sampled_from(["", "", "team == 'x'"])),
            assignment_mode=draw(st.sampled_from(["Automatic", "Automatic", "Manual"]))))
    if draw(st.booleans()):
        cidr = draw(st.sampled_from(V6_CIDRS))
        prefix = int(cidr.split("/")[1])
        pools["v6"] = Pool("v6", PoolSpec(cidr, draw(st.integers(prefix, prefix + 5))))
    groups = tuple(NodeGroup(f"g{i}", draw(st.integers(0, 5)), labels=frozen_map({"zone": z}),
                             max_pods=draw(st.integers(0, 40)))
                   for i, z in enumerate(draw(st.lists(st.sampled_from("ab"), min_size=1,
                                                       max_size=3))))
    names = sorted(pools)
    v4 = [n for n in names if n != "v6"]
    bindings = {}
    for i in range(draw(st.integers(1, 4))):
        chosen = tuple(draw(st.lists(st.sampled_from(v4), max_size=3, unique=True)))
        v6 = ("v6",) if "v6" in pools and draw(st.booleans()) else ()
        bindings[f"ns{i}"] = Binding(
            f"ns{i}", chosen, v6, expected_pods=draw(st.integers(0, 300)),
            labels=frozen_map({"team": draw(st.sampled_from("xy"))}))
    ipam = allocator(draw(st.booleans()), draw(st.sampled_from([0, 1, 2, 3])),
                     auto_allocate_blocks=draw(st.sampled_from([True, True, True, False])))
    cluster = ClusterSettings(node_groups=groups,
                              headroom_percent=draw(st.sampled_from([0, 20, 50])))
    return Stack(name="t", file=None, cluster=cluster, pool_specs=frozen_map(),
                 pool_metadata=frozen_map(), pools=frozen_map(pools),
                 bindings=frozen_map(bindings), allocator=ipam)


def pool_findings(findings, pool):
    return [f for f in findings if f.subject == f"pool/{pool}"
            and f.rule in ("CIP507", "CIP509")]


def assert_cleared_only_where_the_simulator_finds_nothing(stack):
    """The clearance proof's pools and stack have no finding of the full
    simulation, and the forecast with its fast path equals the one without."""
    full = forecast_findings(stack, fast=False)
    if stack.cluster.node_groups and stack.pools:
        cleared = clearance(stack)
        for pool in cleared.pools:
            assert not pool_findings(full, pool), pool
        if cleared.stack:
            assert full == []
    assert forecast_findings(stack) == full


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_stacks())
def test_fast_path_clears_only_what_the_full_forecast_finds_nothing_for(stack):
    assert_cleared_only_where_the_simulator_finds_nothing(stack)


def roomy_stack(max_blocks_per_host=0):
    pools = {"wide": Pool("wide", PoolSpec("10.0.0.0/20", 26, ipip_mode="Always")),
             "pay": Pool("pay", PoolSpec("10.0.16.0/24", 28, assignment_mode="Manual"))}
    return Stack(name="t", file=None,
                 cluster=ClusterSettings(node_groups=(NodeGroup("w", 10, max_pods=110),)),
                 pool_specs=frozen_map(), pool_metadata=frozen_map(), pools=frozen_map(pools),
                 bindings=frozen_map({"app": Binding("app", expected_pods=200),
                                      "payments": Binding("payments", ("pay",),
                                                          expected_pods=40)}),
                 allocator=allocator(max_blocks_per_host=max_blocks_per_host))


def test_a_roomy_stack_is_cleared_without_running_the_simulator():
    stack = roomy_stack()
    assert clearance(stack).stack
    with patch.object(build, "Load", side_effect=AssertionError("simulated")):
        assert forecast_findings(stack) == []
    assert forecast_findings(stack, fast=False) == []


def test_a_tight_block_limit_is_not_cleared_and_is_reported():
    # maxBlocksPerHost 1: 20 app pods + a tunnel on a node do not fit one /26, so a
    # headroom pod may hit the limit; the proof must not clear it.
    stack = roomy_stack(max_blocks_per_host=1)
    assert not clearance(stack).stack
    assert forecast_findings(stack) == forecast_findings(stack, fast=False)


def test_bundled_stacks_give_the_same_findings_fast_and_full():
    stacks = load_stacks(DATA / "forecast_stacks")
    assert {s.name for s in stacks} == {"dev", "staging", "prod"}
    for stack in stacks:
        assert forecast_findings(stack) == forecast_findings(stack, fast=False), stack.name


def many_automatic_pools_and_a_small_one(max_blocks_per_host=3):
    """Five roomy Automatic pools and a /24 of four /26 blocks for ten nodes (CIP502
    explains that one): unannotated pods may go to six pools, one of them borrowing."""
    pools = {f"wide-{i}": Pool(f"wide-{i}", PoolSpec(f"10.{i}.0.0/20", 26)) for i in range(5)}
    pools["zz-small"] = Pool("zz-small", PoolSpec("10.9.0.0/24", 26))
    return Stack(name="t", file=None,
                 cluster=ClusterSettings(node_groups=(NodeGroup("w", 10, max_pods=110),)),
                 pool_specs=frozen_map(), pool_metadata=frozen_map(), pools=frozen_map(pools),
                 bindings=frozen_map({"app": Binding("app", expected_pods=1000)}),
                 allocator=allocator(max_blocks_per_host=max_blocks_per_host))


def test_a_borrowing_pool_among_many_automatic_ones_is_cleared_when_no_node_can_hit_the_limit():
    # A node at 110 pods holds at most one block of the borrowing pool plus full /26
    # blocks of the others: 1 + 109 // 64 = 2 < maxBlocksPerHost 3, so nothing is refused.
    stack = many_automatic_pools_and_a_small_one()
    assert clearance(stack).stack
    with patch.object(build, "Load", side_effect=AssertionError("simulated")):
        assert forecast_findings(stack) == []
    assert forecast_findings(stack, fast=False) == []


def test_the_same_stack_with_a_block_limit_of_two_is_left_to_the_simulator():
    stack = many_automatic_pools_and_a_small_one(max_blocks_per_host=2)
    assert not clearance(stack).stack
    assert forecast_findings(stack) == forecast_findings(stack, fast=False)


def test_capacity_findings_given_by_the_caller_give_the_same_findings():
    stacks = [*load_stacks(DATA / "forecast_stacks"), roomy_stack(max_blocks_per_host=1)]
    for stack in stacks:
        given_static = forecast_findings(stack, capacity=capacity_findings(stack))
        assert given_static == forecast_findings(stack), stack.name


def test_the_given_capacity_findings_decide_what_is_already_explained():
    # 10 nodes, 8 blocks: CIP502 explains the borrowing, so no CIP509 with it, one without.
    pool = Pool("pool-a", PoolSpec("172.16.0.0/26", 29))
    stack = Stack(name="t", file=None,
                  cluster=ClusterSettings(node_groups=(NodeGroup("w", 10, max_pods=110),)),
                  pool_specs=frozen_map(), pool_metadata=frozen_map(),
                  pools=frozen_map({"pool-a": pool}),
                  bindings=frozen_map({"app": Binding("app", ("pool-a",), expected_pods=10)}))
    static = capacity_findings(stack)
    assert any(f.rule == "CIP502" for f in static)
    assert not [f for f in forecast_findings(stack, capacity=static) if f.rule == "CIP509"]
    assert [f for f in forecast_findings(stack, capacity=[]) if f.rule == "CIP509"]


def test_without_auto_allocated_blocks_the_simulator_decides():
    """autoAllocateBlocks false: no node claims a block, so every first request fails
    (ipam.go:569-639); the proof, which counts claims, must not clear the stack."""
    stack = roomy_stack()
    stack = replace(stack, allocator=allocator(strict=True, auto_allocate_blocks=False))
    assert not clearance(stack).stack
    found = forecast_findings(stack)
    assert {(f.rule, f.subject) for f in found} == {
        ("CIP508", "stack/t"), ("CIP508", "namespace/app"), ("CIP508", "namespace/payments")}
    assert forecast_findings(stack) == forecast_findings(stack, fast=False)


TIGHT_CIDRS = ["10.9.0.0/26", "10.9.0.0/27", "10.9.0.0/25", "10.9.1.0/28"]


@st.composite
def stacks_with_a_pool_that_runs_dry(draw):
    """Roomy pools and one small pool with fewer blocks than nodes (CIP502), bound by
    annotation by some namespaces and often too small for their pods: the proof's
    step 5 (a route that may run dry) against the simulator."""
    wide = draw(st.integers(1, 3))
    pools = {f"wide-{i}": Pool(f"wide-{i}", PoolSpec(
        f"10.{i}.0.0/22", 26, ipip_mode=draw(st.sampled_from(["Never", "Never", "Always"])),
        node_selector=draw(st.sampled_from(["", "", "zone == 'a'"]))))
        for i in range(wide)}
    tight = draw(st.sampled_from(TIGHT_CIDRS))
    prefix = int(tight.split("/")[1])
    name = draw(st.sampled_from(["tight", "a-tight"]))  # before or after the others
    pools[name] = Pool(name, PoolSpec(
        tight, draw(st.integers(prefix + 1, min(32, prefix + 3))),
        assignment_mode=draw(st.sampled_from(["Automatic", "Manual"])),
        ipip_mode=draw(st.sampled_from(["Never", "Never", "Never", "Always"]))))
    if draw(st.booleans()):
        pools["v6"] = Pool("v6", PoolSpec("fd00::/116", draw(st.sampled_from([122, 124]))))
    groups = tuple(NodeGroup(f"g{i}", draw(st.integers(1, 6)), labels=frozen_map({"zone": z}),
                             max_pods=draw(st.integers(1, 40)))
                   for i, z in enumerate(draw(st.lists(st.sampled_from("ab"), min_size=1,
                                                       max_size=3))))
    bindings = {}
    for i in range(draw(st.integers(1, 6))):
        chosen = draw(st.sampled_from([(name,), (name,), (), (name, "wide-0"),
                                       ("wide-0", name), ("wide-0",)]))
        v6 = ("v6",) if "v6" in pools and draw(st.booleans()) else ()
        bindings[f"ns{i}"] = Binding(f"ns{i}", chosen, v6,
                                     expected_pods=draw(st.integers(0, 60)))
    cluster = ClusterSettings(node_groups=groups,
                              headroom_percent=draw(st.sampled_from([0, 20, 50])))
    return Stack(name="t", file=None, cluster=cluster, pool_specs=frozen_map(),
                 pool_metadata=frozen_map(), pools=frozen_map(pools),
                 bindings=frozen_map(bindings),
                 allocator=allocator(max_blocks_per_host=draw(st.sampled_from([0, 0, 2, 3]))))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacks_with_a_pool_that_runs_dry())
def test_a_pool_that_may_run_dry_is_cleared_only_when_the_simulator_finds_nothing(stack):
    assert_cleared_only_where_the_simulator_finds_nothing(stack)


def test_a_small_bound_pool_running_dry_is_explained_by_cip502():
    """Ten nodes, a /26 of /28 blocks (four) bound by two namespaces whose 100 pods
    do not fit: CIP502 explains the pool, the first namespace's pods draw from it
    (so its CIP508 is explained too) and the second finds the nodes full."""
    pools = {"roomy": Pool("roomy", PoolSpec("10.0.0.0/20", 26)),
             "tight": Pool("tight", PoolSpec("10.9.0.0/26", 28))}
    stack = Stack(name="t", file=None,
                  cluster=ClusterSettings(node_groups=(NodeGroup("w", 10, max_pods=10),)),
                  pool_specs=frozen_map(), pool_metadata=frozen_map(), pools=frozen_map(pools),
                  bindings=frozen_map({"a": Binding("a", ("tight",), expected_pods=100),
                                       "b": Binding("b", ("tight",), expected_pods=5)}),
                  allocator=allocator())
    assert clearance(stack).stack
    with patch.object(build, "Load", side_effect=AssertionError("simulated")):
        assert forecast_findings(stack) == []
    assert forecast_findings(stack, fast=False) == []
