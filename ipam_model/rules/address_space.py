"""Which address space a pool CIDR lives in: private, public or special.

Calico itself only refuses link-local pools (R16, reported by ``calico.py``);
it happily creates a pool in public, loopback, multicast or reserved space.
These checks are calico-ipam's own warnings (CIP301-CIP304).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import netaddr

from ..core import cidr as core_cidr
from ..core.model import Finding, Location
from ..core.rules import Help, Rule, Scope, W
from .registry import CheckContext, check

CIP301 = Rule("CIP301", "public-address-space", W,
              "The pool is outside private space (RFC 1918, RFC 6598, ULA fd00::/8).",
              scope=Scope.STACK,
              help=Help("Addresses outside private space belong to someone else on the "
                        "internet: pods using them cannot reach that network, and routing or "
                        "NAT may leak them.",
                        "Use RFC 1918 (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16), RFC 6598 "
                        "(100.64.0.0/10) or ULA (fd00::/8) space, unless you own the public "
                        "range."))
CIP302 = Rule("CIP302", "loopback-overlap", W,
              "The pool overlaps loopback (127.0.0.0/8, ::1/128).",
              scope=Scope.STACK,
              help=Help("Loopback addresses never leave a host; a pod with one is unreachable.",
                        "Move the pool out of 127.0.0.0/8 and ::1/128."))
CIP303 = Rule("CIP303", "multicast-overlap", W,
              "The pool overlaps multicast (224.0.0.0/4, ff00::/8).",
              scope=Scope.STACK,
              help=Help("Multicast addresses are not host addresses; pods with them cannot be "
                        "reached normally.",
                        "Move the pool out of 224.0.0.0/4 and ff00::/8."))
CIP304 = Rule("CIP304", "reserved-address-space", W,
              "The pool overlaps reserved space (0.0.0.0/8, 240.0.0.0/4, broadcast).",
              scope=Scope.STACK,
              help=Help("0.0.0.0/8, 240.0.0.0/4 and the broadcast address are not usable as "
                        "host addresses on most systems.",
                        "Move the pool into private space."))



@dataclass(frozen=True)
class AddressRange:
    """A named, well-known range such as RFC 1918's 10.0.0.0/8."""

    cidr: str
    name: str

    @property
    def network(self) -> netaddr.IPNetwork:
        return _parsed(self.cidr)

    @property
    def version(self) -> int:
        return self.network.version

    def __str__(self) -> str:
        return self.cidr


PRIVATE_V4 = tuple(AddressRange(c, n) for c, n in core_cidr.PRIVATE_V4)
SHARED_V4 = tuple(AddressRange(c, n) for c, n in core_cidr.SHARED_V4)
# fc00::/8 has no assignment scheme, so a pool there is not treated as private.
ULA_V6 = tuple(AddressRange(c, n) for c, n in core_cidr.ULA_V6)
LOOPBACK = (
    AddressRange("127.0.0.0/8", "IPv4 loopback"),
    AddressRange("::1/128", "IPv6 loopback"),
)
MULTICAST = (
    AddressRange("224.0.0.0/4", "IPv4 multicast"),
    AddressRange("ff00::/8", "IPv6 multicast"),
)
RESERVED_V4 = (
    AddressRange("0.0.0.0/8", "\"this network\""),  # RFC 1122 3.2.1.3
    # RFC 1112 class E; its last address is the limited broadcast 255.255.255.255.
    AddressRange("240.0.0.0/4", "reserved (class E)"),
)
LINK_LOCAL = tuple(AddressRange(c, f"IPv{v} link-local")
                   for v, c in sorted(core_cidr.LINK_LOCAL.items()))
PRIVATE = PRIVATE_V4 + SHARED_V4 + ULA_V6
SPECIAL = LOOPBACK + MULTICAST + RESERVED_V4 + LINK_LOCAL

BROADCAST_V4 = netaddr.IPAddress("255.255.255.255")

INSIDE, EQUAL, CONTAINS = "inside", "equal", "contains"


@dataclass(frozen=True)
class RangeOverlap:
    """A pool overlapping a named range. Two CIDRs that overlap always nest,
    so the relation is ``inside`` (pool within range), ``equal`` or
    ``contains`` (range within pool)."""

    range: AddressRange
    relation: str

    def describe(self) -> str:
        if self.relation == EQUAL:
            return f"is exactly the {self.range.name} range {self.range.cidr}"
        if self.relation == INSIDE:
            return f"lies inside the {self.range.name} range {self.range.cidr}"
        return f"contains the {self.range.name} range {self.range.cidr}"


@dataclass(frozen=True)
class AddressSpaceReport:
    """Where a CIDR sits. ``public`` lists the parts that are neither private
    (RFC 1918, RFC 6598, ULA fd00::/8) nor one of the special ranges."""

    cidr: str
    version: int
    is_private: bool
    public: tuple[str, ...]
    public_addresses: int
    total_addresses: int
    loopback: tuple[RangeOverlap, ...]
    multicast: tuple[RangeOverlap, ...]
    reserved: tuple[RangeOverlap, ...]
    link_local: tuple[RangeOverlap, ...]

    @property
    def is_public(self) -> bool:
        return self.public_addresses > 0

    @property
    def is_entirely_public(self) -> bool:
        return self.public_addresses == self.total_addresses


def _overlaps(network: netaddr.IPNetwork, ranges) -> tuple[RangeOverlap, ...]:
    found = []
    for rng in ranges:
        other = rng.network
        if other.version != network.version:
            continue
        if network == other:
            found.append(RangeOverlap(rng, EQUAL))
        elif network in other:
            found.append(RangeOverlap(rng, INSIDE))
        elif other in network:
            found.append(RangeOverlap(rng, CONTAINS))
    return tuple(found)


def _network(text) -> netaddr.IPNetwork:
    parsed = core_cidr.parse_cidr(str(text))
    if parsed is None:
        raise ValueError(f"{text!r} is not a CIDR: {core_cidr.cidr_problem(str(text))}")
    # The network: an unmasked CIDR is CIP103's business.
    return _parsed(parsed.text)


@functools.lru_cache(maxsize=None)
def _parsed(cidr: str) -> netaddr.IPNetwork:
    # The family named: netaddr's guess leaves a reference cycle per IPv6 CIDR
    # (core.cidr._family).
    return netaddr.IPNetwork(cidr, 6 if ":" in cidr else 4)


@functools.lru_cache(maxsize=None)
def _space(version: int) -> tuple[netaddr.IPSet, netaddr.IPSet, tuple, tuple]:
    """Per family: known space, private space, and (first, last) bounds of the
    private and the special ranges, built once rather than per pool."""
    private = [r for r in PRIVATE if r.version == version]
    special = [r for r in SPECIAL if r.version == version]
    known = netaddr.IPSet(r.network for r in private + special)
    bounds = lambda ranges: tuple((r.network.first, r.network.last) for r in ranges)
    return known, netaddr.IPSet(r.network for r in private), bounds(private), bounds(special)


def classify(text) -> AddressSpaceReport:
    """Classify ``text`` (a string or netaddr.IPNetwork); ValueError if it is not a CIDR."""
    network = _network(text)
    known, private, private_bounds, special_bounds = _space(network.version)
    first, last = network.first, network.last
    # Nearly every pool sits inside one private range and touches no special
    # one; answer that from integer bounds without building IPSets.
    if (any(lo <= first and last <= hi for lo, hi in private_bounds)
            and not any(first <= hi and lo <= last for lo, hi in special_bounds)):
        return AddressSpaceReport(cidr=str(network), version=network.version, is_private=True,
                                  public=(), public_addresses=0, total_addresses=network.size,
                                  loopback=(), multicast=(), reserved=(), link_local=())
    pool = netaddr.IPSet([network])
    public = pool - known
    return AddressSpaceReport(
        cidr=str(network),
        version=network.version,
        is_private=pool.issubset(private),
        public=tuple(str(c) for c in public.iter_cidrs()),
        public_addresses=public.size,
        total_addresses=network.size,
        loopback=_overlaps(network, LOOPBACK),
        multicast=_overlaps(network, MULTICAST),
        reserved=_overlaps(network, RESERVED_V4),
        link_local=_overlaps(network, LINK_LOCAL),
    )


def _private_space_text(version: int) -> str:
    if version == 4:
        return ("RFC 1918 private space (" + ", ".join(r.cidr for r in PRIVATE_V4)
                + ") or RFC 6598 shared space (" + ", ".join(r.cidr for r in SHARED_V4) + ")")
    return "IPv6 unique local space (" + ", ".join(r.cidr for r in ULA_V6) + ")"


def _join_ranges(parts: list[str], limit: int = 3) -> str:
    shown = parts[:limit]
    if len(parts) > limit:
        return ", ".join(shown) + f" and {len(parts) - limit} more"
    if len(shown) > 1:
        return ", ".join(shown[:-1]) + " and " + shown[-1]
    return shown[0]


def _share(part: int, whole: int) -> str:
    percent = part * 100 / whole
    if percent < 1:
        return "under 1%"
    if percent > 99 and part < whole:
        return "over 99%"
    return f"{round(percent)}%"


def _overlap_sentence(overlaps: tuple[RangeOverlap, ...]) -> str:
    return _join_ranges([o.describe() for o in overlaps], limit=len(overlaps))


def address_space_findings(pool_name: str, cidr, location: Location = Location(),
                           stack: str | None = None) -> list[Finding]:
    """CIP301-CIP304 for one pool. Link-local overlap is Calico's own rule
    (R16, CIP117) and is reported by ``calico.py``, not here.

    A CIDR that does not parse yields nothing: CIP102 already reports it.
    """
    try:
        report = classify(cidr)
    except ValueError:
        return []
    subject = f"pool/{pool_name}"
    head = f"pool {pool_name} CIDR {report.cidr}"
    findings: list[Finding] = []

    if report.is_public:
        if report.is_entirely_public:
            what = f"{head} is public address space"
        else:
            what = (f"{head} reaches into public address space "
                    f"({_join_ranges(list(report.public))}: "
                    f"{_share(report.public_addresses, report.total_addresses)} of its addresses)")
        findings.append(CIP301.finding(
            f"{what}, not {_private_space_text(report.version)}; pods would be routed "
            "with addresses someone else owns on the internet",
            subject, location, stack=stack))

    if report.loopback:
        findings.append(CIP302.finding(
            f"{head} {_overlap_sentence(report.loopback)}; loopback addresses never leave "
            "a host, so pods given them cannot be reached from other pods or nodes",
            subject, location, stack=stack))

    if report.multicast:
        findings.append(CIP303.finding(
            f"{head} {_overlap_sentence(report.multicast)}; multicast addresses name groups "
            "of receivers and cannot be a pod's own unicast address",
            subject, location, stack=stack))

    if report.reserved:
        network = netaddr.IPNetwork(report.cidr)
        broadcast = ""
        if BROADCAST_V4 in network:
            broadcast = (" and is the limited broadcast address 255.255.255.255"
                         if network.size == 1 else
                         " and includes the limited broadcast address 255.255.255.255")
        findings.append(CIP304.finding(
            f"{head} {_overlap_sentence(report.reserved)}{broadcast}; hosts and routers "
            "drop or refuse these addresses, so pods given them cannot communicate",
            subject, location, stack=stack))

    return findings


@check(CIP301, CIP302, CIP303, CIP304)
def check_address_space(ctx: CheckContext) -> list[Finding]:
    stack = ctx.stack
    return [f for name, pool in stack.pools.items()
            for f in address_space_findings(name, pool.spec.cidr,
                                            stack.pool_location(name, "cidr"), stack=stack.name)]
