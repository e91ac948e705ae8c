"""Rules on the IPReservations a stack declares (``calico-ipam:reservations``).

Calico's own rules for one reservation (syntax, host bits, duplicates, name)
live in ``calico.ipreservation``; this module claims them and adds what only
the whole stack can tell:

* CIP706: an entry outside every pool the stack declares. Calico accepts any
  CIDR (IPReservationSpec has no such constraint, and reservations are
  cluster-wide, not per pool: libcalico-go lib/ipam/ipam.go:2607-2632), but it
  only ever hands out pool addresses, so the part outside the pools reserves
  nothing here (a typo, or an address of another stack's pool).
* CIP707: two entries that overlap. Calico takes the union and counts an
  address once (lib/ipam/reserved.go:117-132; ipam_test.go:2723-2728,
  "Nested and duplicated reservations must not be counted twice"), so the
  smaller entry is redundant.
* CIP708: reservations covering a large share of an enabled pool. Calico's
  documentation: "If a significant portion of an IP pool is reserved (say more
  than 10%) then Calico may become significantly slower when searching for
  free IPAM blocks" (https://docs.tigera.io/calico/latest/reference/resources/ipreservation,
  Notes); the type's own comment says IPAM "may hunt for a long time"
  (api/pkg/apis/projectcalico/v3/ipreservation.go:37-41). All of a pool is an
  error: nothing can be assigned from it.
"""
from __future__ import annotations

from ..calico import ipreservation
from ..calico.ipreservation import reservation_findings
from ..core.cidr import parse_cidr
from ..core.ipreservation import ReservedRanges
from ..core.model import Finding, Severity, Stack
from ..core.rules import Help, Rule, Scope, W, declared_rules
from ..core.words import plural
from .overlap import find_overlaps, relation
from .registry import CheckContext, check

CIP706 = Rule("CIP706", "reservation-outside-pools", W,
              "A reserved CIDR lies (partly) outside every pool of the stack: that part "
              "reserves nothing Calico would hand out.",
              scope=Scope.STACK,
              help=Help("Calico only allocates from pools, so the part of a reservation outside every "
                        "pool protects nothing; often a typo in the CIDR.",
                        "Check the CIDR against the pools of the stack; reserve only addresses inside a "
                        "pool."))
CIP707 = Rule("CIP707", "reservation-overlap", W,
              "Two reserved CIDRs overlap; Calico counts each address once, so one is redundant.",
              scope=Scope.STACK,
              help=Help("Calico counts each reserved address once, so overlapping entries are redundant "
                        "and make the stack harder to read.",
                        "Keep one of the overlapping CIDRs (the larger one covers the other)."))
CIP708 = Rule("CIP708", "reservation-large-share", W,
              "Reservations cover more than 10% of an enabled pool (Calico's IPAM slows down; "
              "all of it: nothing can be assigned).",
              scope=Scope.STACK,
              help=Help("Reserved addresses are skipped on every allocation: a large share slows "
                        "Calico's IPAM and shrinks the pool; all of it leaves nothing to assign.",
                        "Reserve less, or give the reserved range its own disabled pool or a larger "
                        "pool."))

LARGE_SHARE_PERCENT = 10  # Calico's documentation's "say more than 10%"


def _subject(name: str) -> str:
    return f"reservation/{name}"


def entry_findings(stack: Stack) -> list[Finding]:
    """Calico's rules (CIP701-CIP705) for every declared reservation."""
    out: list[Finding] = []
    for name, spec in stack.reservation_specs.items():
        _, findings = reservation_findings(
            name, spec, locate=lambda *p, _n=name: stack.reservation_location(_n, *p),
            stack=stack.name)
        out += findings
    return out


def _entries(stack: Stack) -> list[tuple[str, int, object]]:
    """(reservation, index, parsed CIDR) of every valid reserved entry."""
    out = []
    for name, reservation in stack.reservations.items():
        texts = reservation.spec.reserved_cidrs
        for index, text in enumerate(texts):
            out.append((name, index, parse_cidr(text)))
    return out


def outside_pools(stack: Stack) -> list[Finding]:
    """CIP706: reserved entries (partly) outside every declared pool."""
    pools = ReservedRanges(parse_cidr(p.spec.cidr) for p in stack.pools.values())
    findings = []
    for name, index, cidr in _entries(stack):
        inside = pools.count(cidr)
        if inside == cidr.size:
            continue
        where = stack.reservation_location(name, "reservedCIDRs", index)
        if inside == 0:
            message = (f"reservation {name}: {cidr.text} lies outside every pool of stack "
                       f"{stack.name}; Calico hands out only pool addresses, so it reserves "
                       "nothing here (reservations are meant to lie inside the pools whose "
                       "addresses they hold back)")
        else:
            message = (f"reservation {name}: only {inside:,} of the {cidr.size:,} addresses of "
                       f"{cidr.text} lie in a pool of stack {stack.name}; the rest reserves "
                       "nothing Calico would hand out")
        findings.append(CIP706.finding(message, _subject(name), where, stack=stack.name))
    return findings


def overlapping_entries(stack: Stack) -> list[Finding]:
    """CIP707: reserved entries that overlap each other (in one reservation or two)."""
    entries = [(cidr.text, (name, index, cidr.text)) for name, index, cidr in _entries(stack)]
    findings = []
    for (a_name, a_index, a_cidr), (b_name, b_index, b_cidr) in find_overlaps(entries):
        findings.append(CIP707.finding(
            f"reservation {b_name}: {b_cidr} {relation(b_cidr, a_cidr)} {a_cidr} of "
            f"reservation {a_name}; Calico reserves the union once, so {b_cidr} adds nothing "
            f"(remove it, or keep it if {a_name} may go)", _subject(b_name),
            stack.reservation_location(b_name, "reservedCIDRs", b_index), stack=stack.name,
            related=(stack.reservation_location(a_name, "reservedCIDRs", a_index),)))
    return findings


def large_share(stack: Stack) -> list[Finding]:
    """CIP708: an enabled pool more than 10% (or wholly) reserved."""
    reserved = ReservedRanges(c for r in stack.reservations.values() for c in r.cidrs)
    names = sorted(stack.reservations)
    findings = []
    for pool_name, pool in stack.pools.items():
        cidr = parse_cidr(pool.spec.cidr)
        count = reserved.count(cidr)
        if pool.spec.disabled or count * 100 <= cidr.size * LARGE_SHARE_PERCENT:
            continue
        where = stack.reservation_location(names[0]) if names else stack.pool_location(pool_name)
        if count == cidr.size:
            findings.append(CIP708.finding(
                f"pool {pool_name} ({cidr.text}) is reserved in full by "
                f"{', '.join(names)}: Calico can assign none of its addresses, so every request "
                f"that depends on it fails. Set disabled: true on the pool if that is the "
                "intent", f"pool/{pool_name}", where, stack=stack.name,
                severity=Severity.ERROR))
            continue
        findings.append(CIP708.finding(
            f"reservations ({', '.join(names)}) cover {plural(count, 'address', 'addresses')} "
            f"({count * 100 // cidr.size}%) of pool {pool_name} ({cidr.text}); Calico's "
            "documentation warns that with more than 10% of a pool reserved its IPAM may become "
            "significantly slower when searching for free blocks. Reserve small ranges, or "
            "give those addresses a pool of their own", f"pool/{pool_name}", where,
            stack=stack.name))
    return findings


@check(*declared_rules(ipreservation))
def check_reservation_entries(ctx: CheckContext) -> list[Finding]:
    return entry_findings(ctx.stack)


@check(CIP706, CIP707, CIP708)
def check_reservations(ctx: CheckContext) -> list[Finding]:
    stack = ctx.stack
    return [*outside_pools(stack), *overlapping_entries(stack), *large_share(stack)]
