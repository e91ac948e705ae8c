"""Capacity, first cut: each rule at its boundary."""
from __future__ import annotations

import pytest
from paths import ROOT

from ipam_model.declared.build import stack_from_config
from ipam_model.declared.files import load_stack
from ipam_model.rules.capacity import capacity_findings, pool_capacity, with_headroom

REPO_STACKS = ROOT / "stacks"

GROUPS = [
    {"name": "general", "count": 6, "labels": {"pool": "general"}, "maxPods": 110},
    {"name": "gpu", "count": 2, "labels": {"accelerator": "nvidia"}, "maxPods": 32},
]


def stack(pools, namespaces=None, reservations=None, **cluster):
    """A stack of *pools*; strictAffinity/maxBlocksPerHost go to calico-ipam:ipamConfig."""
    config = {"pools": pools, "namespaces": namespaces or {}}
    ipam = {k: cluster.pop(k) for k in ("strictAffinity", "maxBlocksPerHost") if k in cluster}
    if ipam:
        config["ipamConfig"] = ipam
    if reservations:
        config["reservations"] = reservations
    cluster.setdefault("nodeGroups", GROUPS)
    config["cluster"] = cluster
    return stack_from_config("t", config, file="Pulumi.t.yaml")


def only(findings, rule_id):
    return [f for f in findings if f.rule == rule_id]


def by_name(s):
    return {c.name: c for c in pool_capacity(s)}


def test_the_example_pool():
    dev = load_stack(REPO_STACKS / "Pulumi.dev.yaml")
    external = by_name(dev)["external-pool"]
    assert (external.addresses, external.blocks, external.block_addresses) == (64, 8, 8)
    assert external.block_size == 29 and external.cidr == "172.16.0.0/26"
    assert (external.node_groups, external.nodes) == (("workers",), 3)
    assert (external.bound_namespaces, external.expected_pods) == (("external-ns",), 3)
    assert external.addresses_needed == 4   # 3 pods + 20% = 3.6, rounded up
    infos = only(capacity_findings(dev), "CIP501")
    assert infos[0].message.startswith(
        "pool external-pool (172.16.0.0/26): 64 addresses in 8 blocks of /29 (8 addresses each)")
    assert [f.rule for f in capacity_findings(dev)] == ["CIP501", "CIP501"]


def test_which_nodes_may_use_a_pool():
    s = stack({
        "auto": {"cidr": "10.0.0.0/20", "nodeSelector": "has(accelerator)"},
        "bound": {"cidr": "10.0.16.0/20", "nodeSelector": "has(accelerator)"},
        "manual": {"cidr": "10.0.32.0/20", "assignmentMode": "Manual"},
        "manual-bound": {"cidr": "10.0.48.0/20", "assignmentMode": "Manual"},
        "lb": {"cidr": "10.0.64.0/24", "allowedUses": ["LoadBalancer"]},
        "off": {"cidr": "10.0.80.0/20", "disabled": True},
    }, {"ns": {"ipv4Pools": ["bound", "10.0.48.0/20"], "expectedPods": 10}})
    caps = by_name(s)
    assert caps["auto"].node_groups == ("gpu",) and caps["auto"].nodes == 2
    # Annotated requests ignore nodeSelector: any node may take a block.
    assert caps["bound"].node_groups == ("general", "gpu") and caps["bound"].nodes == 8
    assert caps["manual"].nodes == 0
    assert caps["manual-bound"].nodes == 8 and caps["manual-bound"].expected_pods == 10
    assert caps["lb"].nodes == 0 and caps["off"].nodes == 0


@pytest.mark.parametrize("pods,headroom,needed", [(0, 20, 0), (10, 20, 12), (53, 20, 64),
                                                  (54, 20, 65), (3, 0, 3), (1, 1000, 11)])
def test_headroom_rounds_up(pods, headroom, needed):
    assert with_headroom(pods, headroom) == needed


def groups(count, max_pods=110):
    return [{"name": "g", "count": count, "labels": {"zone": "a"}, "maxPods": max_pods}]


@pytest.mark.parametrize("count,strict,expected", [
    (8, False, None), (9, False, "warning"), (8, True, None), (9, True, "error")])
def test_blocks_fewer_than_nodes(count, strict, expected):
    s = stack({"p": {"cidr": "172.16.0.0/26", "blockSize": 29}}, nodeGroups=groups(count, 8),
              strictAffinity=strict)
    findings = only(capacity_findings(s), "CIP502")
    if expected is None:
        assert findings == []
        return
    [finding] = findings
    assert finding.severity.value == expected
    assert "has 8 blocks of /29 but 9 nodes may use it (g: 9)" in finding.message
    assert "the last 1 node to allocate get no block" in finding.message
    if strict:
        assert "No more free affine blocks and strict affinity enabled" in finding.message
    else:
        assert "borrow" in finding.message
    assert finding.location.path[-2:] == ("p", "blockSize")


@pytest.mark.parametrize("pods,rule_id", [(53, None), (54, "CIP504"), (64, "CIP504"),
                                          (65, "CIP503")])
def test_expected_pods_against_addresses(pods, rule_id):
    s = stack({"p": {"cidr": "10.0.0.0/26", "blockSize": 29}},
              {"web": {"ipv4Pools": ["p"], "expectedPods": pods}}, nodeGroups=groups(1))
    findings = only(capacity_findings(s), "CIP503") + only(capacity_findings(s), "CIP504")
    assert [f.rule for f in findings] == ([rule_id] if rule_id else [])
    if rule_id == "CIP503":
        assert findings[0].severity.value == "error"
        assert "namespace web expects 65 pods (78 addresses with 20% headroom)" \
            in findings[0].message
        assert "p (10.0.0.0/26: 64) holds only 64 IPv4 addresses" in findings[0].message
        assert findings[0].location.path[-2:] == ("web", "expectedPods")
    if rule_id == "CIP504":
        assert findings[0].severity.value == "warning"
        assert "less than the configured headroom of 20%" in findings[0].message


def test_namespaces_sharing_a_pool_add_up():
    s = stack({"p": {"cidr": "10.0.0.0/26", "blockSize": 29}},
              {"a": {"ipv4Pools": ["p"], "expectedPods": 40},
               "b": {"ipv4Pools": ["p"], "expectedPods": 40}}, nodeGroups=groups(1))
    [finding] = only(capacity_findings(s), "CIP503")
    assert finding.message.startswith("namespaces a, b expect 80 pods")


def test_a_namespace_listing_two_pools_may_use_both_but_others_may_not():
    pools = {"a": {"cidr": "10.0.0.0/26"}, "b": {"cidr": "10.0.0.64/26"}}
    ok = stack(pools, {"x": {"ipv4Pools": ["a", "b"], "expectedPods": 100}},
               nodeGroups=groups(1))
    assert only(capacity_findings(ok), "CIP503") + only(capacity_findings(ok), "CIP504") == []
    # y can only use a: its 60 pods fit in a's 64 addresses, but not with 20% headroom,
    # even though a and b together have room for x and y.
    tight = stack(pools, {"x": {"ipv4Pools": ["a", "b"], "expectedPods": 40},
                          "y": {"ipv4Pools": ["a"], "expectedPods": 60}}, nodeGroups=groups(1))
    [finding] = only(capacity_findings(tight), "CIP504")
    assert finding.message.startswith("namespace y expects 60 pods")
    assert only(capacity_findings(tight), "CIP503") == []


def test_namespaces_without_pools_count_against_automatic_pools_that_select_nodes():
    pools = {
        "general": {"cidr": "10.0.0.0/26", "nodeSelector": "!has(accelerator)"},
        "gpu": {"cidr": "10.0.0.64/26", "nodeSelector": "accelerator == 'nvidia'"},
        "nowhere": {"cidr": "10.1.0.0/16", "nodeSelector": "zone == 'z'"},      # no node
        "manual": {"cidr": "10.2.0.0/16", "assignmentMode": "Manual"},          # never automatic
        "other-team": {"cidr": "10.3.0.0/16", "namespaceSelector": "team == 'b'",
                       "allowedUses": ["Workload"]},
        "v6": {"cidr": "fd00::/120", "blockSize": 124},
    }
    fits = stack(pools, {"web": {"expectedPods": 100, "labels": {"team": "a"}}})
    assert only(capacity_findings(fits), "CIP503") + only(capacity_findings(fits), "CIP504") == []
    full = stack(pools, {"web": {"expectedPods": 129, "labels": {"team": "a"}}})
    [finding] = only(capacity_findings(full), "CIP503")
    assert "general (10.0.0.0/26: 64) + gpu (10.0.0.64/26: 64)" in finding.message
    # The IPv6 family is served by the all() pool and has room: no IPv6 finding.
    assert "IPv6" not in finding.message
    # The namespaceSelector admits team b, so its pool joins in for them.
    team_b = stack(pools, {"web": {"expectedPods": 129, "labels": {"team": "b"}}})
    assert only(capacity_findings(team_b), "CIP503") == []


def test_namespace_no_automatic_pool_serves():
    s = stack({"manual": {"cidr": "10.0.0.0/24", "assignmentMode": "Manual"}},
              {"web": {"expectedPods": 5}})
    [finding] = only(capacity_findings(s), "CIP503")
    assert "no configured Calico pools for node" in finding.message


@pytest.mark.parametrize("block_size,max_pods,limit,failing", [
    (32, 110, 0, True), (32, 20, 0, False), (32, 21, 0, True), (32, 21, 21, False),
    (26, 110, 0, False), (31, 41, 20, True), (31, 40, 20, False)])
def test_per_host_block_limit(block_size, max_pods, limit, failing):
    s = stack({"p": {"cidr": "10.0.0.0/16", "blockSize": block_size}},
              nodeGroups=groups(2, max_pods), maxBlocksPerHost=limit, strictAffinity=True)
    findings = only(capacity_findings(s), "CIP505")
    assert bool(findings) is failing
    if failing:
        assert findings[0].severity.value == "error"
        assert "cannot allocate new block due to per host block limit" in findings[0].message


def test_per_host_block_limit_message_for_bs32_and_110_pods():
    s = stack({"p": {"cidr": "10.0.0.0/16", "blockSize": 32}}, nodeGroups=groups(2, 110))
    [finding] = only(capacity_findings(s), "CIP505")
    assert "needs up to 110 blocks" in finding.message
    assert "maxBlocksPerHost 0 (which means 20) allows 20" in finding.message
    assert "Use blockSize 29 or smaller" in finding.message   # 20 blocks x 8 >= 110


def test_automatic_pool_that_selects_no_node_group():
    pools = {"p": {"cidr": "10.0.0.0/24", "nodeSelector": "zone == 'z'"}}
    [finding] = only(capacity_findings(stack(pools)), "CIP506")
    assert finding.severity.value == "warning" and "general, gpu" in finding.message
    matching = {"p": {"cidr": "10.0.0.0/24", "nodeSelector": "pool == 'general'"}}
    assert only(capacity_findings(stack(matching)), "CIP506") == []
    not_all = {"p": {"cidr": "10.0.0.0/24", "nodeSelector": "!all()"}}
    assert only(capacity_findings(stack(not_all)), "CIP506") == []
    # Without declared node groups nothing can be said.
    assert only(capacity_findings(stack(pools, nodeGroups=[])), "CIP506") == []


def test_bundled_stacks_have_no_capacity_error():
    for name in ("dev", "staging", "prod"):
        findings = capacity_findings(load_stack(REPO_STACKS / f"Pulumi.{name}.yaml"))
        assert not [f for f in findings if f.severity.value == "error"], name


# --------------------------------------------------------------------------- reservations

def test_reserved_addresses_are_not_capacity_and_wholly_reserved_blocks_are_not_claimable():
    """Calico never assigns a reserved address and never claims a block reserved in
    full (libcalico-go lib/ipam/ipam_block.go:223-239 NumFreeAddresses,
    ipam_block_reader_writer.go:178-182); GetUtilization takes them off "Available"
    (lib/ipam/reserved.go:52-92). 10.7.0.0/24 in /26 blocks: the /26 and 6 more
    addresses reserved (one address twice: counted once) leave 186 of 256, 3 blocks."""
    s = stack({"web": {"cidr": "10.7.0.0/24", "blockSize": 26}},
              reservations={"a": {"reservedCIDRs": ["10.7.0.0/26", "10.7.0.64/30"]},
                            "b": {"reservedCIDRs": ["10.7.0.66/31", "10.7.0.68/31"]}})
    (cap,) = pool_capacity(s)
    assert (cap.reserved, cap.assignable, cap.walled_blocks, cap.claimable_blocks) == (
        70, 186, 1, 3)
    (summary,) = only(capacity_findings(s), "CIP501")
    assert "70 reserved by IPReservations (186 assignable, 1 block reserved in full)" \
        in summary.message


def test_expected_pods_beyond_the_unreserved_addresses_are_refused():
    s = stack({"web": {"cidr": "10.7.0.0/26", "blockSize": 28}},
              {"web": {"ipv4Pools": ["web"], "expectedPods": 60}},
              reservations={"gw": {"reservedCIDRs": ["10.7.0.0/29"]}}, headroomPercent=0)
    (error,) = only(capacity_findings(s), "CIP503")
    assert "web (10.7.0.0/26: 56 after 8 reserved)" in error.message
    unreserved = stack({"web": {"cidr": "10.7.0.0/26", "blockSize": 28}},
                       {"web": {"ipv4Pools": ["web"], "expectedPods": 60}}, headroomPercent=0)
    assert only(capacity_findings(unreserved), "CIP503") == []  # 60 of 64 fit


def test_the_pool_summary_writes_node_counts_with_separators():
    """Like every other count in the messages: "12,000 nodes", not "12000 nodes"."""
    s = stack({"big": {"cidr": "10.0.0.0/12", "blockSize": 26}},
              nodeGroups=[{"name": "n", "count": 12000}])
    (summary,) = only(capacity_findings(s), "CIP501")
    assert "12,000 nodes may use it (n)" in summary.message
