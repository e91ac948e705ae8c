"""Overlaps: the sweep against brute force, and the findings a user sees."""
from __future__ import annotations

import shutil
from pathlib import Path

import netaddr
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from paths import ROOT

from ipam_model.core.live_state import OWNER_TIGERA_OPERATOR, LivePool
from ipam_model.core.model import PoolSpec
from ipam_model.declared.files import load_stack, load_stacks
from ipam_model.rules.overlap import (
    find_overlaps,
    live_overlap_findings,
    routing_domain_findings,
    stack_overlap_findings,
)

REPO_STACKS = ROOT / "stacks"


def write_stack(directory: Path, name: str, pools: dict, cluster: dict | None = None,
                namespaces: dict | None = None) -> Path:
    config = {"calico-ipam:pools": pools}
    if cluster is not None:
        config["calico-ipam:cluster"] = cluster
    if namespaces is not None:
        config["calico-ipam:namespaces"] = namespaces
    path = directory / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return path


def rules_of(findings):
    return sorted(f.rule for f in findings)


# ----------------------------------------------------------------------------
# The sweep


def test_nested_equal_and_disjoint():
    pairs = find_overlaps([("10.0.0.0/16", "a"), ("10.0.1.0/24", "b"), ("10.0.0.0/16", "c"),
                           ("10.1.0.0/16", "d")])
    assert sorted(pairs) == [("a", "b"), ("a", "c"), ("c", "b")]


def test_ipv4_and_ipv6_never_overlap():
    # ::/0 spans every IPv6 address; 0.0.0.0/0 every IPv4 one; the integers overlap.
    assert find_overlaps([("0.0.0.0/0", "v4"), ("::/0", "v6")]) == []
    assert find_overlaps([("::/0", "all6"), ("::a00:0/104", "low6"), ("10.0.0.0/8", "v4")]) \
        == [("all6", "low6")]


def test_pairs_are_outer_then_inner_whatever_the_input_order():
    assert find_overlaps([("10.0.1.0/24", "inner"), ("10.0.0.0/16", "outer")]) == \
        [("outer", "inner")]


def test_adjacent_cidrs_do_not_overlap():
    assert find_overlaps([("10.0.0.0/25", "a"), ("10.0.0.128/25", "b")]) == []
    assert find_overlaps([("fd00::/121", "a"), ("fd00::80/121", "b")]) == []


def test_invalid_cidr_is_rejected():
    for bad in ("10.0.0.0", "10.0.0.0/33", "010.0.0.0/8", " 10.0.0.0/8", "10.1/16", "fd00::/129"):
        with pytest.raises(ValueError):
            find_overlaps([(bad, "x")])


def _v4(draw_prefix, draw_addr):
    net = netaddr.IPNetwork(f"{netaddr.IPAddress(0x0A000000 + draw_addr)}/{draw_prefix}")
    return str(net.cidr)


cidr_v4 = st.builds(_v4, st.integers(16, 32), st.integers(0, 0xFFFF))
cidr_v6 = st.builds(lambda p, a: str(netaddr.IPNetwork(
    f"{netaddr.IPAddress((0xFD00 << 112) + a, 6)}/{p}").cidr),
    st.integers(112, 128), st.integers(0, 0xFFFF))


def brute_force(entries):
    nets = [netaddr.IPNetwork(c) for c, _ in entries]
    out = set()
    for i, a in enumerate(nets):
        for j in range(i + 1, len(nets)):
            b = nets[j]
            if a.version == b.version and (a in b or b in a):
                out.add(frozenset((i, j)))
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(cidr_v4, cidr_v6), max_size=40),
       st.lists(st.sampled_from([0, 1, 2]), max_size=40))
def test_sweep_finds_exactly_the_pairs_brute_force_finds(cidr_list, repeats):
    # Re-add some CIDRs verbatim so equal CIDRs are common, not a rarity.
    cidr_list = cidr_list + [cidr_list[r % len(cidr_list)] for r in repeats if cidr_list]
    entries = [(c, i) for i, c in enumerate(cidr_list)]
    pairs = find_overlaps(entries)
    assert len(pairs) == len(set(pairs)), "no pair twice"
    assert {frozenset(p) for p in pairs} == brute_force(entries)
    for outer, inner in pairs:
        assert netaddr.IPNetwork(cidr_list[inner]) in netaddr.IPNetwork(cidr_list[outer])


# ----------------------------------------------------------------------------
# One stack


def test_pool_contains_pool_names_both_and_points_at_the_later_one(tmp_path):
    path = write_stack(tmp_path, "t", {"a": {"cidr": "10.0.0.0/16"},
                                       "b": {"cidr": "10.0.1.0/24"}})
    [finding] = stack_overlap_findings(load_stack(path))
    assert finding.rule == "CIP201" and finding.severity.value == "error"
    assert finding.message.startswith(
        'pool a (10.0.0.0/16) contains pool b (10.0.1.0/24); Calico rejects overlapping pools '
        '("IPPool(b) CIDR overlaps with IPPool(a) CIDR 10.0.0.0/16")')
    assert "duplicate addresses" in finding.message
    assert finding.subject == "pool/b"
    assert finding.location.path[-2:] == ("b", "cidr") and finding.location.line == 6
    assert finding.related[0].path[-2:] == ("a", "cidr") and finding.related[0].line == 4


@pytest.mark.parametrize("first,second,word", [
    ("10.0.1.0/24", "10.0.0.0/16", "is inside"),
    ("10.0.0.0/24", "10.0.0.0/24", "equals"),
    ("fd00:10::/64", "FD00:10::/56", "is inside"),
])
def test_relation_words(first, second, word):
    from ipam_model.declared.build import stack_from_config
    stack = stack_from_config("t", {"pools": {"a": {"cidr": first}, "b": {"cidr": second}}})
    [finding] = stack_overlap_findings(stack)
    assert f"pool a ({netaddr.IPNetwork(first)}) {word} pool b" in finding.message


def test_disabled_and_otherwise_invalid_pools_still_overlap():
    from ipam_model.declared.build import stack_from_config
    stack = stack_from_config("t", {"pools": {
        "live": {"cidr": "10.0.0.0/24"},
        "old": {"cidr": "10.0.0.0/25", "disabled": True},
        "broken": {"cidr": "10.0.0.128/25", "blockSize": 40},   # fails R3, still overlaps
    }})
    assert "broken" not in stack.pools
    findings = stack_overlap_findings(stack)
    assert rules_of(findings) == ["CIP201", "CIP201"]
    assert {f.subject for f in findings} == {"pool/old", "pool/broken"}


def test_unparseable_or_unmasked_pool_cidrs_are_left_to_calico_rules():
    from ipam_model.declared.build import stack_from_config
    stack = stack_from_config("t", {"pools": {
        "a": {"cidr": "10.0.0.0/16"}, "b": {"cidr": "10.0.0.1/24"}, "c": {"cidr": "nope"},
        "d": {"blockSize": 26}}})
    assert stack_overlap_findings(stack) == []


def test_disjoint_pools_and_cluster_cidrs_give_nothing():
    from ipam_model.declared.build import stack_from_config
    stack = stack_from_config("t", {
        "cluster": {"serviceCidrs": ["10.96.0.0/12"], "nodeCidrs": ["10.0.0.0/24"]},
        "pools": {"a": {"cidr": "10.112.0.0/16"}, "b": {"cidr": "10.0.1.0/24"}}})
    assert stack_overlap_findings(stack) == []


def test_service_and_node_cidr_overlaps(tmp_path):
    path = write_stack(tmp_path, "t",
                       {"a": {"cidr": "10.96.0.0/16"}, "b": {"cidr": "10.0.0.0/16"}},
                       cluster={"serviceCidrs": ["10.96.0.0/12"],
                                "nodeCidrs": ["192.168.0.0/24", "10.0.0.0/24"]})
    findings = sorted(stack_overlap_findings(load_stack(path)), key=lambda f: f.rule)
    assert rules_of(findings) == ["CIP203", "CIP204"]
    service, node = findings
    assert service.message.startswith(
        "pool a (10.96.0.0/16) is inside service CIDR 10.96.0.0/12 (serviceCidrs[0])")
    assert service.related[0].path[-2:] == ("serviceCidrs", 0)
    assert node.message.startswith(
        "pool b (10.0.0.0/16) contains node CIDR 10.0.0.0/24 (nodeCidrs[1])")
    assert node.related[0].path[-2:] == ("nodeCidrs", 1) and node.related[0].line


def test_invalid_and_unmasked_cluster_cidrs(tmp_path):
    path = write_stack(tmp_path, "t", {"a": {"cidr": "10.96.0.0/16"}},
                       cluster={"serviceCidrs": ["10.96.0.1/12"], "nodeCidrs": ["10.0.0.0/33"]})
    findings = stack_overlap_findings(load_stack(path))
    assert rules_of(findings) == ["CIP203", "CIP206", "CIP206"]
    masked = next(f for f in findings if "host bits" in f.message)
    assert "write 10.96.0.0/12" in masked.message
    assert masked.location.path[-2:] == ("serviceCidrs", 0)
    invalid = next(f for f in findings if "not a valid CIDR" in f.message)
    assert invalid.location.path[-2:] == ("nodeCidrs", 0)


# ----------------------------------------------------------------------------
# Routing domains, with the bundled stacks


def test_bundled_stacks_have_no_overlap():
    stacks = load_stacks(REPO_STACKS)
    assert {s.name for s in stacks} >= {"dev", "staging", "prod"}
    assert routing_domain_findings(stacks) == []
    for stack in stacks:
        assert stack_overlap_findings(stack) == []


def test_staging_overlapping_prod_names_both_files(tmp_path):
    for name in ("dev", "staging", "prod"):
        shutil.copy(REPO_STACKS / f"Pulumi.{name}.yaml", tmp_path)
    staging = tmp_path / "Pulumi.staging.yaml"
    text = staging.read_text()
    assert "cidr: 10.64.96.0/24" in text
    # staging's payments pool moved into prod's default pool.
    staging.write_text(text.replace("cidr: 10.64.96.0/24", "cidr: 10.128.4.0/24"))
    stacks = load_stacks(tmp_path)
    [finding] = routing_domain_findings(stacks)
    assert finding.rule == "CIP202" and finding.severity.value == "error"
    prod_file = next(s.file for s in stacks if s.name == "prod")
    staging_file = next(s.file for s in stacks if s.name == "staging")
    assert prod_file in finding.message and staging_file in finding.message
    assert "prod-default-v4 (10.128.0.0/16)" in finding.message
    assert "staging-payments-v4 (10.128.4.0/24)" in finding.message
    assert "routing domain dc1" in finding.message
    # Located on the stack listed first (prod sorts before staging), related to the other.
    assert finding.stack == "prod" and finding.location.file == prod_file
    assert finding.related[0].file == staging_file and finding.related[0].line
    # Reversed order: same pair, reported from staging's side.
    [other_side] = routing_domain_findings(list(reversed(stacks)))
    assert other_side.stack == "staging"


def test_stacks_in_other_or_no_routing_domain_are_not_compared(tmp_path):
    write_stack(tmp_path, "a", {"p": {"cidr": "10.0.0.0/16"}}, cluster={"routingDomain": "x"})
    write_stack(tmp_path, "b", {"q": {"cidr": "10.0.0.0/16"}}, cluster={"routingDomain": "y"})
    write_stack(tmp_path, "c", {"r": {"cidr": "10.0.0.0/16"}})
    write_stack(tmp_path, "d", {"s": {"cidr": "10.0.0.0/16"}})
    assert routing_domain_findings(load_stacks(tmp_path)) == []
    write_stack(tmp_path, "e", {"t": {"cidr": "10.0.0.0/24"}}, cluster={"routingDomain": "x"})
    [finding] = routing_domain_findings(load_stacks(tmp_path))
    assert "pool p (10.0.0.0/16)" in finding.message and "pool t (10.0.0.0/24)" in finding.message


def test_same_stack_overlap_is_not_repeated_as_routing_domain(tmp_path):
    write_stack(tmp_path, "a", {"p": {"cidr": "10.0.0.0/16"}, "q": {"cidr": "10.0.0.0/24"}},
                cluster={"routingDomain": "x"})
    write_stack(tmp_path, "b", {"r": {"cidr": "10.1.0.0/16"}}, cluster={"routingDomain": "x"})
    assert routing_domain_findings(load_stacks(tmp_path)) == []


# ----------------------------------------------------------------------------
# Live pools


def live(name, cidr, **kw):
    return LivePool(name=name, spec=PoolSpec(cidr=cidr, block_size=26), **kw)


def test_live_pool_not_declared_overlapping_a_declared_pool():
    from ipam_model.declared.build import stack_from_config
    stack = stack_from_config("t", {"pools": {"a": {"cidr": "192.168.0.0/24"},
                                              "b": {"cidr": "10.0.0.0/16"}}})
    live_pools = {
        "default-ipv4-ippool": live("default-ipv4-ippool", "192.168.0.0/16",
                                    owner=OWNER_TIGERA_OPERATOR),
        "b": live("b", "10.0.0.0/8"),            # same name: the declared pool itself
        "other": live("other", "172.16.0.0/16"),  # disjoint
    }
    [finding] = live_overlap_findings(stack, live_pools)
    assert finding.rule == "CIP205" and finding.subject == "pool/a"
    assert finding.message.startswith(
        "pool a (192.168.0.0/24) is inside live pool default-ipv4-ippool (192.168.0.0/16)")
    assert "tigera-operator" in finding.message
    assert '"IPPool(a) CIDR overlaps with IPPool(default-ipv4-ippool) CIDR 192.168.0.0/16"' \
        in finding.message


def test_disabled_live_pool_still_counts():
    from ipam_model.declared.build import stack_from_config
    stack = stack_from_config("t", {"pools": {"a": {"cidr": "10.0.0.0/24"}}})
    old = LivePool(name="old", spec=PoolSpec(cidr="10.0.0.0/24", block_size=26, disabled=True))
    [finding] = live_overlap_findings(stack, {"old": old})
    assert "equals live pool old" in finding.message and "disabled" in finding.message
