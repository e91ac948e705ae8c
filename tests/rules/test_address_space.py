"""Address-space warnings (CIP301-CIP304) as a user reading `calico-ipam check` sees them."""
from __future__ import annotations

import dataclasses
import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipam_model.core.model import Location, Severity
from ipam_model.rules import address_space as addrspace
from ipam_model.rules.address_space import address_space_findings, classify

LOC = Location("stacks/Pulumi.dev.yaml", ("config", "calico-ipam:pools", "internal-pool", "cidr"), 12)


def rules_of(findings):
    return sorted(f.rule for f in findings)


def test_the_dev_example_pool_is_reported_as_public_in_the_users_terms():
    findings = address_space_findings("internal-pool", "192.169.0.0/24", LOC, stack="dev")
    assert len(findings) == 1
    (f,) = findings
    assert (f.rule, f.name, f.severity) == ("CIP301", "public-address-space", Severity.WARNING)
    assert f.message == (
        "pool internal-pool CIDR 192.169.0.0/24 is public address space, not RFC 1918 private "
        "space (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) or RFC 6598 shared space "
        "(100.64.0.0/10); pods would be routed with addresses someone else owns on the internet")
    assert f.subject == "pool/internal-pool"
    assert f.location == LOC
    assert f.stack == "dev"


@pytest.mark.parametrize("cidr", [
    "10.1.0.0/16", "10.0.0.0/8", "172.16.0.0/26", "172.31.255.0/24", "192.168.0.0/16",
    "100.64.0.0/10", "100.127.255.192/26", "fd00:1::/64", "fd00::/8",
])
def test_private_shared_and_ula_pools_raise_nothing(cidr):
    assert classify(cidr).is_private
    assert address_space_findings("p", cidr) == []


@pytest.mark.parametrize("cidr", ["172.0.0.0/8", "192.168.0.0/15", "100.0.0.0/8", "10.0.0.0/7"])
def test_a_pool_partly_private_and_partly_public_is_public(cidr):
    report = classify(cidr)
    assert not report.is_private
    assert report.is_public and not report.is_entirely_public
    (f,) = address_space_findings("wide", cidr)
    assert f.rule == "CIP301"
    assert f"pool wide CIDR {cidr} reaches into public address space" in f.message


def test_partly_public_message_names_the_public_parts_and_their_share():
    (f,) = address_space_findings("wide", "172.0.0.0/8")
    # 172.0.0.0/8 minus 172.16.0.0/12: 15 of 16 /12s are public.
    assert "(172.0.0.0/12, 172.32.0.0/11, 172.64.0.0/10 and 1 more: 94% of its addresses)" in f.message
    assert classify("172.0.0.0/8").public == (
        "172.0.0.0/12", "172.32.0.0/11", "172.64.0.0/10", "172.128.0.0/9")


@pytest.mark.parametrize("cidr, relation, text", [
    ("127.0.0.0/8", "equal", "is exactly the IPv4 loopback range 127.0.0.0/8"),
    ("127.1.0.0/16", "inside", "lies inside the IPv4 loopback range 127.0.0.0/8"),
    ("126.0.0.0/7", "contains", "contains the IPv4 loopback range 127.0.0.0/8"),
    ("::1/128", "equal", "is exactly the IPv6 loopback range ::1/128"),
    ("::/120", "contains", "contains the IPv6 loopback range ::1/128"),
])
def test_loopback_inside_equal_or_containing(cidr, relation, text):
    (overlap,) = classify(cidr).loopback
    assert overlap.relation == relation
    findings = [f for f in address_space_findings("lo", cidr) if f.rule == "CIP302"]
    assert len(findings) == 1
    assert f"pool lo CIDR {cidr} {text}; loopback addresses never leave a host" in findings[0].message


def test_a_pure_loopback_pool_is_not_also_called_public():
    assert rules_of(address_space_findings("lo", "127.0.0.0/8")) == ["CIP302"]
    assert rules_of(address_space_findings("lo", "126.0.0.0/7")) == ["CIP301", "CIP302"]


@pytest.mark.parametrize("cidr, relation", [
    ("224.0.0.0/4", "equal"), ("239.1.0.0/16", "inside"), ("ff02::/16", "inside"),
    ("ff00::/8", "equal"), ("192.0.0.0/2", "contains"),
])
def test_multicast_overlap(cidr, relation):
    (overlap,) = classify(cidr).multicast
    assert overlap.relation == relation
    assert "CIP303" in rules_of(address_space_findings("m", cidr))
    assert "cannot be a pod's own unicast address" in [
        f for f in address_space_findings("m", cidr) if f.rule == "CIP303"][0].message


def test_pure_multicast_pools_raise_only_the_multicast_warning():
    assert rules_of(address_space_findings("m", "224.0.0.0/4")) == ["CIP303"]
    assert rules_of(address_space_findings("m", "ff02::/16")) == ["CIP303"]


@pytest.mark.parametrize("cidr, expected", [
    ("0.0.0.0/8", 'is exactly the "this network" range 0.0.0.0/8'),
    ("0.0.0.0/24", 'lies inside the "this network" range 0.0.0.0/8'),
    ("240.0.0.0/4", "is exactly the reserved (class E) range 240.0.0.0/4 and includes the "
                    "limited broadcast address 255.255.255.255"),
    ("240.0.0.0/5", "lies inside the reserved (class E) range 240.0.0.0/4;"),
    ("255.255.255.255/32", "and is the limited broadcast address 255.255.255.255"),
])
def test_reserved_space(cidr, expected):
    findings = address_space_findings("r", cidr)
    assert rules_of(findings) == ["CIP304"]
    assert expected in findings[0].message


def test_the_whole_ipv4_space_hits_public_loopback_multicast_and_reserved():
    findings = address_space_findings("everything", "0.0.0.0/0", LOC, stack="prod")
    assert rules_of(findings) == ["CIP301", "CIP302", "CIP303", "CIP304"]
    assert all(f.severity is Severity.WARNING for f in findings)
    assert all(f.subject == "pool/everything" and f.stack == "prod" for f in findings)
    reserved = [f for f in findings if f.rule == "CIP304"][0]
    assert "0.0.0.0/8" in reserved.message and "240.0.0.0/4" in reserved.message
    report = classify("0.0.0.0/0")
    assert {o.relation for o in report.loopback + report.multicast + report.reserved} == {"contains"}
    # Link-local is Calico's own rule (R16, in calico.py): classified, not reported here.
    assert report.link_local[0].range.cidr == "169.254.0.0/16"


def test_the_whole_ipv6_space():
    assert rules_of(address_space_findings("v6", "::/0")) == ["CIP301", "CIP302", "CIP303"]


def test_link_local_is_classified_but_left_to_calicos_rule():
    report = classify("169.254.1.0/24")
    assert report.link_local[0].relation == "inside"
    assert address_space_findings("ll", "169.254.1.0/24") == []
    assert classify("fe80::/64").link_local[0].range.cidr == "fe80::/10"
    assert address_space_findings("ll", "fe80::/64") == []


@pytest.mark.parametrize("cidr", ["2001:db8::/32", "2001:db8:1::/64", "fc00::/8"])
def test_ipv6_outside_ula_is_public(cidr):
    (f,) = address_space_findings("v6", cidr)
    assert f.rule == "CIP301"
    assert "not IPv6 unique local space (fd00::/8)" in f.message
    assert classify(cidr).is_entirely_public


def test_report_is_frozen_and_cidr_is_normalised():
    report = classify("10.1.0.0/16")
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.is_private = False
    assert classify("10.1.2.3/16").cidr == "10.1.0.0/16"


def test_an_unparsable_cidr_is_left_to_the_cidr_rule():
    with pytest.raises(ValueError, match="not-a-cidr"):
        classify("not-a-cidr")
    assert address_space_findings("bad", "not-a-cidr") == []


# ------------------------------------------------ property: brute force over addresses
#
# Oracle: the stdlib ipaddress module and integer ranges, address by address.

def _span(cidr):
    net = ipaddress.ip_network(cidr)
    return int(net.network_address), int(net.broadcast_address)


PRIVATE_SPANS = [_span(c) for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                    "100.64.0.0/10")]
SPECIAL_SPANS = [_span(c) for c in ("127.0.0.0/8", "224.0.0.0/4", "0.0.0.0/8", "240.0.0.0/4",
                                    "169.254.0.0/16")]
EDGES = sorted({edge + delta for lo, hi in PRIVATE_SPANS + SPECIAL_SPANS
                for edge in (lo, hi) for delta in (-1, 0, 1) if 0 <= edge + delta < 2**32})


@st.composite
def small_v4_networks(draw):
    prefix = draw(st.integers(20, 32))
    anchor = draw(st.one_of(st.sampled_from(EDGES), st.integers(0, 2**32 - 1)))
    base = anchor & ~((1 << (32 - prefix)) - 1) & 0xFFFFFFFF
    return ipaddress.ip_network((base, prefix))


def _inside(addr, spans):
    return any(lo <= addr <= hi for lo, hi in spans)


@settings(max_examples=300, deadline=None)
@given(small_v4_networks())
def test_classification_agrees_with_address_by_address_oracle(net):
    lo, hi = int(net.network_address), int(net.broadcast_address)
    addresses = range(lo, hi + 1)
    report = classify(str(net))
    assert report.is_private == all(_inside(a, PRIVATE_SPANS) for a in addresses)
    public = sum(1 for a in addresses if not _inside(a, PRIVATE_SPANS + SPECIAL_SPANS))
    assert report.public_addresses == public
    assert ("CIP301" in rules_of(address_space_findings("p", str(net)))) == (public > 0)
    for field, ranges in (("loopback", addrspace.LOOPBACK), ("multicast", addrspace.MULTICAST),
                          ("reserved", addrspace.RESERVED_V4), ("link_local", addrspace.LINK_LOCAL)):
        expected = {}
        for rng in ranges:
            if ":" in rng.cidr:
                continue
            rlo, rhi = _span(rng.cidr)
            if (rlo, rhi) == (lo, hi):
                expected[rng.cidr] = "equal"
            elif rlo <= lo and hi <= rhi:
                expected[rng.cidr] = "inside"
            elif lo <= rlo and rhi <= hi:
                expected[rng.cidr] = "contains"
            else:
                assert hi < rlo or rhi < lo  # CIDRs never partly overlap
        got = {o.range.cidr: o.relation for o in getattr(report, field)}
        assert got == expected, field


def _uncovered(lo, hi, spans):
    """Addresses of [lo, hi] outside every span (spans may overlap)."""
    covered, cursor = 0, lo
    for slo, shi in sorted(spans):
        slo, shi = max(slo, cursor), min(shi, hi)
        if slo <= shi:
            covered += shi - slo + 1
            cursor = shi + 1
    return (hi - lo + 1) - covered


@st.composite
def any_v4_networks(draw):
    prefix = draw(st.integers(0, 32))
    anchor = draw(st.one_of(st.sampled_from(EDGES), st.integers(0, 2**32 - 1)))
    base = anchor & ~((1 << (32 - prefix)) - 1) & 0xFFFFFFFF
    return ipaddress.ip_network((base, prefix))


@settings(max_examples=300, deadline=None)
@given(any_v4_networks())
def test_public_share_agrees_with_interval_oracle_for_any_prefix(net):
    lo, hi = int(net.network_address), int(net.broadcast_address)
    report = classify(str(net))
    assert report.public_addresses == _uncovered(lo, hi, PRIVATE_SPANS + SPECIAL_SPANS)
    assert report.is_private == (_uncovered(lo, hi, PRIVATE_SPANS) == 0)
    relations = {o.range.cidr: o.relation
                 for o in report.loopback + report.multicast + report.reserved}
    for cidr in ("127.0.0.0/8", "224.0.0.0/4", "0.0.0.0/8", "240.0.0.0/4"):
        rlo, rhi = _span(cidr)
        if hi < rlo or rhi < lo:
            assert cidr not in relations
        else:
            assert relations[cidr] == ("equal" if (rlo, rhi) == (lo, hi) else
                                       "inside" if rlo <= lo and hi <= rhi else "contains")
