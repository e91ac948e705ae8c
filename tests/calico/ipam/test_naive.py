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
