"""CIP701-CIP708: the declared reservations (calico-ipam:reservations) of one stack."""
from ipam_model.core.model import Severity
from ipam_model.declared.build import stack_from_config
from ipam_model.rules.runner import check_stacks

POOLS = {"web": {"cidr": "10.1.0.0/24", "blockSize": 26},
         "v6": {"cidr": "fd00:1::/120", "blockSize": 122}}


def stack(reservations, pools=POOLS):
    return stack_from_config("t", {"pools": pools, "reservations": reservations},
                             file="stacks/Pulumi.t.yaml")


def reservation_findings(reservations, pools=POOLS):
    return [f for f in check_stacks([stack(reservations, pools)])
            if f.rule.startswith("CIP7")]


def test_reservations_inside_the_pools_pass():
    assert reservation_findings({"gateways": {"reservedCIDRs": ["10.1.0.1/32",
                                                                "fd00:1::1/128"]}}) == []


def test_every_entry_problem_is_reported_with_its_yaml_path():
    found = reservation_findings({"bad": {"reservedCIDRs": ["10.1.0.1", "10.1.0.9/29",
                                                            "10.1.0.0/30", "10.1.0.0/30"]}})
    assert [(f.rule, f.location.yaml_path) for f in found] == [
        ("CIP701", "config.calico-ipam:reservations.bad.reservedCIDRs[0]"),
        ("CIP702", "config.calico-ipam:reservations.bad.reservedCIDRs[1]"),
        ("CIP703", "config.calico-ipam:reservations.bad.reservedCIDRs[3]")]
    assert all(f.is_error for f in found)


def test_a_reservation_outside_every_pool_reserves_nothing_here():
    """Calico only assigns pool addresses and holds reservations cluster-wide
    (libcalico-go lib/ipam/ipam.go:2607-2632), so a CIDR outside every pool is
    accepted by Calico but reserves nothing (CIP706, a warning)."""
    (outside,) = reservation_findings({"far": {"reservedCIDRs": ["192.168.7.0/24"]}})
    assert outside.rule == "CIP706" and outside.severity is Severity.WARNING
    assert "192.168.7.0/24 lies outside every pool of stack t" in outside.message
    found = reservation_findings({"wide": {"reservedCIDRs": ["10.1.0.0/23"]}})
    (partly,) = [f for f in found if f.rule == "CIP706"]  # and CIP708: all of pool web
    assert "only 256 of the 512 addresses of 10.1.0.0/23 lie in a pool" in partly.message


def test_overlapping_reservations_are_counted_once_so_one_is_redundant():
    """reserved.go:117-132: the reservations are one set (nested or repeated
    addresses count once)."""
    (finding,) = reservation_findings({"a": {"reservedCIDRs": ["10.1.0.0/28"]},
                                       "b": {"reservedCIDRs": ["10.1.0.4/30"]}})
    assert finding.rule == "CIP707"
    assert finding.location.yaml_path == "config.calico-ipam:reservations.b.reservedCIDRs[0]"
    assert "10.1.0.0/28 of reservation a" in finding.message


def test_a_large_share_warns_and_a_whole_pool_is_an_error():
    """Calico's IPReservation documentation: more than 10% of a pool reserved may make
    IPAM significantly slower (api/pkg/apis/projectcalico/v3/ipreservation.go:37-41)."""
    assert reservation_findings({"r": {"reservedCIDRs": ["10.1.0.0/28"]}}) == []  # 6%
    (share,) = reservation_findings({"r": {"reservedCIDRs": ["10.1.0.0/27"]}})
    assert share.rule == "CIP708" and share.severity is Severity.WARNING
    assert "32 addresses (12%) of pool web" in share.message
    (whole,) = reservation_findings({"r": {"reservedCIDRs": ["10.1.0.0/24"]}})
    assert whole.rule == "CIP708" and whole.is_error
    assert "Calico can assign none of its addresses" in whole.message
    disabled = dict(POOLS, web={"cidr": "10.1.0.0/24", "disabled": True})
    assert reservation_findings({"r": {"reservedCIDRs": ["10.1.0.0/24"]}}, disabled) == []
