"""The CNI plugin's ADD (calico/ipam/cni.py) over both allocation models.

Every test runs against the fast Simulator and the naive oracle: the plugin
logic is shared, the block algorithms are not.
"""
from __future__ import annotations

import gc
import ipaddress

import pytest

from ipam_model.calico.ipam.chooser import NamespaceInfo, Refused
from ipam_model.calico.ipam.cni import CniConfig, PodRequest, families, ip_addrs
from ipam_model.calico.ipam.naive import NaiveSimulator
from ipam_model.calico.ipam.results import AllocationFailure, PodAllocation
from ipam_model.calico.ipam.simulator import Simulator
from ipam_model.core.model import Pool, PoolSpec

MODELS = [Simulator, NaiveSimulator]
DUAL = CniConfig(assign_ipv4=True, assign_ipv6=True)
V4_TINY = Pool("v4", PoolSpec("10.0.0.0/30", 30))        # four addresses
V6 = Pool("v6", PoolSpec("fd00::/120", 122))
IPAM_ADDRS = "cni.projectcalico.org/ipAddrs"


def pod(name, node="node1", ns="default", **annotations):
    return PodRequest(ns, name, node, annotations)


def v6_block_state(sim):
    return [(b.cidr, b.allocated) for b in sim.blocks() if ":" in b.cidr]


def ordinal(allocation):
    """The address's place in its block."""
    return int(ipaddress.ip_address(allocation.ip)) - int(
        ipaddress.ip_network(allocation.block).network_address)


@pytest.mark.parametrize("model", MODELS)
def test_dual_stack_pod_whose_ipv4_fails_keeps_no_ipv6(model):
    """ipam.go:111-152: IPv4 first; exhausted pools are a short assignment, not an
    error, so IPv6 is still assigned; ipam_plugin.go:412-450 then releases it
    ("Assigned IPv6 addresses but failed to assign IPv4 addresses"). The freed
    ordinal goes to the back of the block's queue, so the next pod gets ::5."""
    sim = model([V4_TINY, V6])
    got = [sim.add_pod(pod(f"p{i}"), DUAL) for i in range(5)]
    assert [[ordinal(a) for a in r] for r in got[:4]] == [[i, i] for i in range(4)]
    v6_block = got[0][1].block
    failed = got[4]
    assert isinstance(failed, AllocationFailure) and failed.pod == "p4"
    assert failed.message == ("Assigned 0 out of 1 requested IPv4 addresses; "
                              "No IPs available in pools: [10.0.0.0/30]")
    assert v6_block_state(sim) == [(v6_block, 4)]  # the fifth address was released
    sim.release("default", "p0")
    again = sim.add_pod(pod("p5"), DUAL)
    assert [ordinal(a) for a in again] == [0, 5]  # ordinal 4 went to the back


@pytest.mark.parametrize("model", MODELS)
def test_ipv6_failure_releases_the_ipv4_address(model):
    v6_one = Pool("v6", PoolSpec("fd00::/128", 128))
    sim = model([Pool("v4", PoolSpec("10.0.0.0/24", 26)), v6_one])
    first = sim.add_pod(pod("a"), DUAL)
    assert [a.ip for a in first][1] == "fd00::"
    failed = sim.add_pod(pod("b"), DUAL)
    assert isinstance(failed, AllocationFailure)
    assert "requested IPv6 addresses" in failed.message
    assert [(b.cidr, b.allocated) for b in sim.blocks() if "." in b.cidr] == [
        (first[0].block, 1)]


@pytest.mark.parametrize("model", MODELS)
def test_an_ipv4_error_ends_the_request_before_ipv6(model):
    """A refusal that is an error (the requested pool does not exist) returns
    from AutoAssign before IPv6: no IPv6 block is claimed. A short IPv4
    assignment claims the IPv6 block before the address is released."""
    sim = model([V4_TINY, V6])
    bad = sim.add_pod(pod("x", **{"cni.projectcalico.org/ipv4pools": '["10.9.0.0/16"]'}), DUAL)
    assert bad.message == "the given pool (10.9.0.0/16) does not exist, or is not enabled"
    assert v6_block_state(sim) == []
    for i in range(4):
        sim.add_pod(pod(f"fill{i}", node="node2"), CniConfig())
    assert isinstance(sim.add_pod(pod("short"), DUAL), AllocationFailure)
    [(cidr, allocated)] = v6_block_state(sim)  # node1's block, claimed and kept
    assert allocated == 0
    assert [b.affinity for b in sim.blocks() if b.cidr == cidr] == ["host:node1"]


@pytest.mark.parametrize("model", MODELS)
def test_both_families_are_resolved_before_any_address(model):
    """ResolvePools runs for ipv4_pools and ipv6_pools whatever is assigned
    (ipam_plugin.go:313-330): a bad IPv6 entry fails an IPv4-only pod."""
    sim = model([V4_TINY, V6])
    r = sim.add_pod(pod("x", **{"cni.projectcalico.org/ipv6pools": '["nope"]'}), CniConfig())
    assert r.message == 'error parsing pool "nope": invalid CIDR address: nope'
    assert sim.blocks() == []


@pytest.mark.parametrize("model", MODELS)
def test_pod_annotation_overrides_the_namespace_annotation(model):
    """k8s.go:219-231: the pod's ipv4pools replaces the namespace's."""
    a, b = Pool("a", PoolSpec("10.1.0.0/24", 26)), Pool("b", PoolSpec("10.2.0.0/24", 26))
    sim = model([a, b], namespaces={"web": NamespaceInfo("web", ipv4_pools=("a",))})
    assert sim.add_pod(pod("p", ns="web"), CniConfig())[0].pool == "a"
    got = sim.add_pod(pod("q", ns="web", **{"cni.projectcalico.org/ipv4pools": '["b"]'}),
                      CniConfig())
    assert got[0].pool == "b"


def test_cni_default_families_are_calicos():
    """ipam_plugin.go:299-310: IPv4 unless assign_ipv4 is "false", IPv6 only when
    assign_ipv6 is "true"; ipFamilies replaces both (k8s.go:233-296)."""
    assert CniConfig().families == (4,)
    assert CniConfig.for_families([4, 6]).families == (4, 6)
    assert families(CniConfig(), {"cni.projectcalico.org/ipFamilies": '["IPv6"]'}) == (6,)
    with pytest.raises(Refused, match=r'error parsing ipFamilies: \["IPv5"\]'):
        families(CniConfig(), {"cni.projectcalico.org/ipFamilies": '["IPv5"]'})


# libcalico-go lib/ipam/ipam_test.go:4240-4282 ("AssignIP: requested IP vs returned
# error"), pools 192.168.1.0/24 and fd80:24e2:f998:72d6::/120.
ASSIGN_POOLS = [Pool("p4", PoolSpec("192.168.1.0/24", 26)),
                Pool("p6", PoolSpec("fd80:24e2:f998:72d6::/120", 122))]


@pytest.mark.parametrize("model", MODELS)
def test_assign_ip_like_calicos_table(model):
    """The five entries of Calico's table, through the CNI plugin (k8s.go:730
    prefixes "error getting IP from IPAM: ")."""
    sim = model(ASSIGN_POOLS)
    ok4 = sim.add_pod(pod("a", **{IPAM_ADDRS: '["192.168.1.0"]'}), CniConfig())
    assert [(x.ip, x.block) for x in ok4] == [("192.168.1.0", "192.168.1.0/26")]
    ok6 = sim.add_pod(pod("b", **{IPAM_ADDRS: '["fd80:24e2:f998:72d6::"]'}), CniConfig())
    assert [x.ip for x in ok6] == ["fd80:24e2:f998:72d6::"]
    outside = sim.add_pod(pod("c", **{IPAM_ADDRS: '["1.1.1.1"]'}), CniConfig())
    assert outside.message == ("error getting IP from IPAM: The provided IP address is not "
                               "in a configured pool")
    twice = sim.add_pod(pod("d", **{IPAM_ADDRS: '["192.168.1.0"]'}), CniConfig())
    # ErrorResourceAlreadyExists{Err: "Address already assigned in block", Identifier: ip}
    assert twice.message == ("error getting IP from IPAM: resource already exists: 192.168.1.0 "
                             "with error: Address already assigned in block")


@pytest.mark.parametrize("model", MODELS)
def test_assigned_ip_claims_the_block_and_autoassign_skips_it(model):
    """AssignIP claims the block for the host (claimAffineBlock, ipam.go:1000-1030);
    AutoAssign then fills the same block from the head of its queue, past the
    address taken out of turn."""
    sim = model([Pool("p", PoolSpec("10.0.0.0/24", 29))])
    got = sim.add_pod(pod("fixed", **{IPAM_ADDRS: '["10.0.0.98"]'}), CniConfig())
    assert got[0].block == "10.0.0.96/29" and not got[0].borrowed
    ips = [sim.add_pod(pod(f"p{i}"), CniConfig())[0].ip for i in range(8)]
    # the claimed block is node1's first: .96, .97, .99 ... .103, then a new block
    assert ips[:7] == ["10.0.0.96", "10.0.0.97"] + [f"10.0.0.{i}" for i in range(99, 104)]
    assert not ips[7].startswith("10.0.0.9") and not ips[7].startswith("10.0.0.10")
    sim.release("default", "fixed")
    again = sim.add_pod(pod("again", **{IPAM_ADDRS: '["10.0.0.98"]'}), CniConfig())
    assert again[0].ip == "10.0.0.98"


@pytest.mark.parametrize("raw,message", [
    ("[]", 'annotation "cni.projectcalico.org/ipAddrs" specified but empty'),
    ('["10.0.0.1", "10.0.0.2"]',
     'cannot have more than one IPv4 address for "cni.projectcalico.org/ipAddrs" annotation'),
    ('["10.0.0.300"]', "invalid IP format: 10.0.0.300"),
    ("10.0.0.1", "failed to parse IPs 10.0.0.1 for annotation \"cni.projectcalico.org/ipAddrs\""),
])
def test_ip_addrs_refusals_are_calicos(raw, message):
    """validateAndExtractIPs (cni-plugin pkg/k8s/k8s.go:861-920)."""
    with pytest.raises(Refused) as exc:
        ip_addrs(raw)
    assert str(exc.value).startswith(message)


def test_deeply_nested_pod_annotations_are_refused_like_bad_json():
    """Pod annotations come from a scenario file: nesting that would exhaust the
    standard decoder's recursion is the plugin's parse error, not a crash."""
    deep = "[" * 5000 + "]" * 5000
    with pytest.raises(Refused, match="failed to parse IPs"):
        ip_addrs(deep)
    with pytest.raises(Refused, match="error parsing ipFamilies"):
        families(CniConfig(), {"cni.projectcalico.org/ipFamilies": deep})


def test_ipv4_mapped_ipv6_is_an_ipv4_address():
    assert ip_addrs('["::ffff:10.0.0.1"]') == [(4, 0x0A000001)]


@pytest.mark.parametrize("model", MODELS)
def test_strict_affinity_refuses_another_nodes_block_for_assign_ip(model):
    sim = model([Pool("p", PoolSpec("10.0.0.0/24", 29))], strict_affinity=True)
    first = sim.add_pod(pod("a", node="node1"), CniConfig())[0]
    inside = ipaddress.ip_network(first.block).network_address + 5
    other = sim.add_pod(pod("b", node="node2", **{IPAM_ADDRS: f'["{inside}"]'}), CniConfig())
    assert other.message == "error getting IP from IPAM: Block host affinity does not match"
    assert isinstance(first, PodAllocation)


@pytest.mark.parametrize("model", MODELS)
def test_ip_addrs_may_take_a_reserved_address_and_autoassign_still_skips_it(model):
    """AssignIP reads no IPReservation (libcalico-go lib/ipam/ipam.go AssignIP
    checks the pool and the block only); AutoAssign skips reserved ordinals
    (ipam_block.go autoAssign), also once the pod holding one is gone."""
    from ipam_model.core.cidr import parse_cidr
    sim = model([Pool("p", PoolSpec("10.0.0.0/29", 29))], reserved=[parse_cidr("10.0.0.0/30")])
    fixed = sim.add_pod(pod("fixed", **{IPAM_ADDRS: '["10.0.0.1"]'}), CniConfig())
    assert [a.ip for a in fixed] == ["10.0.0.1"]
    [held] = sim.blocks()  # the taken reserved address is allocated, not counted twice
    assert (held.allocated, held.free, held.reserved) == (1, 4, 3)
    sim.release("default", "fixed")
    ips = [sim.add_pod(pod(f"p{i}"), CniConfig()) for i in range(5)]
    assert [r[0].ip for r in ips[:4]] == ["10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7"]
    assert isinstance(ips[4], AllocationFailure)
    [block] = sim.blocks()
    assert (block.allocated, block.free) == (4, 0)


def test_a_refused_pod_leaves_no_reference_cycle():
    """The short IPv4 assignment is re-raised after IPv6 was tried: kept in a local,
    the exception would hold the frame that holds it, and with it every caller's
    frame (the forecast's whole stack) until a full collection."""
    sim = Simulator([V4_TINY, V6])
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        got = [sim.add_pod(pod(f"p{i}"), DUAL) for i in range(5)]
        assert isinstance(got[4], AllocationFailure)
        del got
        assert gc.collect() == 0
    finally:
        if was_enabled:
            gc.enable()
