"""The oracle: the naive scan and the fast Simulator agree on every allocation."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipam_model.calico.ipam.naive import NaiveSimulator
from ipam_model.calico.ipam.results import PodAllocation
from ipam_model.calico.ipam.simulator import Simulator
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


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_fast_allocator_equals_naive_oracle(scenario):
    pools, ops, strict, limit = scenario
    fast = Simulator(pools, strict_affinity=strict, max_blocks_per_host=limit)
    naive = NaiveSimulator(pools, strict_affinity=strict, max_blocks_per_host=limit)
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
