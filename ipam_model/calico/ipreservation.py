"""Calico's rules for one IPReservation, and how Calico reads a stored one.

``reservedCIDRs`` (api/pkg/apis/projectcalico/v3/ipreservation.go:56-62) is a
``listType=set`` of strings, each checked by the CRD with ``format: cidr`` on
the items (api/config/crd/projectcalico.org_ipreservations.yaml:45-56, moved
onto the items by calico#13338) and by Calico's validator with ``cidrs``,
which also takes a bare address as its /32 or /128
(libcalico-go/lib/validator/v3/validator.go:625-637). When Calico reads the
reservations it parses each entry with ``ParseCIDROrIP``, keeps the network
(host bits cleared) and logs and skips an entry it cannot parse
(libcalico-go/lib/ipam/reserved.go:94-115).

Declared reservations are held to the strictest of those layers: a CIDR with
its prefix, strictly masked (a reservation of ``10.0.0.5/24`` is all of
10.0.0.0/24 to Calico), each entry once. A reservation is a Kubernetes
object, so its name is a DNS-1123 subdomain.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from ..core.cidr import Cidr, cidr_problem, parse_cidr
from ..core.ipreservation import ReservationSpec
from ..core.model import Finding, Location, Reservation
from ..core.rules import CALICO, E, Help, Rule, Scope, W
from ..core.words import show
from .names import subdomain_problems

CIP701 = Rule("CIP701", "reservation-cidr-invalid", E,
              "A reservedCIDRs entry is not a CIDR (a single address needs its /32 or /128).",
              CALICO, scope=Scope.STACK,
              help=Help("Calico's validator refuses an entry that is not a CIDR or an address, and when "
                        "reading reservations Calico logs and skips an entry it cannot parse: the "
                        "addresses meant to be reserved would be handed out.",
                        "Write each `reservedCIDRs` entry as a network with its prefix, e.g. "
                        "`10.0.0.5/32` for one address.",
                        calico=("libcalico-go/lib/validator/v3/validator.go:625",
                                "libcalico-go/lib/ipam/reserved.go:94",)))
CIP702 = Rule("CIP702", "reservation-cidr-not-masked", E,
              "A reservedCIDRs entry has host bits set: Calico reserves the whole network it "
              "denotes.",
              scope=Scope.STACK,
              help=Help("Calico keeps only the network of an entry with host bits set: `10.0.0.5/24` "
                        "reserves all of 10.0.0.0/24, far more than the address it seems to name.",
                        "Write the network itself (`10.0.0.0/24`), or the single address with its full "
                        "prefix (`10.0.0.5/32`)."))
CIP703 = Rule("CIP703", "reservation-cidr-duplicate", E,
              "A reservedCIDRs entry appears twice; the CRD's list is a set and refuses it.",
              CALICO, scope=Scope.STACK,
              help=Help("reservedCIDRs is a set in the IPReservation CRD: the API server refuses a list "
                        "with a repeated entry, so pulumi up fails.",
                        "List each CIDR once.",
                        calico=("api/pkg/apis/projectcalico/v3/ipreservation.go:59",)))
CIP704 = Rule("CIP704", "reservation-empty", W,
              "A reservation lists no CIDRs and reserves nothing.",
              scope=Scope.STACK,
              help=Help("An empty reservation reserves nothing, which is rarely what was meant.",
                        "Add the CIDRs to reserve, or remove the reservation."))
CIP705 = Rule("CIP705", "reservation-name-invalid", E,
              "A reservation's name is not a valid Kubernetes object name.",
              CALICO, scope=Scope.STACK,
              help=Help("The API server refuses an object whose name is not a DNS-1123 subdomain, so "
                        "pulumi up fails on the reservation.",
                        "Use lower-case letters, digits, '-' and '.', at most 253 characters, starting "
                        "and ending with a letter or digit.",
                        calico=("libcalico-go/lib/validator/v3/validator.go:1235",)))

Locate = Callable[..., Location]


def _entry_finding(name: str, index: int, entry: Any, locate: Locate,
                   stack: str | None) -> tuple[Cidr | None, list[Finding]]:
    """The parsed network of one entry, or the findings that refuse it."""
    subject, where = f"reservation/{name}", locate("reservedCIDRs", index)
    if not isinstance(entry, str):
        return None, [CIP701.finding(
            f"reservation {name}: reservedCIDRs[{index}] is {show(entry)}, not a CIDR string "
            "such as 10.0.0.1/32", subject, where, stack=stack)]
    parsed = parse_cidr(entry)
    if parsed is None:
        problem = cidr_problem(entry)
        if problem and problem.startswith("is a bare IP address"):
            problem += (" (Calico's validator reads a bare address as its /32 or /128, but the "
                        "IPReservation CRD checks every entry with format: cidr, calico#13338)")
        return None, [CIP701.finding(
            f"reservation {name}: reservedCIDRs[{index}] {show(entry)} {problem}", subject,
            where, stack=stack)]
    if not parsed.masked:
        return None, [CIP702.finding(
            f"reservation {name}: reservedCIDRs[{index}] {entry} has host bits set; Calico "
            f"would reserve all of {parsed.text} ({parsed.size:,} addresses). Write "
            f"{parsed.text} if that is meant, or the address with its /{parsed.bits}",
            subject, where, stack=stack)]
    return parsed, []


def reservation_findings(name: str, spec: Mapping, *, locate: Locate,
                         stack: str | None = None) -> tuple[list[Cidr], list[Finding]]:
    """(the networks, Calico's rules' findings) of one declared reservation."""
    findings: list[Finding] = []
    subject = f"reservation/{name}"
    for problem in subdomain_problems(name):
        findings.append(CIP705.finding(
            f"reservation name {show(name)} is not a valid IPReservation name ({problem})",
            subject, locate(), stack=stack))
    entries = spec.get("reservedCIDRs") or []
    if not entries:
        findings.append(CIP704.finding(
            f"reservation {name} lists no reservedCIDRs: it reserves nothing", subject,
            locate("reservedCIDRs"), stack=stack))
    networks: list[Cidr] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if isinstance(entry, str) and entry in seen:
            findings.append(CIP703.finding(
                f"reservation {name}: reservedCIDRs[{index}] {entry} repeats "
                f"reservedCIDRs[{seen[entry]}]; the IPReservation CRD keeps the list as a set "
                "(x-kubernetes-list-type: set) and refuses a duplicate entry", subject,
                locate("reservedCIDRs", index), stack=stack))
            continue
        if isinstance(entry, str):
            seen[entry] = index
        parsed, problems = _entry_finding(name, index, entry, locate, stack)
        findings += problems
        if parsed is not None:
            networks.append(parsed)
    return networks, findings


def validated_reservation(name: str, spec: Mapping, *, locate: Locate,
                          stack: str | None = None
                          ) -> tuple[Reservation | None, list[Finding]]:
    """The reservation when Calico's rules find no error, and their findings."""
    networks, findings = reservation_findings(name, spec, locate=locate, stack=stack)
    if any(f.is_error for f in findings):
        return None, findings
    entries = tuple(spec.get("reservedCIDRs") or ())
    return Reservation(name, ReservationSpec(entries), tuple(networks), locate()), findings


def read_reserved_cidrs(entries: Any) -> tuple[ReservationSpec, tuple[str, ...]]:
    """A stored reservedCIDRs list as Calico reads it: (the networks in canonical
    form, the entries Calico skips). A bare address is its /32 or /128; host bits
    are cleared (``ParseCIDROrIP``); blank entries are ignored (reserved.go:101-104)."""
    kept: list[str] = []
    invalid: list[str] = []
    for entry in entries or ():
        if not isinstance(entry, str):
            invalid.append(show(entry))
            continue
        text = entry.strip()
        if not text:
            continue
        parsed = parse_cidr(text) or _bare_address(text)
        if parsed is None:
            invalid.append(entry)
        elif parsed.text not in kept:
            kept.append(parsed.text)
    return ReservationSpec(tuple(kept)), tuple(invalid)


def _bare_address(text: str) -> Cidr | None:
    """A bare address as the full-length network Calico makes of it."""
    if "/" in text:
        return None
    # By family: "fd00::1/32" would parse too, as the IPv6 network fd00::/32.
    return parse_cidr(f"{text}/{128 if ':' in text else 32}")


def networks_of(spec: ReservationSpec) -> list[Cidr]:
    """The parsed networks of a canonical spec (``read_reserved_cidrs``' output)."""
    return [c for c in (parse_cidr(t) for t in spec.reserved_cidrs) if c is not None]
