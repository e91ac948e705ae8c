"""Calico's rules for one IPReservation, and how Calico reads a stored one."""
import pytest

from ipam_model.calico.ipreservation import (
    read_reserved_cidrs,
    reservation_findings,
    validated_reservation,
)
from ipam_model.core.model import Location


def locate(*path):
    return Location("stacks/Pulumi.t.yaml", ("r",) + path)


def rules(spec, name="gw"):
    _, found = reservation_findings(name, spec, locate=locate, stack="t")
    return [f.rule for f in found]


def test_a_stored_reservation_is_read_as_calico_reads_it():
    """libcalico-go lib/ipam/reserved.go:94-115 ``reservedCIDRs``: entries trimmed,
    blank ones skipped, each parsed with ``ParseCIDROrIP`` (a bare address is its
    /32 or /128, host bits cleared), a malformed one logged and skipped."""
    spec, invalid = read_reserved_cidrs(
        [" 10.0.0.1 ", "10.0.0.5/24", "", "fd00::1", "not-a-cidr", 7, "10.0.0.0/24"])
    assert spec.reserved_cidrs == ("10.0.0.1/32", "10.0.0.0/24", "fd00::1/128")
    assert invalid == ("not-a-cidr", "7")
    assert read_reserved_cidrs(None)[0].reserved_cidrs == ()


def test_a_valid_declared_reservation():
    reservation, found = validated_reservation(
        "gw", {"reservedCIDRs": ["10.0.0.1/32", "fd00::/120"]}, locate=locate, stack="t")
    assert found == []
    assert [c.text for c in reservation.cidrs] == ["10.0.0.1/32", "fd00::/120"]
    assert reservation.spec.to_calico() == {"reservedCIDRs": ["10.0.0.1/32", "fd00::/120"]}


@pytest.mark.parametrize("entry,rule", [
    ("10.0.0.1", "CIP701"),       # the CRD's format: cidr refuses a bare address (calico#13338)
    ("10.0.0.0/33", "CIP701"),
    ("banana", "CIP701"),
    (["10.0.0.0/24"], "CIP701"),
    ("10.0.0.5/24", "CIP702"),    # Calico would reserve all of 10.0.0.0/24
])
def test_an_entry_calico_refuses_or_misreads(entry, rule):
    assert rules({"reservedCIDRs": [entry]}) == [rule]


def test_host_bits_say_what_calico_would_reserve():
    _, (finding,) = reservation_findings("gw", {"reservedCIDRs": ["10.0.0.5/24"]},
                                         locate=locate, stack="t")
    assert "Calico would reserve all of 10.0.0.0/24 (256 addresses)" in finding.message
    assert finding.location.path == ("r", "reservedCIDRs", 0)
    assert finding.subject == "reservation/gw"


def test_a_duplicate_entry_is_refused_like_the_crds_set():
    """reservedCIDRs is ``x-kubernetes-list-type: set``
    (api/config/crd/projectcalico.org_ipreservations.yaml): the API server refuses a
    repeated entry."""
    assert rules({"reservedCIDRs": ["10.0.0.1/32", "10.0.0.1/32"]}) == ["CIP703"]


def test_an_empty_reservation_is_a_warning_and_a_bad_name_an_error():
    assert rules({"reservedCIDRs": []}) == ["CIP704"]
    assert rules({"reservedCIDRs": ["10.0.0.1/32"]}, name="Gate_Way") == ["CIP705"]
    reservation, _ = validated_reservation("Gate_Way", {"reservedCIDRs": ["10.0.0.1/32"]},
                                           locate=locate)
    assert reservation is None
