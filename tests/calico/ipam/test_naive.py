"""The oracle: the naive scan and the fast Simulator agree on every allocation."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipam_model.calico.ipam.cni import IP_ADDRS_ANNOTATION as IP_ADDRS
from ipam_model.calico.ipam.cni import CniConfig, PodRequest
from ipam_model.calico.ipam.naive import NaiveSimulator
from ipam_model.calico.ipam.results import PodAllocation
from ipam_model.calico.ipam.simulator import Simulator
from ipam_model.core.cidr import parse_cidr
from ipam_model.core.model import Pool, PoolSpec


@st.composite
def scenarios(draw):
    prefix = draw(st.integers(24, 28))
    bs = draw(st.integers(prefix, 30))
    pools = [Pool("p1", PoolSpec(f"10.0.0.0/{prefix}", bs))]
    if draw(st.booleans()):
        pools.append(Pool("p0", PoolSpec("10.1.0.0/27", draw(st.integers(27, 30)))))
    nodes = [f"n{i}" for i in range(draw(st.integers(1, 12)))]
    ops = draw(st.lists(st.tuples(st.sampled_from(nodes), st.booleans()), max_size=120))
    return pools, ops, draw(st.booleans()), draw(st.integers(0, 4))


def replay_in_both(ops, fast, naive) -> None:
    """Allocate (or release a live pod) in both models, step by step: every answer
    and the final blocks agree."""
    live = []
    for i, (node, release) in enumerate(ops):
        if release and live:
            victim = live.pop(i % len(live))
            fast.release("default", victim)
            naive.release("default", victim)
            continue
        a = fast.allocate("default", f"pod{i}", node)
        b = naive.allocate("default", f"pod{i}", node)
        assert a == b
        if isinstance(a, PodAllocation):
            live.append(f"pod{i}")
    assert fast.blocks() == naive.blocks()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_fast_allocator_equals_naive_oracle(scenario):
    pools, ops, strict, limit = scenario
    fast = Simulator(pools, strict_affinity=strict, max_blocks_per_host=limit)
    naive = NaiveSimulator(pools, strict_affinity=strict, max_blocks_per_host=limit)
    replay_in_both(ops, fast, naive)


@st.composite
def pod_scenarios(draw):
    """Dual stack, tunnels, pod annotations (ipAddrs, pools) and releases."""
    v4_prefix = draw(st.integers(26, 28))
    pools = [Pool("p4", PoolSpec(f"10.0.0.0/{v4_prefix}", draw(st.integers(v4_prefix, 30)),
                                 ipip_mode=draw(st.sampled_from(["Never", "Always"])))),
             Pool("p6", PoolSpec("fd00::/122", draw(st.integers(122, 126)),
                                 vxlan_mode=draw(st.sampled_from(["Never", "Always"]))))]
    nodes = [f"n{i}" for i in range(draw(st.integers(1, 6)))]
    address = st.one_of(st.integers(0, (1 << (32 - v4_prefix)) + 3).map(
        lambda i: f'["10.0.0.{i}"]'), st.integers(0, 70).map(lambda i: f'["fd00::{i:x}"]'))
    annotation = st.one_of(st.none(), address.map(lambda a: {IP_ADDRS: a}),
                           st.just({"cni.projectcalico.org/ipv6pools": '["p6"]'}),
                           st.just({"cni.projectcalico.org/ipFamilies": '["IPv6"]'}))
    ops = draw(st.lists(st.tuples(st.sampled_from(nodes), st.booleans(), annotation),
                        max_size=80))
    # IPReservations, which AutoAssign honours and AssignIP (ipAddrs) ignores
    reserved = [parse_cidr(f"10.0.0.{draw(st.integers(0, 63)) & ~3}/30")
                for _ in range(draw(st.integers(0, 2)))]
    return pools, ops, draw(st.booleans()), draw(st.integers(0, 3)), reserved


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pod_scenarios())
def test_fast_pod_adds_equal_naive_oracle(scenario):
    """The CNI ADD (shared plugin logic) over both block algorithms: the same
    addresses, refusals and blocks, tunnels and released families included."""
    pools, ops, strict, limit, reserved = scenario
    cni = CniConfig(assign_ipv4=True, assign_ipv6=True)
    settings_ = dict(strict_affinity=strict, max_blocks_per_host=limit, reserved=reserved)
    fast, naive = Simulator(pools, **settings_), NaiveSimulator(pools, **settings_)
    alive = []
    for i, (node, release, annotations) in enumerate(ops):
        if release and alive:
            victim = alive.pop(i % len(alive))
            fast.release("default", victim)
            naive.release("default", victim)
            continue
        request = PodRequest("default", f"pod{i}", node, annotations or {})
        a, b = fast.add_pod(request, cni), naive.add_pod(request, cni)
        assert a == b
        if isinstance(a, list):
            alive.append(f"pod{i}")
    assert fast.blocks() == naive.blocks()
    assert fast.failures == naive.failures
@st.composite
def reserved_scenarios(draw):
    """Scenarios with IPReservations (some blocks wholly, some partly reserved, some
    entries outside every pool) and autoAllocateBlocks."""
    from ipam_model.core.cidr import parse_cidr
    pools, ops, strict, limit = draw(scenarios())
    reserved = []
    for _ in range(draw(st.integers(0, 4))):
        prefix = draw(st.integers(24, 32))
        offset = draw(st.integers(0, (1 << (32 - 24)) - 1)) >> (32 - prefix) << (32 - prefix)
        base = draw(st.sampled_from(["10.0.0.", "10.1.0.", "10.2.0."]))
        reserved.append(parse_cidr(f"{base}{offset}/{prefix}"))
    return pools, ops, strict, limit, reserved, draw(st.booleans())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reserved_scenarios())
def test_fast_allocator_equals_naive_oracle_with_reservations(scenario):
    """The reservation rules (ipam_block.go:105-158 autoAssign skips reserved
    ordinals; ipam.go:522-525 and ipam_block_reader_writer.go:178-182 skip wholly
    reserved blocks; ipam.go:895-898 when borrowing) agree in both models."""
    pools, ops, strict, limit, reserved, auto = scenario
    settings_ = dict(strict_affinity=strict, max_blocks_per_host=limit, reserved=reserved,
                     auto_allocate_blocks=auto)
    fast, naive = Simulator(pools, **settings_), NaiveSimulator(pools, **settings_)
    replay_in_both(ops, fast, naive)
