"""The Calico AutoAssign model: claim order, borrowing, limits, release, tunnels, CLI."""
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ipam_model.core.model import Pool, PoolSpec
from ipam_model.calico.ipam.simulator import (AllocationFailure, NamespaceInfo, NaiveSimulator,
    PodAllocation, Simulator)

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


def test_tunnel_from_first_pool_in_name_order_that_allows_tunnel():
    a = Pool("a-pool", PoolSpec("10.1.0.0/24", 29, ipip_mode="Always", allowed_uses=("Workload",)))
    b = Pool("b-pool", PoolSpec("10.2.0.0/24", 29, ipip_mode="Always"))
    c = Pool("c-pool", PoolSpec("10.3.0.0/24", 29, ipip_mode="Always"))
    sim = Simulator([c, b, a])
    assert [t.pool for t in sim.add_node("node1")] == ["b-pool"]


def test_pool_choice_annotations_and_errors():
    a = Pool("a-pool", PoolSpec("10.1.0.0/24", 29, node_selector="zone == 'b'"))
    d = Pool("disabled", PoolSpec("10.9.0.0/24", 29, disabled=True))
    ns = {"bound": NamespaceInfo("bound", ipv4_pools=("a-pool",)),
          "off": NamespaceInfo("off", ipv4_pools=("10.9.0.0/24",))}
    sim = Simulator([a, d], namespaces=ns)
    sim.add_node("node1", {"zone": "a"})
    # a requested pool is used although its nodeSelector does not match the node
    assert sim.allocate("bound", "p", "node1").pool == "a-pool"
    assert sim.allocate("off", "p", "node1").message == (
        "the given pool (10.9.0.0/24) does not exist, or is not enabled")
    assert sim.allocate("free", "p", "node1").message == "no configured Calico pools for node node1"
    # the pod annotation overrides the namespace's
    assert sim.allocate("off", "p2", "node1", pools=["a-pool"]).pool == "a-pool"


def test_allowed_uses_and_no_pools():
    t = Pool("tunnel-only", PoolSpec("10.1.0.0/24", 29, allowed_uses=("Tunnel",)))
    assert Simulator([t]).allocate("x", "p", "n").message == (
        "cannot find a qualified ippool, no pools match the required use (Workload)")
    assert Simulator([]).allocate("x", "p", "n").message == "cannot find a qualified ippool"


def test_namespace_selector():
    sel = Pool("team", PoolSpec("10.1.0.0/24", 29, namespace_selector="team == 'x'",
                                allowed_uses=("Workload",)))
    rest = Pool("zz-default", PoolSpec("10.2.0.0/24", 29))
    sim = Simulator([sel, rest], namespaces={"tx": NamespaceInfo("tx", labels={"team": "x"})})
    assert sim.allocate("tx", "p", "n").pool == "team"
    assert sim.allocate("other", "p", "n").pool == "zz-default"


def test_two_pools_nodes_9_10_claim_from_second_pool():
    p2 = Pool("pool-b", PoolSpec("192.169.0.0/24", 29))
    sim = Simulator([POOL, p2])
    res = [sim.allocate("default", f"p{i}", f"node{i}") for i in range(1, 11)]
    assert [r.block for r in res[8:]] == ["192.169.0.200/29", "192.169.0.240/29"]


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


def run_command(argv):
    """The simulate command alone (other commands' modules play no part)."""
    import argparse
    from ipam_model.cli.commands import simulate as command
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    return command.run(parser.parse_args(argv))


def test_cli_dev_example(capsys):
    pytest.importorskip("ipam_model.calico")
    rc = run_command([ "--stack", "dev", "--stacks", "stacks", "--node", "node1",
               "--pods", "external-ns=3", "--pods", "internal-ns=3", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    pods = {(p["namespace"], p["ip"], p["block"]) for p in out["pods"]}
    assert pods == {("external-ns", "172.16.0.33", "172.16.0.32/29"),
                    ("external-ns", "172.16.0.34", "172.16.0.32/29"),
                    ("external-ns", "172.16.0.35", "172.16.0.32/29"),
                    ("internal-ns", "192.169.0.208", "192.169.0.208/29"),
                    ("internal-ns", "192.169.0.209", "192.169.0.208/29"),
                    ("internal-ns", "192.169.0.210", "192.169.0.208/29")}
    assert set(out["pods"][0]) == {"namespace", "pod", "node", "ip", "pool", "block"}
    assert out["tunnels"][0]["ip"] == "172.16.0.32"
    assert {b["cidr"]: b["allocated"] for b in out["blocks"]} == {
        "172.16.0.32/29": 4, "192.169.0.208/29": 3}


def test_cli_failures_exit_1_and_bad_pods_flag(capsys):
    pytest.importorskip("ipam_model.calico")
    from ipam_model.core.errors import UsageError
    rc = run_command(["--stack", "dev", "--node", "node1", "--pods", "external-ns=70",
                      "--strict-affinity"])
    out = capsys.readouterr().out
    assert rc == 1 and "No more free affine blocks and strict affinity enabled" in out
    assert "pod external-ns/external-ns-63 on node node1" in out
    with pytest.raises(UsageError, match="NAMESPACE=COUNT"):
        run_command(["--stack", "dev", "--pods", "web"])
    with pytest.raises(UsageError, match="no stack 'nope'"):
        run_command(["--stack", "nope"])


def test_cli_text_output_tables(capsys):
    pytest.importorskip("ipam_model.calico")
    assert run_command(["--stack", "dev", "--node", "node1", "--pods", "external-ns=1"]) == 0
    out = capsys.readouterr().out
    assert "NAME            NAMESPACE     IP            NODE    POOL            BLOCK" in out
    rows = [[c.strip() for c in line.strip("|").split("|")]
            for line in out.splitlines() if line.startswith("| ")]
    assert rows[0] == ["GROUPING", "CIDR", "IPS TOTAL", "IPS IN USE", "IPS FREE", "AFFINITY"]
    assert ["IP Pool", "172.16.0.0/26", "64", "2 (3%)", "62 (97%)", ""] in rows
    assert ["Block", "172.16.0.32/29", "8", "2 (25%)", "6 (75%)", "host:node1"] in rows


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


@pytest.mark.parametrize("name", ["", "  "])
def test_cli_empty_node_name_is_a_usage_error(name):
    # An empty --node once simulated a node called "" whose blocks showed
    # affinity "none", as if nobody owned them.
    from ipam_model.core.errors import UsageError
    with pytest.raises(UsageError, match="--node"):
        run_command(["--stack", "dev", "--stacks", "stacks", "--node", name])


def test_cli_pods_of_an_undeclared_namespace_are_flagged(capsys):
    # A typo (paymnts=2) silently simulated pods on the Automatic pools instead
    # of the namespace's bound pools; the run must say so.
    rc = run_command(["--stack", "prod", "--stacks", "stacks", "--nodes", "2",
                      "--pods", "paymnts=2", "--pods", "payments=1", "--format", "json"])
    captured = capsys.readouterr()
    assert rc == 0 and json.loads(captured.out)["pods"]
    assert "paymnts" in captured.err and "not declared in stack prod" in captured.err
    assert "payments " not in captured.err and "'payments'" not in captured.err
