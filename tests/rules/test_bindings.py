"""Namespace bindings: each rule at its boundary, in the words a user reads."""
from __future__ import annotations

import pytest
from paths import ROOT

from ipam_model.declared.build import stack_from_config
from ipam_model.declared.files import load_stacks
from ipam_model.rules.bindings import binding_findings

POOLS = {
    "v4": {"cidr": "10.0.0.0/24"},
    "v4b": {"cidr": "10.0.1.0/24"},
    "v6": {"cidr": "fd00:10::/120"},
    "old-pool": {"cidr": "10.0.2.0/24", "disabled": True},
    "tunnel": {"cidr": "10.0.3.0/24", "allowedUses": ["Tunnel"]},
    "lb": {"cidr": "10.0.4.0/24", "allowedUses": ["LoadBalancer"]},
    "zoned": {"cidr": "10.0.5.0/24", "nodeSelector": "zone == 'a'"},
    "annotated-only": {"cidr": "10.0.6.0/24", "nodeSelector": "!all()"},
    "ns-selected": {"cidr": "10.0.7.0/24", "namespaceSelector": "team == 'x'",
                    "allowedUses": ["Workload"]},
    "manual": {"cidr": "10.0.8.0/24", "assignmentMode": "Manual"},
    "explicit-all": {"cidr": "10.0.9.0/24", "nodeSelector": "all()"},
}


def check(namespaces: dict, pools: dict | None = None, cluster: dict | None = None):
    config = {"pools": POOLS if pools is None else pools, "namespaces": namespaces}
    if cluster:
        config["cluster"] = cluster
    return binding_findings(stack_from_config("t", config, file="Pulumi.t.yaml"))


def only(findings, rule_id):
    return [f for f in findings if f.rule == rule_id]


def test_a_clean_binding_has_no_findings():
    assert check({"web": {"ipv4Pools": ["v4"], "ipv6Pools": ["v6"], "expectedPods": 3}}) == []


@pytest.mark.parametrize("name,ok", [
    ("a" * 63, True), ("a" * 64, False), ("payments", True), ("Payments", False),
    ("pay-ments", True), ("-payments", False), ("payments-", False), ("pay.ments", False),
    ("9lives", True), ("pay_ments", False),
])
def test_namespace_names_are_dns1123_labels(name, ok):
    findings = only(check({name: {"ipv4Pools": ["v4"]}}), "CIP401")
    assert (findings == []) is ok
    if not ok:
        assert findings[0].subject == f"namespace/{name}"
        assert "Kubernetes refuses to create it" in findings[0].message


def test_unknown_pool_name_suggests_the_close_one():
    [finding] = check({"web": {"ipv4Pools": ["v4x"]}})
    assert finding.rule == "CIP402" and finding.severity.value == "error"
    assert 'did you mean "v4"' in finding.message
    assert 'error parsing pool "v4x": invalid CIDR address: v4x' in finding.message
    assert "ContainerCreating" in finding.message
    assert finding.location.path[-2:] == ("ipv4Pools", 0)


def test_cidr_entries_must_equal_a_pool_exactly():
    assert check({"web": {"ipv4Pools": ["10.0.0.0/24"]}}) == []
    assert check({"web": {"ipv6Pools": ["FD00:10::/120"]}}) == []  # same network, other spelling
    [subset] = check({"web": {"ipv4Pools": ["10.0.0.0/25"]}})
    assert subset.rule == "CIP407"
    assert "Requesting a subset of an IP pool is not supported" in subset.message
    assert "part of pool v4 (10.0.0.0/24)" in subset.message
    [larger] = check({"web": {"ipv4Pools": ["10.0.0.0/23"]}})
    assert larger.rule == "CIP402"
    assert '"the given pool (10.0.0.0/23) does not exist, or is not enabled"' in larger.message


def test_family_must_match():
    [by_name] = check({"web": {"ipv4Pools": ["v6"]}})
    assert by_name.rule == "CIP403"
    assert "IPv6 pool v6 (fd00:10::/120) under ipv4Pools" in by_name.message
    assert "fd00:10:: isn't a IPv4 address" in by_name.message
    [by_cidr] = check({"web": {"ipv6Pools": ["10.0.0.0/24"]}})
    assert by_cidr.rule == "CIP403" and "under ipv6Pools" in by_cidr.message


def test_disabled_pool_fails_new_pods():
    [finding] = check({"payments": {"ipv4Pools": ["old-pool"]}})
    assert finding.rule == "CIP404"
    assert finding.message == (
        'namespace payments binds disabled pool old-pool: new pods in payments fail with '
        'Calico\'s "the given pool (10.0.2.0/24) does not exist, or is not enabled" and stay '
        'ContainerCreating')
    assert finding.related[0].path[-2:] == ("old-pool", "disabled")


def test_pool_must_allow_workload_and_not_be_loadbalancer():
    [tunnel] = check({"web": {"ipv4Pools": ["tunnel"]}})
    assert tunnel.rule == "CIP405" and "allowedUses [Tunnel]" in tunnel.message
    assert "no pools match the required use (Workload)" in tunnel.message
    [lb] = check({"web": {"ipv4Pools": ["lb"]}})
    assert lb.rule == "CIP406" and "LoadBalancer pool lb" in lb.message
    workload_only = {"w": {"cidr": "10.0.0.0/24", "allowedUses": ["Workload"]}}
    assert check({"web": {"ipv4Pools": ["w"]}}, pools=workload_only) == []


def test_selector_of_bound_pool_is_ignored_one_finding_per_pool():
    findings = check({"a": {"ipv4Pools": ["zoned"]}, "b": {"ipv4Pools": ["zoned", "v4"]}})
    [finding] = findings
    assert finding.rule == "CIP408" and finding.severity.value == "warning"
    assert finding.subject == "pool/zoned"
    assert "namespaces a, b bind it" in finding.message
    assert "projectcalico/calico#10502" in finding.message and "on any node" in finding.message
    assert finding.location.path[-2:] == ("zoned", "nodeSelector")
    assert len(finding.related) == 2


def test_all_and_not_all_node_selectors_are_not_warned():
    # all() is the default; !all() is the documented "annotated requests only" idiom.
    assert check({"a": {"ipv4Pools": ["explicit-all", "annotated-only"]}}) == []


def test_namespace_selector_of_bound_pool_is_ignored():
    [finding] = check({"a": {"ipv4Pools": ["ns-selected"]}})
    assert finding.rule == "CIP408" and "namespaceSelector team == 'x'" in finding.message
    assert "namespace a binds it" in finding.message


def test_manual_pool_is_noted():
    [finding] = check({"a": {"ipv4Pools": ["manual"]}})
    assert finding.rule == "CIP409" and finding.severity.value == "info"
    assert check({"a": {"ipv4Pools": ["v4"]}}) == []


def test_duplicate_entries():
    [by_name] = check({"a": {"ipv4Pools": ["v4", "v4"]}})
    assert by_name.rule == "CIP410" and by_name.location.path[-1] == 1
    [by_cidr] = check({"a": {"ipv4Pools": ["v4", "10.0.0.0/24"]}})
    assert by_cidr.rule == "CIP410"
    assert check({"a": {"ipv4Pools": ["v4", "v4b"]}}) == []


def test_namespace_without_pools_is_info():
    [finding] = check({"web": {"expectedPods": 10}})
    assert finding.rule == "CIP411" and finding.severity.value == "info"
    assert "Calico picks Automatic pools" in finding.message
    assert check({"web": {"ipv6Pools": ["v6"]}}) == []


@pytest.mark.parametrize("labels,ok", [
    ({"team": "a" * 63}, True), ({"team": "a" * 64}, False),
    ({"example.com/team": "x"}, True), ({"bad key": "x"}, False),
    ({"team": "-x"}, False), ({"team": ""}, True),
])
def test_namespace_labels(labels, ok):
    findings = only(check({"a": {"ipv4Pools": ["v4"], "labels": labels}}), "CIP412")
    assert (findings == []) is ok
    if not ok:
        assert findings[0].location.path[-2] == "labels"


def test_node_group_labels():
    cluster = {"nodeGroups": [{"name": "g", "count": 1, "labels": {"zone": "a b"}}]}
    [finding] = only(check({}, cluster=cluster), "CIP412")
    assert finding.subject == "node-group/g"


def test_pool_failing_calico_rules_is_not_reported_again():
    pools = {"bad": {"cidr": "10.0.0.0/24", "blockSize": 40}}
    assert check({"a": {"ipv4Pools": ["bad"]}}, pools=pools) == []
    assert check({"a": {"ipv4Pools": ["10.0.0.0/24"]}}, pools=pools) == []


def test_bundled_stacks_only_inform():
    stacks = load_stacks(ROOT / "stacks")
    findings = [f for s in stacks for f in binding_findings(s)]
    assert findings and all(f.severity.value == "info" for f in findings)
    assert {f.rule for f in findings} == {"CIP409", "CIP411"}
