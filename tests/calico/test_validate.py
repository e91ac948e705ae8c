"""Calico's IPPool rules (R1-R19), names, metadata and defaults, from the rule text
in reference/calico-ippool-rules.md §1-§2 and §6."""
from __future__ import annotations

import ipaddress
import re

import netaddr
import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from paths import DATA

from ipam_model.calico.validate import (
    SPEC_FIELDS,
    apply_defaults,
    pool_from_spec,
    validate_pool,
)
from ipam_model.core.model import Finding, Location, Pool, PoolSpec, Severity

POOLS_DIR = DATA / "pools"


def errors(findings):
    return [f for f in findings if f.severity is Severity.ERROR]


def error_ids(name, spec, metadata=None):
    return sorted({f.rule for f in errors(validate_pool(name, spec, metadata))})


def only(rule_id, name, spec, metadata=None) -> Finding:
    """The single error finding, asserting it is of ``rule_id``."""
    found = errors(validate_pool(name, spec, metadata))
    assert [f.rule for f in found] == [rule_id], [f.message for f in found]
    return found[0]


# --------------------------------------------------------------------------
# Outcome-named fixtures: valid-*, invalid-CIPnnn[-CIPnnn]-*, warning-CIPnnn-*.

def _fixture_files():
    files = sorted(POOLS_DIR.glob("*.yaml"))
    assert len(files) >= 40
    return files


@pytest.mark.parametrize("path", _fixture_files(), ids=lambda p: p.stem)
def test_fixture_outcome_matches_file_name(path):
    doc = yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
    assert doc["kind"] == "IPPool"
    metadata = doc["metadata"]
    findings = validate_pool(metadata["name"], doc["spec"], metadata)
    expected = set(re.findall(r"CIP\d{3}", path.stem))
    got_errors = {f.rule for f in findings if f.severity is Severity.ERROR}
    got_warnings = {f.rule for f in findings if f.severity is Severity.WARNING}
    outcome = path.stem.split("-", 1)[0]
    if outcome == "valid":
        assert not findings, [f.message for f in findings]
        assert pool_from_spec(metadata["name"], doc["spec"], metadata) is not None
    elif outcome == "invalid":
        assert got_errors == expected, [f.message for f in findings]
        assert pool_from_spec(metadata["name"], doc["spec"], metadata) is None
    else:
        assert outcome == "warning"
        assert not got_errors and expected <= got_warnings, [f.message for f in findings]


# --------------------------------------------------------------------------
# R3 block size, at the boundaries, and its message in the user's terms.

@pytest.mark.parametrize("cidr,block,ok", [
    ("10.0.0.0/16", 19, False), ("10.0.0.0/16", 20, True), ("10.0.0.0/16", 32, True),
    ("10.0.0.0/16", 33, False), ("fd00::/48", 115, False), ("fd00::/48", 116, True),
    ("fd00::/48", 128, True), ("fd00::/48", 129, False), ("10.0.0.0/16", -1, False),
    ("fd00::/48", 26, False), ("10.0.0.0/16", 122, False),
])
def test_block_size_range(cidr, block, ok):
    assert error_ids("p", {"cidr": cidr, "blockSize": block}) == ([] if ok else ["CIP104"])


def test_block_size_message_names_pool_value_and_calico_wording():
    [finding] = validate_pool("internal-pool", {"cidr": "192.169.0.0/24", "blockSize": 33},
                              locate=lambda path: Location("stacks/Pulumi.dev.yaml", path, 7))
    assert finding.message == (
        'pool internal-pool: blockSize 33 is out of range: IPv4 block size must be between 20 '
        'and 32 (Calico: "blockSize must be between 20 and 32 for IPv4 pools, and between 116 '
        'and 128 for IPv6 pools")')
    assert finding.subject == "pool/internal-pool"
    assert finding.location == Location("stacks/Pulumi.dev.yaml", ("blockSize",), 7)


@pytest.mark.parametrize("cidr,default", [("10.0.0.0/16", 26), ("fd00::/48", 122)])
@pytest.mark.parametrize("given", [0, None, "absent"])
def test_block_size_zero_or_absent_takes_the_family_default(cidr, default, given):
    spec = {"cidr": cidr} if given == "absent" else {"cidr": cidr, "blockSize": given}
    assert validate_pool("p", spec) == []
    assert apply_defaults(spec).block_size == default


@pytest.mark.parametrize("value", ["29", True, False, 26.0, [26], {"size": 26}])
def test_block_size_must_be_an_integer(value):
    finding = only("CIP104", "p", {"cidr": "10.0.0.0/16", "blockSize": value})
    assert "not an integer" in finding.message
    if value == "29":
        assert "blockSize: 29" in finding.message


# --------------------------------------------------------------------------
# R4 pool at least one block, skipped for disabled pools.

@pytest.mark.parametrize("cidr,block,ok", [
    ("10.0.0.0/26", None, True), ("10.0.0.0/27", None, False),
    ("10.0.0.0/29", 29, True), ("10.0.0.0/30", 29, False),
    ("10.0.0.0/32", 32, True), ("fd00::/122", None, True), ("fd00::/123", None, False),
    ("fd00::/128", 128, True), ("fd00::/120", 121, True),
])
def test_pool_must_hold_one_block(cidr, block, ok):
    spec = {"cidr": cidr} if block is None else {"cidr": cidr, "blockSize": block}
    assert error_ids("p", spec) == ([] if ok else ["CIP105"])


def test_small_pool_is_accepted_when_disabled():
    spec = {"cidr": "10.0.0.0/30", "disabled": True}
    assert validate_pool("retired", spec) == []
    pool = pool_from_spec("retired", spec)
    assert pool is not None and pool.spec.disabled and pool.spec.block_size == 26


def test_pool_smaller_than_block_message_suggests_a_fitting_block_size():
    finding = only("CIP105", "tiny", {"cidr": "10.0.0.0/28"})
    assert "10.0.0.0/28 (16 addresses)" in finding.message
    assert "blockSize 26, the IPv4 default" in finding.message
    assert "blockSize: 28" in finding.message
    assert "It must be equal to or greater than the block size." in finding.message


# --------------------------------------------------------------------------
# R1, R2, R19: the CIDR.

@pytest.mark.parametrize("cidr", ["", None])
def test_cidr_required(cidr):
    spec = {} if cidr is None else {"cidr": cidr}
    assert only("CIP101", "p", spec).location == Location(path=("spec", "cidr"))


@pytest.mark.parametrize("cidr,words", [
    ("10.0.0.0/33", "longer than an IPv4 address"),
    ("fd00::/129", "longer than an IPv6 address"),
    ("10.0.0.0", "bare IP address"),
    ("fd00::1", "bare IP address"),
    ("10.0.0.256/24", "not a valid IPv4 or IPv6 address"),
    ("010.0.0.0/8", "not a valid IPv4 or IPv6 address"),
    ("10.0.0.0/", "is not a number"),
    ("10.0.0.0/+8", "is not a number"),
    ("10.0.0.0/8/8", "more than one '/'"),
    ("10.0.0.0/" + "9" * 5000, "longer than an IPv4 address"),
    (" 10.0.0.0/8", "not a valid IPv4 or IPv6 address"),
    ("fe80::/64%eth0", "is not a number"),
    ("pods", "not a CIDR"),
    ("::ffff:10.0.0.0/104", "write the IPv4 CIDR instead, e.g. 10.0.0.0/8"),
    (42, "is an integer"),
    (["10.0.0.0/8"], "is a list"),
])
def test_cidr_invalid(cidr, words):
    finding = only("CIP102", "p", {"cidr": cidr})
    assert words in finding.message
    assert 'Calico: "IPPool CIDR must be a valid subnet"' in finding.message


@pytest.mark.parametrize("cidr,masked", [("10.8.0.1/16", "10.8.0.0/16"),
                                         ("fd00::1/64", "fd00::/64"),
                                         ("192.168.1.0/16", "192.168.0.0/16")])
def test_host_bits_are_rejected_not_silently_masked(cidr, masked):
    finding = only("CIP103", "p", {"cidr": cidr})
    assert f"did you mean {masked}?" in finding.message
    assert pool_from_spec("p", {"cidr": cidr}) is None


@pytest.mark.parametrize("cidr,canonical", [
    ("FD00:10:244::/56", "fd00:10:244::/56"),
    ("FD00:0000:0:0::/64", "fd00::/64"),
    ("2001:DB8:0:0:1::/80", "2001:db8:0:0:1::/80"),
    ("10.0.0.0/08", "10.0.0.0/8"),
])
def test_non_canonical_cidr_is_accepted_and_canonicalised(cidr, canonical):
    assert validate_pool("p", {"cidr": cidr, "blockSize": 0}) == []
    assert apply_defaults({"cidr": cidr}).cidr == canonical


# --------------------------------------------------------------------------
# R16 link-local, both families, both directions.

@pytest.mark.parametrize("cidr,relation", [
    ("169.254.0.0/16", "is the link-local range"),
    ("169.254.128.0/20", "lies inside"),
    ("169.0.0.0/8", "contains"),
    ("fe80::/10", "is the link-local range"),
    ("fe80:1::/64", "lies inside"),
    ("fe00::/7", "contains"),
])
def test_link_local_overlap(cidr, relation):
    spec = {"cidr": cidr, "disabled": True}  # disabled: the block-size rule stays quiet
    finding = only("CIP117", "p", spec)
    assert relation in finding.message


@pytest.mark.parametrize("cidr", ["169.253.0.0/16", "169.255.0.0/16", "fe40::/10",
                                  "fec0::/10"])
def test_link_local_neighbours_are_fine(cidr):
    assert error_ids("p", {"cidr": cidr}) == []


@given(address=st.integers(0, 2**32 - 1), prefix=st.integers(0, 32),
       block=st.integers(20, 32), disabled=st.booleans())
@settings(max_examples=300, deadline=None)
def test_ipv4_size_and_link_local_against_stdlib_oracle(address, prefix, block, disabled):
    network = ipaddress.IPv4Network((address, prefix), strict=False)
    spec = {"cidr": str(network), "blockSize": block, "disabled": disabled}
    expected = set()
    if prefix > block and not disabled:
        expected.add("CIP105")
    if network.overlaps(ipaddress.IPv4Network("169.254.0.0/16")):
        expected.add("CIP117")
    assert set(error_ids("p", spec)) == expected


@given(address=st.integers(0, 2**128 - 1), prefix=st.integers(0, 128))
@settings(max_examples=200, deadline=None)
def test_ipv6_masking_and_link_local_against_stdlib_oracle(address, prefix):
    # ::ffff:0:0/96 is IPv4 to Go (and so to Calico): refused as IPv4-mapped, tested apart.
    assume(address >> 32 != 0xffff)
    network = ipaddress.IPv6Network((address, prefix), strict=False)
    cidr = f"{ipaddress.IPv6Address(address)}/{prefix}"
    expected = set()
    if int(network.network_address) != address:
        expected.add("CIP103")
    if network.overlaps(ipaddress.IPv6Network("fe80::/10")):
        expected.add("CIP117")
    spec = {"cidr": cidr, "blockSize": 128}
    assert set(error_ids("p", spec)) == expected


# --------------------------------------------------------------------------
# R5-R7 encapsulation.

@pytest.mark.parametrize("mode,ok", [("Always", False), ("CrossSubnet", False),
                                     ("Never", True), ("", True)])
def test_ipip_on_ipv6(mode, ok):
    assert error_ids("p", {"cidr": "fd00::/48", "ipipMode": mode}) == ([] if ok else ["CIP106"])


@pytest.mark.parametrize("mode", ["Always", "CrossSubnet"])
def test_vxlan_on_ipv6_is_allowed(mode):
    assert validate_pool("p", {"cidr": "fd00::/48", "vxlanMode": mode}) == []


@pytest.mark.parametrize("ipip,vxlan,ok", [
    ("Always", "Always", False), ("CrossSubnet", "Always", False),
    ("Always", "CrossSubnet", False), ("Always", "Never", True), ("Never", "Always", True),
    ("", "CrossSubnet", True), ("Never", "Never", True),
])
def test_ipip_and_vxlan_exclusive(ipip, vxlan, ok):
    spec = {"cidr": "10.0.0.0/16", "ipipMode": ipip, "vxlanMode": vxlan}
    assert error_ids("p", spec) == ([] if ok else ["CIP107"])


@pytest.mark.parametrize("field", ["ipipMode", "vxlanMode"])
@pytest.mark.parametrize("value,hint", [("never", "Never"), ("ALWAYS", "Always"),
                                        ("crossSubnet", "CrossSubnet"),
                                        ("CrossSubnets", "CrossSubnet")])
def test_modes_are_case_sensitive(field, value, hint):
    finding = only("CIP108", "p", {"cidr": "10.0.0.0/16", field: value})
    assert f'did you mean "{hint}"?' in finding.message
    assert finding.location.path == ("spec", field)


def test_yaml_boolean_mode_gets_a_hint():
    finding = only("CIP108", "p", {"cidr": "10.0.0.0/16", "ipipMode": False})
    assert "boolean" in finding.message


# --------------------------------------------------------------------------
# R8-R13 allowedUses and the LoadBalancer rules.

def test_unknown_use_points_at_the_entry():
    finding = only("CIP109", "p", {"cidr": "10.0.0.0/16", "allowedUses": ["Workload", "Pods"]})
    assert finding.location.path == ("spec", "allowedUses", 1)
    assert 'Calico: "unknown use: Pods"' in finding.message


def test_allowed_uses_as_a_bare_string():
    finding = only("CIP109", "p", {"cidr": "10.0.0.0/16", "allowedUses": "Workload"})
    assert "allowedUses: [Workload]" in finding.message


def test_duplicate_use_is_rejected():
    assert error_ids("p", {"cidr": "10.0.0.0/16",
                           "allowedUses": ["Workload", "Workload"]}) == ["CIP109"]


@pytest.mark.parametrize("other", ["Workload", "Tunnel"])
def test_loadbalancer_is_exclusive(other):
    finding = only("CIP110", "p", {"cidr": "10.0.0.0/16",
                                    "allowedUses": [other, "LoadBalancer"]})
    assert finding.location.path == ("spec", "allowedUses", 0)
    assert f"LoadBalancer cannot be used at the same time as: {other}" in finding.message


@pytest.mark.parametrize("field", ["ipipMode", "vxlanMode"])
def test_loadbalancer_without_encapsulation(field):
    spec = {"cidr": "10.0.0.0/16", "allowedUses": ["LoadBalancer"], field: "CrossSubnet"}
    assert only("CIP111", "p", spec).location.path == ("spec", field)
    spec[field] = "Never"
    assert validate_pool("p", spec) == []


def test_loadbalancer_cannot_disable_bgp_export():
    spec = {"cidr": "10.0.0.0/16", "allowedUses": ["LoadBalancer"], "disableBGPExport": True}
    only("CIP112", "p", spec)
    spec["disableBGPExport"] = False
    assert validate_pool("p", spec) == []
    # Only LoadBalancer pools care.
    assert validate_pool("p", {"cidr": "10.0.0.0/16", "disableBGPExport": True}) == []


@pytest.mark.parametrize("selector,ok", [(None, True), ("", True), ("all()", True),
                                         ("!all()", False), ("zone == 'a'", False),
                                         (" all()", False)])
def test_loadbalancer_node_selector_is_exactly_all(selector, ok):
    spec = {"cidr": "10.0.0.0/16", "allowedUses": ["LoadBalancer"], "nodeSelector": selector}
    assert error_ids("p", spec) == ([] if ok else ["CIP113"])


def test_explicit_tunnel_with_namespace_selector_is_an_error():
    spec = {"cidr": "10.0.0.0/16", "allowedUses": ["Tunnel"], "namespaceSelector": "a == 'b'"}
    finding = only("CIP114", "p", spec)
    assert "tunnel IPs are not namespaced resources" in finding.message


def test_namespace_selector_with_defaulted_uses_is_a_warning_with_the_fix():
    spec = {"cidr": "10.0.0.0/16", "namespaceSelector": "team == 'a'"}
    findings = validate_pool("p", spec)
    assert [(f.rule, f.severity) for f in findings] == [("CIP122", Severity.WARNING)]
    assert "set allowedUses: [Workload]" in findings[0].message
    pool = pool_from_spec("p", spec)
    assert pool is not None and pool.spec.allowed_uses == ("Workload", "Tunnel")
    assert validate_pool("p", dict(spec, allowedUses=["Workload"])) == []
    # An empty list defaults like an omitted one.
    assert [f.rule for f in validate_pool("p", dict(spec, allowedUses=[]))] == ["CIP122"]


# --------------------------------------------------------------------------
# R14, R15 selectors.

@pytest.mark.parametrize("field", ["nodeSelector", "namespaceSelector"])
def test_global_selector_is_rejected(field):
    spec = {"cidr": "10.0.0.0/16", "allowedUses": ["Workload"],
            field: "global() && zone == 'a'"}
    finding = only("CIP115", "p", spec)
    assert f"global() selector is not valid for IPPool {field} - use all() instead" in \
        finding.message


def test_selector_syntax_error_shows_the_position():
    finding = only("CIP116", "p", {"cidr": "10.0.0.0/16", "nodeSelector": "zone == 'a"})
    assert finding.message.startswith(
        "pool p: nodeSelector \"zone == 'a\" is not a valid selector: ")
    assert "column 9" in finding.message


def test_selector_length_limit():
    at_limit = "k == '" + "v" * (1024 - 7) + "'"
    assert len(at_limit) == 1024
    assert validate_pool("p", {"cidr": "10.0.0.0/16", "nodeSelector": at_limit}) == []
    over = "k == '" + "v" * (1024 - 6) + "'"
    assert "at most 1024" in only("CIP116", "p", {"cidr": "10.0.0.0/16",
                                                  "nodeSelector": over}).message


def test_selector_of_wrong_type():
    assert error_ids("p", {"cidr": "10.0.0.0/16", "nodeSelector": ["zone"]}) == ["CIP116"]
    assert validate_pool("p", {"cidr": "10.0.0.0/16", "nodeSelector": None}) == []


# --------------------------------------------------------------------------
# R17 deprecated fields, R7-like assignmentMode, unknown fields.

@pytest.mark.parametrize("field,value,ok", [
    ("ipip", None, True), ("ipip", {}, False), ("ipip", {"enabled": False}, False),
    ("nat-outgoing", None, True), ("nat-outgoing", False, True), ("nat-outgoing", True, False),
    ("nat-outgoing", "false", False),
])
def test_deprecated_fields(field, value, ok):
    assert error_ids("p", {"cidr": "10.0.0.0/16", field: value}) == ([] if ok else ["CIP118"])


@pytest.mark.parametrize("mode,ok", [("Automatic", True), ("Manual", True), (None, True),
                                     ("", False), ("manual", False), (1, False)])
def test_assignment_mode(mode, ok):
    assert error_ids("p", {"cidr": "10.0.0.0/16", "assignmentMode": mode}) == \
        ([] if ok else ["CIP121"])


@pytest.mark.parametrize("key,hint", [("blocksize", "blockSize"), ("CIDR", "cidr"),
                                      ("natOutGoing", "natOutgoing"),
                                      ("nodeselector", "nodeSelector"),
                                      ("allowedUse", "allowedUses")])
def test_unknown_field_suggests_the_real_one(key, hint):
    finding = only("CIP002", "p", {"cidr": "10.0.0.0/16", key: "x"} if key != "CIDR"
                   else {"cidr": "10.0.0.0/16", "CIDR": "10.0.0.0/16"})
    assert f'did you mean "{hint}"?' in finding.message
    assert finding.location.path == ("spec", key)


@pytest.mark.parametrize("field", ["natOutgoing", "disabled", "disableBGPExport"])
def test_booleans_must_be_booleans(field):
    finding = only("CIP002", "p", {"cidr": "10.0.0.0/16", field: "true"})
    assert f"{field}: true" in finding.message


# --------------------------------------------------------------------------
# R18 names and metadata.

@pytest.mark.parametrize("name,ok", [
    ("internal-pool", True), ("pool.v4", True), ("a", True), ("0", True),
    ("a" * 253, True), ("a" * 254, False), ("internal_pool", False),
    ("Internal-Pool", False), ("", False), ("-pool", False), ("pool-", False),
    ("pool..v4", False), ("pool.-v4", False), ("pööl", False), ("pool\n", False),
])
def test_pool_names(name, ok):
    assert error_ids(name, {"cidr": "10.0.0.0/16"}) == ([] if ok else ["CIP119"])


def test_name_messages_use_calico_wording_and_suggest_a_fix():
    finding = only("CIP119", "Internal_Pool", {"cidr": "10.0.0.0/16"})
    assert 'did you mean "internal-pool"?' in finding.message
    assert "name must consist of lower case alphanumeric characters, '-' or '.'" in \
        finding.message
    assert finding.location == Location(path=("metadata", "name"))
    too_long = only("CIP119", "a" * 254, {"cidr": "10.0.0.0/16"})
    assert "name is too long by 1 bytes" in too_long.message
    empty = only("CIP119", "", {"cidr": "10.0.0.0/16"})
    assert empty.message.startswith('pool "": the name is empty')


@pytest.mark.parametrize("labels,ok", [
    ({"tier": "web"}, True), ({"example.com/tier": ""}, True), ({"a" * 63: "b" * 63}, True),
    ({"a" * 64: "x"}, False), ({"tier": "b" * 64}, False), ({"Example.com/tier": "x"}, False),
    ({"/tier": "x"}, False), ({"a/b/c": "x"}, False), ({"tier": "web app"}, False),
    ({"tier": "-web"}, False), ({"tier": 3}, False), ({"_tier": "x"}, False),
])
def test_labels(labels, ok):
    assert error_ids("p", {"cidr": "10.0.0.0/16"}, {"labels": labels}) == \
        ([] if ok else ["CIP120"])


def test_label_finding_points_at_the_label():
    finding = only("CIP120", "p", {"cidr": "10.0.0.0/16"}, {"labels": {"tier": "web app"}})
    assert finding.location == Location(path=("metadata", "labels", "tier"))
    assert "a valid label must be an empty string" in finding.message


def test_annotation_keys_are_lower_cased_before_the_check():
    assert validate_pool("p", {"cidr": "10.0.0.0/16"},
                         {"annotations": {"Example.COM/Owner": "x"}}) == []
    assert error_ids("p", {"cidr": "10.0.0.0/16"}, {"annotations": {"a b": "x"}}) == ["CIP120"]


def test_annotation_total_size_limit():
    key = "note"
    fits = {key: "x" * (256 * 1024 - len(key))}
    assert validate_pool("p", {"cidr": "10.0.0.0/16"}, {"annotations": fits}) == []
    over = {key: "x" * (256 * 1024 - len(key) + 1)}
    finding = only("CIP120", "p", {"cidr": "10.0.0.0/16"}, {"annotations": over})
    assert "too large by 1 bytes" in finding.message
    # Sizes are UTF-8 bytes, as in Go.
    utf8 = {key: "é" * ((256 * 1024 - len(key)) // 2 + 1)}
    assert error_ids("p", {"cidr": "10.0.0.0/16"}, {"annotations": utf8}) == ["CIP120"]


@pytest.mark.parametrize("metadata", ["x", {"labels": ["a"]}, {"annotations": "a=b"},
                                      {"labels": {1: "x"}}])
def test_metadata_of_wrong_shape(metadata):
    assert error_ids("p", {"cidr": "10.0.0.0/16"}, metadata) == ["CIP120"]


# --------------------------------------------------------------------------
# Defaults.

@pytest.mark.parametrize("spec,expected", [
    ({"cidr": "10.0.0.0/16"},
     PoolSpec(cidr="10.0.0.0/16", block_size=26)),
    ({"cidr": "fd00::/48"},
     PoolSpec(cidr="fd00::/48", block_size=122)),
    ({"cidr": "10.0.0.0/16", "blockSize": 0, "ipipMode": "", "vxlanMode": "",
      "nodeSelector": "", "allowedUses": [], "natOutgoing": None},
     PoolSpec(cidr="10.0.0.0/16", block_size=26)),
    ({"cidr": "10.0.0.0/16", "blockSize": 29, "ipipMode": "CrossSubnet", "natOutgoing": True,
      "disabled": True, "nodeSelector": "zone == 'a'", "allowedUses": ["Tunnel", "Workload"],
      "assignmentMode": "Manual"},
     PoolSpec(cidr="10.0.0.0/16", block_size=29, ipip_mode="CrossSubnet", nat_outgoing=True,
              disabled=True, node_selector="zone == 'a'", allowed_uses=("Tunnel", "Workload"),
              assignment_mode="Manual")),
    ({"cidr": "203.0.113.0/24", "allowedUses": ["LoadBalancer"], "vxlanMode": "Never",
      "disableBGPExport": False},
     PoolSpec(cidr="203.0.113.0/24", block_size=26, allowed_uses=("LoadBalancer",))),
    ({"cidr": "FD00:1::/64", "vxlanMode": "Always", "namespaceSelector": "t == 'x'",
      "allowedUses": ["Workload"], "disableBGPExport": True},
     PoolSpec(cidr="fd00:1::/64", block_size=122, vxlan_mode="Always",
              namespace_selector="t == 'x'", allowed_uses=("Workload",),
              disable_bgp_export=True)),
])
def test_apply_defaults_table(spec, expected):
    assert not errors(validate_pool("p", spec))
    assert apply_defaults(spec) == expected


def test_defaulted_spec_matches_calico_read_back():
    """Everything Calico reads back for a minimal pool, field by field (ref §1)."""
    assert apply_defaults({"cidr": "10.0.0.0/16"}).to_calico() == {
        "cidr": "10.0.0.0/16", "blockSize": 26, "ipipMode": "Never", "vxlanMode": "Never",
        "natOutgoing": False, "disabled": False, "disableBGPExport": False,
        "nodeSelector": "all()", "allowedUses": ["Workload", "Tunnel"],
        "assignmentMode": "Automatic"}


def test_pool_from_spec_carries_metadata_and_location():
    where = Location("stacks/Pulumi.dev.yaml", ("config", "calico-ipam:pools", "p"), 12)
    pool = pool_from_spec("external-pool", {"cidr": "172.16.0.0/26", "blockSize": 29},
                          {"labels": {"tier": "edge"}}, stack="dev", location=where)
    assert isinstance(pool, Pool)
    assert (pool.name, pool.stack, pool.location) == ("external-pool", "dev", where)
    assert dict(pool.labels) == {"tier": "edge"} and pool.blocks == 8
    assert pool_from_spec("external-pool", {"cidr": "172.16.0.0/26", "blockSize": 33}) is None


def test_apply_defaults_refuses_an_unparseable_cidr():
    with pytest.raises(ValueError, match="passed validate_pool"):
        apply_defaults({"cidr": "10.0.0.0/33"})


# --------------------------------------------------------------------------
# Robustness: never raise, whatever callers pass.

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-300, 300) | st.floats(allow_nan=True)
    | st.text(max_size=12) | st.sampled_from(["Always", "Never", "10.0.0.0/16", "fd00::/48",
                                               "Workload", "LoadBalancer", "all()", ""]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=4),
    max_leaves=10)
spec_like = st.dictionaries(st.sampled_from(SPEC_FIELDS + ("blocksize", "status")),
                            json_values, max_size=8)


@given(name=json_values, spec=spec_like | json_values,
       metadata=st.none() | json_values
       | st.fixed_dictionaries({"labels": json_values, "annotations": json_values}))
@settings(max_examples=400, deadline=None)
def test_validate_pool_never_raises(name, spec, metadata):
    findings = validate_pool(name, spec, metadata)
    assert all(isinstance(f, Finding) and f.subject.startswith("pool/") for f in findings)
    assert all(f.message.startswith("pool ") for f in findings)
    pool = pool_from_spec(name, spec, metadata) if isinstance(name, str) else None
    if pool is not None:
        assert not errors(findings)
        lo, hi = (20, 32) if pool.version == 4 else (116, 128)
        assert lo <= pool.spec.block_size <= hi


@pytest.mark.parametrize("spec", [
    {"cidr": "29", "blockSize": "29", "allowedUses": "Workload", "nodeSelector": None},
    {"cidr": None, "ipipMode": 1, "vxlanMode": ["Always"], "assignmentMode": {}},
    {"cidr": b"10.0.0.0/8"}, {1: 2, None: "x"}, [], "cidr: 10.0.0.0/8", None, 42,
])
def test_wrong_types_are_findings(spec):
    assert errors(validate_pool("p", spec))


def test_locate_is_used_for_every_finding():
    seen = []

    def locate(path):
        seen.append(path)
        return Location("f.yaml", ("config", "calico-ipam:pools", "Bad_Pool") + path, 3)

    findings = validate_pool("Bad_Pool", {"cidr": "10.0.0.1/16", "allowedUses": ["x"]},
                             {"labels": {"k": "v v"}}, locate=locate, stack="prod")
    assert sorted(f.rule for f in findings) == ["CIP103", "CIP109", "CIP119", "CIP120"]
    assert ("allowedUses", 0) in seen and ("cidr",) in seen
    assert ("metadata", "labels", "k") in seen and ("metadata", "name") in seen
    assert all(f.location.file == "f.yaml" and f.stack == "prod" for f in findings)


@given(address=st.one_of(st.integers(0, 2**32 - 1).map(lambda a: (4, a)),
                         st.integers(0, 2**128 - 1).map(lambda a: (6, a))),
       prefix=st.integers(0, 128), upper=st.booleans(), masked=st.booleans())
@settings(max_examples=300, deadline=None)
def test_canonical_cidr_is_netaddrs_masked_network_every_time(address, prefix, upper, masked):
    # apply_defaults and validation share one cached parse per CIDR text; what they
    # answer must be the same as parsing afresh, on the first call and the next.
    version, value = address
    prefix = min(prefix, 32 if version == 4 else 128)
    ip = ipaddress.IPv6Address(value) if version == 6 else ipaddress.IPv4Address(value)
    if version == 6 and ip.ipv4_mapped is not None:  # refused: Calico treats it as IPv4
        return
    network = ipaddress.ip_network((ip, prefix), strict=False)
    written = network.network_address if masked else ip
    text = f"{written.exploded.upper() if upper else written}/{prefix}"
    expected = str(netaddr.IPNetwork(text).cidr)
    host_bits = written != network.network_address
    for _ in range(2):
        assert apply_defaults({"cidr": text}).cidr == expected
        found = validate_pool("p", {"cidr": text, "blockSize": 128 if version == 6 else 32})
        assert ("CIP103" in [f.rule for f in found]) == host_bits
        if host_bits:
            assert expected in next(f.message for f in found if f.rule == "CIP103")


def test_a_unicode_digit_block_size_is_a_finding_not_a_crash():
    """Found by tests/test_fuzz.py (issue 9): "²".isdigit() is true, int("²") raises."""
    findings = validate_pool("p", {"cidr": "10.0.0.0/24", "blockSize": "²"}, None)
    assert [f.rule for f in findings] == ["CIP104"]
    assert "without quotes" not in findings[0].message
