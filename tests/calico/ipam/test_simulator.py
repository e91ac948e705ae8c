"""The Calico AutoAssign model: claim order, borrowing, limits, release, tunnels, fork."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipam_model.calico.ipam.chooser import NamespaceInfo
from ipam_model.calico.ipam.results import AllocationFailure, PodAllocation
from ipam_model.calico.ipam.simulator import Simulator
from ipam_model.core.model import Pool, PoolSpec

POOL = Pool("pool-a", PoolSpec("172.16.0.0/26", 29))


def test_claim_order_node1_to_node8():
    sim = Simulator([POOL])
    blocks = [sim.allocate("default", f"p{i}", f"node{i}").block for i in range(1, 9)]
    assert blocks == ["172.16.0.32/29", "172.16.0.0/29", "172.16.0.16/29", "172.16.0.24/29",
                      "172.16.0.48/29", "172.16.0.56/29", "172.16.0.40/29", "172.16.0.8/29"]


def test_nodes_9_and_10_borrow():
    sim = Simulator([POOL])
    results = [sim.allocate("default", f"p{i}", f"node{i}") for i in range(1, 11)]
    assert (results[8].block, results[8].ip, results[8].borrowed) == ("172.16.0.8/29", "172.16.0.9", True)
    assert (results[9].block, results[9].ip, results[9].borrowed) == ("172.16.0.24/29", "172.16.0.25", True)
    affinity = {b.cidr: b.affinity for b in sim.blocks()}
    assert affinity["172.16.0.8/29"] == "host:node8"


def test_strict_affinity_nodes_9_and_10_fail():
    sim = Simulator([POOL], strict_affinity=True)
    results = [sim.allocate("default", f"p{i}", f"node{i}") for i in range(1, 11)]
    assert all(isinstance(r, PodAllocation) for r in results[:8])
    for r in results[8:]:
        assert isinstance(r, AllocationFailure)
        assert r.message == ("Assigned 0 out of 1 requested IPv4 addresses; "
                             "No more free affine blocks and strict affinity enabled")


def test_pool_exhausted_message():
    sim = Simulator([POOL])
    # node1 fills all 8 blocks (64 addresses); node2 finds neither a block nor a free address
    assert all(isinstance(sim.allocate("default", f"p{i}", "node1"), PodAllocation)
               for i in range(64))
    r = sim.allocate("default", "one-too-many", "node2")
    assert r.message == ("Assigned 0 out of 1 requested IPv4 addresses; "
                         "No IPs available in pools: [172.16.0.0/26]")


def test_per_host_block_limit_fails_without_borrowing():
    sim = Simulator([POOL], max_blocks_per_host=2)
    got = [sim.allocate("default", f"p{i}", "node1") for i in range(17)]
    assert all(isinstance(r, PodAllocation) for r in got[:16])
    assert got[16].message == "cannot allocate new block due to per host block limit"
    assert sim.node_blocks("node1") == ["172.16.0.32/29", "172.16.0.40/29"]


def test_default_block_limit_is_20():
    sim = Simulator([Pool("tiny", PoolSpec("10.0.0.0/24", 31))])
    got = [sim.allocate("default", f"p{i}", "node1") for i in range(41)]
    assert all(isinstance(r, PodAllocation) for r in got[:40])
    assert isinstance(got[40], AllocationFailure)


def test_release_goes_to_back_of_queue():
    sim = Simulator([POOL])
    for i in range(3):
        sim.allocate("default", f"p{i}", "node1")
    sim.release("default", "p0")  # .32 freed: reused only after .35-.39
    ips = [sim.allocate("default", f"q{i}", "node1").ip for i in range(6)]
    assert ips == ["172.16.0.35", "172.16.0.36", "172.16.0.37", "172.16.0.38",
                   "172.16.0.39", "172.16.0.32"]


def test_empty_unaffine_block_is_deleted_and_node_removal_frees_blocks():
    sim = Simulator([POOL])
    for i in range(1, 10):
        sim.allocate("default", f"p{i}", f"node{i}")
    sim.remove_node("node8")  # node9 still borrows from .8/29: the block stays
    assert "172.16.0.8/29" in {b.cidr for b in sim.blocks()}
    sim.release("default", "p9")
    assert "172.16.0.8/29" not in {b.cidr for b in sim.blocks()}
    # the freed block is claimable again: node9 now claims it as its own
    r = sim.allocate("default", "again", "node9")
    assert (r.block, r.borrowed) == ("172.16.0.8/29", False)


def test_tunnel_address_first_then_pods():
    pool = Pool("external-pool", PoolSpec("172.16.0.0/26", 29, ipip_mode="Always"))
    sim = Simulator([pool])
    tunnel = sim.add_node("node1")
    assert [(t.kind, t.ip) for t in tunnel] == [("ipip", "172.16.0.32")]
    assert [sim.allocate("default", f"p{i}", "node1").ip for i in range(3)] == [
        "172.16.0.33", "172.16.0.34", "172.16.0.35"]


def test_two_pools_nodes_9_10_claim_from_second_pool():
    p2 = Pool("pool-b", PoolSpec("192.169.0.0/24", 29))
    sim = Simulator([POOL, p2])
    res = [sim.allocate("default", f"p{i}", f"node{i}") for i in range(1, 11)]
    assert [r.block for r in res[8:]] == ["192.169.0.200/29", "192.169.0.240/29"]


def test_readded_node_uses_new_labels_and_keeps_leftover_blocks():
    a = Pool("a-pool", PoolSpec("10.1.0.0/24", 29, node_selector="zone == 'a'"))
    b = Pool("b-pool", PoolSpec("10.2.0.0/24", 29, node_selector="zone == 'b'"))
    sim = Simulator([a, b])
    sim.add_node("n1", {"zone": "a"})
    assert sim.allocate("default", "p1", "n1").pool == "a-pool"
    sim.remove_node("n1")
    assert sim.blocks() == []  # its only pod was released, its empty block deleted
    sim.add_node("n1", {"zone": "b"})
    assert sim.allocate("default", "p2", "n1").pool == "b-pool"


# --------------------------------------------------------------------------
# fork(): an independent copy


NODES = ["n0", "n1", "n2", "n3"]
ALLOC = st.tuples(st.just("alloc"), st.sampled_from(["default", "web"]), st.integers(0, 12),
                  st.sampled_from(NODES))
OPS = st.one_of(  # small pools and mostly allocations, so blocks fill and nodes borrow
    ALLOC, ALLOC, ALLOC,
    st.tuples(st.just("add"), st.sampled_from(NODES), st.sampled_from("ab")),
    st.tuples(st.just("release"), st.sampled_from(["default", "web"]), st.integers(0, 12)),
    st.tuples(st.just("remove"), st.sampled_from(NODES)),
    st.tuples(st.just("gc")),
)


ALLOC_0 = ("alloc", "default", 0, "n0")


def fork_pools(bs_a, bs_b):
    return [Pool("a", PoolSpec("10.0.0.0/28", bs_a, ipip_mode="Always",
                               node_selector="zone == 'a'")),
            Pool("b", PoolSpec("10.1.0.0/29", bs_b, node_selector="zone == 'b'")),
            Pool("c", PoolSpec("10.2.0.0/29", 30, assignment_mode="Manual"))]


def apply(sim, op):
    """One operation; what it returns (the simulator's answer, comparable)."""
    kind, *args = op
    if kind == "add":
        node, zone = args
        return sim.add_node(node, {"zone": zone})
    if kind == "alloc":
        ns, i, node = args
        return sim.allocate(ns, f"p{i}", node)
    if kind == "release":
        ns, i = args
        return sim.release(ns, f"p{i}")
    if kind == "remove":
        return sim.remove_node(*args)
    return sim.release_empty_blocks()


def state(sim):
    return (sim.blocks(), sim.pods(), sim.tunnels(), list(sim.failures),
            {n: sim.node_blocks(n) for n in NODES}, sim.pool_usage(), sorted(sim.namespaces))


def fresh(settings_, ops):
    pools, kwargs = settings_
    sim = Simulator(pools, **kwargs)
    return sim, [apply(sim, op) for op in ops]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(29, 31), st.integers(29, 31), st.booleans(), st.integers(0, 3),
       st.lists(OPS, max_size=40), st.lists(OPS, max_size=40), st.lists(OPS, max_size=40))
def test_a_fork_is_independent_and_both_continue_as_a_fresh_replay(bs_a, bs_b, strict, limit,
                                                                   before, on_fork, on_original):
    web = {"web": NamespaceInfo("web", ipv4_pools=("c",))}
    setup = (fork_pools(bs_a, bs_b),
             {"strict_affinity": strict, "max_blocks_per_host": limit, "namespaces": web})
    original, _ = fresh(setup, before)
    at_fork = state(original)
    fork = original.fork()
    assert state(fork) == at_fork
    fork_answers = [apply(fork, op) for op in on_fork]
    assert state(original) == at_fork  # nothing the fork did reached the original
    original_answers = [apply(original, op) for op in on_original]
    replay_fork, answers = fresh(setup, [*before, *on_fork])
    assert fork_answers == answers[len(before):]
    assert state(fork) == state(replay_fork)
    replay_original, answers = fresh(setup, [*before, *on_original])
    assert original_answers == answers[len(before):]
    assert state(original) == state(replay_original)


@pytest.mark.parametrize("pool, before, on_fork, on_original", [
    # the fork's claim walk past the node's first block must not shortcut the original's
    (Pool("p", PoolSpec("10.0.0.0/30", 32)), [ALLOC_0], [("alloc", "default", 1, "n0"),
                                                       ("alloc", "default", 2, "n0")],
     [("alloc", "default", 3, "n0")]),
    # an address the fork releases is not the original's to hand out
    (Pool("p", PoolSpec("10.0.0.0/31", 31)), [ALLOC_0, ("alloc", "default", 1, "n0")],
     [("release", "default", 0)], [("release", "default", 1), ("alloc", "default", 2, "n0")]),
], ids=["claims", "releases"])
def test_what_a_fork_does_never_reaches_the_original(pool, before, on_fork, on_original):
    setup = ([pool], {})
    original, _ = fresh(setup, before)
    fork = original.fork()
    for op in on_fork:
        apply(fork, op)
    answers = [apply(original, op) for op in on_original]
    replay, expected = fresh(setup, [*before, *on_original])
    assert answers == expected[len(before):]
    assert state(original) == state(replay)


def test_a_fork_may_start_a_node_of_the_same_name_with_other_labels():
    # Pool choice caches, by node name, which pools select a node: a fork keeps its own.
    sim = Simulator(fork_pools(29, 30))
    fork = sim.fork()
    sim.add_node("n0", {"zone": "a"})
    fork.add_node("n0", {"zone": "b"})
    assert (sim.allocate("default", "p", "n0").pool, fork.allocate("default", "p", "n0").pool) == (
        "a", "b")
    assert [t.pool for t in sim.tunnels()] == ["a"] and fork.tunnels() == []


@pytest.mark.parametrize("model", ["fast", "naive"])
def test_ipv6_vxlan_pools_give_a_node_a_vxlan_v6_tunnel_address(model):
    """calico-node assigns a VXLAN IPv6 tunnel address from the enabled IPv6
    pools with vxlanMode on that allow Tunnel and select the node
    (node/pkg/allocateip/allocateip.go:255 AttributeTypeVXLANV6, :737-740;
    handle vxlan-v6-tunnel-addr-<node>, :451-452), after IPIP and VXLAN."""
    from ipam_model.calico.ipam.naive import NaiveSimulator
    pools = [Pool("v4", PoolSpec("10.0.0.0/24", 26, ipip_mode="Always")),
             Pool("v6", PoolSpec("fd00::/120", 122, vxlan_mode="Always")),
             Pool("v6-off", PoolSpec("fd01::/120", 122, vxlan_mode="Always", disabled=True))]
    sim = (Simulator if model == "fast" else NaiveSimulator)(pools)
    got = sim.add_node("node1")
    assert [(t.kind, t.pool) for t in got] == [("ipip", "v4"), ("vxlan-v6", "v6")]
    assert got[1].ip.startswith("fd00::") and got[1].to_dict()["type"] == "vxlan-v6"


@pytest.mark.parametrize("model", ["fast", "naive"])
def test_a_failed_tunnel_address_releases_the_others_of_the_pass(model):
    """reconcileTunnelAddrs returns at the first error and its deferred cleanup
    releases every tunnel address it assigned in that pass
    (allocateip.go:222-282): the node is left with none."""
    from ipam_model.calico.ipam.naive import NaiveSimulator
    pools = [Pool("v4", PoolSpec("10.0.0.0/24", 26, ipip_mode="Always")),
             Pool("v6", PoolSpec("fd00::/128", 128, vxlan_mode="Always"))]
    sim = (Simulator if model == "fast" else NaiveSimulator)(pools)
    assert [t.kind for t in sim.add_node("node1")] == ["ipip", "vxlan-v6"]
    [failure] = sim.add_node("node2")
    assert (failure.kind, failure.node) == ("vxlan-v6", "node2")
    assert "No IPs available in pools: [fd00::/128]" in failure.message
    node2 = [b for b in sim.blocks() if b.affinity == "host:node2"]
    assert [(b.cidr.endswith("/26"), b.allocated) for b in node2] == [(True, 0)]
# ------------------------------------------------------------------ IPReservations

def _reserved(*texts):
    from ipam_model.core.cidr import parse_cidr
    return [parse_cidr(t) for t in texts]


def test_reserved_addresses_are_never_handed_out_58_of_64():
    """libcalico-go lib/ipam/ipam_test.go:774-828 ("Reservation tests"): a /26 pool
    with reservations 10.0.0.1/32, 10.0.0.32/30 (resv1) and 11.0.0.0/30 (outside
    the pool), 10.0.0.17/32 (resv2); AutoAssign of 64 addresses on one host gets 58.
    Here one pod is one address: 58 pods get one, none of them reserved, the 59th
    finds nothing left."""
    reserved = _reserved("10.0.0.1/32", "10.0.0.32/30", "11.0.0.0/30", "10.0.0.17/32")
    sim = Simulator([Pool("p", PoolSpec("10.0.0.0/26", 26))], reserved=reserved)
    got = [sim.allocate("default", f"p{i}", "allocation-attributes") for i in range(64)]
    ips = [r.ip for r in got if isinstance(r, PodAllocation)]
    assert len(ips) == 58
    assert not {"10.0.0.1", "10.0.0.32", "10.0.0.33", "10.0.0.34", "10.0.0.35",
                "10.0.0.17"} & set(ips)
    assert ips[:3] == ["10.0.0.0", "10.0.0.2", "10.0.0.3"]  # lowest unreserved ordinal first
    assert got[58].message == ("Assigned 0 out of 1 requested IPv4 addresses; "
                               "No IPs available in pools: [10.0.0.0/26]")
    (block,) = sim.blocks()
    assert (block.allocated, block.free, block.reserved) == (58, 0, 6)
    assert sim.pool_usage() == {"p": (58, 0)} and sim.pool_reserved() == {"p": 6}


def test_a_wholly_reserved_block_is_never_claimed():
    """findUsableBlock skips a block that a reservation covers entirely
    (ipam_block_reader_writer.go:178-182): node1's walk starts at 172.16.0.32/29
    (test_claim_order_node1_to_node8), reserved here, so it claims the next one."""
    sim = Simulator([POOL], reserved=_reserved("172.16.0.32/29"))
    assert sim.allocate("default", "p", "node1").block == "172.16.0.40/29"
    # eight nodes, seven claimable blocks: the eighth borrows, never from .32/29
    got = [sim.allocate("default", f"q{i}", f"node{i}") for i in range(2, 9)]
    assert all(r.block != "172.16.0.32/29" for r in got)
    assert [r.borrowed for r in got].count(True) == 1


def test_reservations_spanning_blocks_count_and_wall_off_whole_blocks():
    # 10.0.0.0/24 in /28 blocks; 10.0.0.0/26 walls off 4 blocks, .64/30 reserves 4 addresses
    sim = Simulator([Pool("p", PoolSpec("10.0.0.0/24", 28))],
                    reserved=_reserved("10.0.0.0/26", "10.0.0.64/30"))
    got = [sim.allocate("default", f"p{i}", "n1") for i in range(256)]
    ips = [r.ip for r in got if isinstance(r, PodAllocation)]
    assert len(ips) == 256 - 64 - 4
    assert all(int(ip.rsplit(".", 1)[1]) >= 68 for ip in ips)
    assert sim.pool_reserved() == {"p": 68}


def test_fully_reserved_pool_fails_every_request():
    sim = Simulator([Pool("p", PoolSpec("10.0.0.0/28", 29))], reserved=_reserved("10.0.0.0/28"))
    r = sim.allocate("default", "p", "n1")
    assert isinstance(r, AllocationFailure)
    assert r.message.endswith("No IPs available in pools: [10.0.0.0/28]")


def test_ipv6_reservation_of_a_huge_range_is_walled_without_enumerating_blocks():
    pool = Pool("v6", PoolSpec("fd00::/64", 122))
    sim = Simulator([pool], reserved=_reserved("fd00::/65"))
    r = sim.allocate("default", "p", "n1", version=6)
    assert isinstance(r, PodAllocation) and r.ip.startswith("fd00::8000:0:0:")
    assert sim.pool_reserved() == {"v6": 1 << 63}


def test_tunnel_addresses_skip_reserved_ones():
    sim = Simulator([Pool("ipip", PoolSpec("10.0.0.0/26", 26, ipip_mode="Always"))],
                    reserved=_reserved("10.0.0.0/31"))
    (tunnel,) = sim.add_node("n1")
    assert tunnel.ip == "10.0.0.2"


def test_fork_keeps_reservations():
    sim = Simulator([Pool("p", PoolSpec("10.0.0.0/29", 29))], reserved=_reserved("10.0.0.0/30"))
    sim.allocate("default", "a", "n1")
    twin = sim.fork()
    assert [twin.allocate("default", f"b{i}", "n1").ip for i in range(3)] == [
        "10.0.0.5", "10.0.0.6", "10.0.0.7"]
    assert sim.allocate("default", "c", "n1").ip == "10.0.0.5"


# ------------------------------------------------------------------ autoAllocateBlocks

def test_auto_allocate_blocks_false_claims_nothing_and_does_not_borrow():
    """findOrClaimBlock with AutoAllocateBlocks false returns "failed to find or
    claim a block" (libcalico-go lib/ipam/ipam.go:569-639), which autoAssign
    returns at once (ipam.go:780-797), before the borrowing loop (ipam.go:876)."""
    on = Simulator([POOL])
    assert isinstance(on.allocate("default", "p", "node1"), PodAllocation)
    off = Simulator([POOL], auto_allocate_blocks=False)
    r = off.allocate("default", "p", "node1")
    assert isinstance(r, AllocationFailure) and r.message == "failed to find or claim a block"
    assert off.blocks() == []
