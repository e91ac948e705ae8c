"""A plan's reservations step: every ``ipreservation/<name>``, declared against live.

Like pools: created, updated in place (``reservedCIDRs`` is a set to Calico,
compared as canonical networks, order aside), adopted when the live object
carries no ownership labels, refused when another stack owns it (CIP615),
deleted when this stack owns it but no longer declares it, or forgotten
with ``retainOnDelete``. Live reservations nobody declares are listed
(CIP616): Calico honours every IPReservation in the cluster
(libcalico-go lib/ipam/ipam.go:2607-2632).

Reserving addresses is never disruptive for running pods: "Reservations only
block new allocations, they do not cause existing IP allocations to be
released" (api/pkg/apis/projectcalico/v3/ipreservation.go:33-35), which the
plan notes where a new reservation overlaps allocated blocks (CIP617).
Releasing reserved addresses is: Calico may then hand them to pods while
whatever they were reserved for still uses them. So removing reserved CIDRs
(an update that drops some, or a delete) is a gate (CIP614), lifted by
``--allow-disruption ipreservation/<name>``.
"""
from __future__ import annotations

from ..core.cidr import parse_cidr
from ..core.ipreservation import ReservedRanges
from ..core.live_state import OWNER_CALICO_IPAM, LiveReservation, LiveState
from ..core.model import Finding, Reservation, Stack
from ..core.rules import E, Help, I, Rule, Scope
from ..core.words import plural, show
from .compare import owned
from .ipam_config import CIP615, ObjectDiff
from .model import KIND_RESERVATION, Action, AttributeChange, Gate, ObjectChange

CIP614 = Rule("CIP614", "reservation-release", E,
              "The plan stops reserving addresses (a reservation deleted or CIDRs removed): "
              "Calico may hand them to pods.",
              scope=Scope.LIVE,
              help=Help("Addresses that stop being reserved go back to Calico's allocator at once: the "
                        "next pods may get addresses that something outside Kubernetes (a gateway, a "
                        "VIP) still uses.",
                        "Keep the reservation (or its CIDRs) in the stack until nothing uses those "
                        "addresses; if the release is intended, run with `--allow-disruption "
                        "ipreservation/<name>`."))
CIP616 = Rule("CIP616", "unmanaged-reservation", I,
              "A live IPReservation this stack does not declare: listed, never changed; Calico "
              "honours it.",
              scope=Scope.LIVE,
              help=Help("Calico honours every IPReservation in the cluster, declared or not: the "
                        "addresses it reserves are never handed to pods, which capacity planning must "
                        "count.",
                        "Nothing to do if it is intended; to manage it here, add it under "
                        "`calico-ipam:reservations` (calico-ipam import writes it)."))
CIP617 = Rule("CIP617", "reservation-covers-allocations", I,
              "A new reserved CIDR overlaps blocks with allocated addresses; Calico does not "
              "release them.",
              scope=Scope.LIVE,
              help=Help("A reservation only stops new allocations: pods that already hold addresses in "
                        "the reserved CIDR keep them until they restart, so the addresses are not free "
                        "yet.",
                        "Restart or move the pods that hold addresses in the reserved range if it must "
                        "be empty (the plan lists the blocks)."))

FIELD = "reservedCIDRs"


def live_spec(current: LiveReservation) -> dict:
    """The live reservedCIDRs as compared: canonical networks, then the entries Calico
    skips (shown as they are stored), sorted."""
    return {FIELD: sorted(current.spec.reserved_cidrs) + sorted(current.invalid)}


def declared_spec(reservation: Reservation) -> dict:
    return {FIELD: sorted(c.text for c in reservation.cidrs)}


def diff_reservations(stack: Stack, live: LiveState) -> ObjectDiff:
    changes, findings, gates = [], [], []
    for name in sorted(stack.reservations):
        change, refusal = _declared(stack, live, stack.reservations[name])
        if change is not None:
            changes.append(change)
            gates += _release_gates(stack, change)
            findings += _covers_allocations(stack, live, change)
        if refusal is not None:
            findings.append(refusal)
    for name in sorted(live.reservations):
        if name in stack.reservation_specs:
            continue
        current = live.reservations[name]
        if owned(current, stack):
            action = Action.FORGET if stack.cluster.retain_on_delete else Action.DELETE
            change = ObjectChange(KIND_RESERVATION, name, action, live_spec(current), None,
                                  location=stack.locate("calico-ipam:reservations"))
            changes.append(change)
            gates += _release_gates(stack, change)
        else:
            findings.append(_unmanaged(stack, current))
    return ObjectDiff(tuple(changes), tuple(findings), tuple(gates))


def _declared(stack: Stack, live: LiveState, reservation: Reservation
              ) -> tuple[ObjectChange | None, Finding | None]:
    name, after = reservation.name, declared_spec(reservation)
    location = stack.reservation_location(name)
    current = live.reservations.get(name)
    if current is None:
        return ObjectChange(KIND_RESERVATION, name, Action.CREATE, None, after,
                            location=location), None
    if current.owner == OWNER_CALICO_IPAM and current.owner_stack != stack.name:
        return None, CIP615.finding(
            f"reservation {name} is declared in stack {stack.name} but the live "
            f"IPReservation {name} belongs to stack {current.owner_stack or '(no stack label)'}; "
            "two stacks must not manage one reservation: rename it here or remove it from one "
            "stack", f"reservation/{name}", location, stack=stack.name)
    before = live_spec(current)
    changes = () if before == after else (AttributeChange(FIELD, before[FIELD], after[FIELD]),)
    return ObjectChange(KIND_RESERVATION, name, Action.UPDATE if changes else Action.NOOP,
                        before, after, changes, not owned(current, stack), location), None


def released(change: ObjectChange) -> list[str]:
    """The reserved CIDRs *change* stops reserving (an address still reserved by
    another entry of the same reservation counts as kept)."""
    before = (change.before or {}).get(FIELD) or []
    after = (change.after or {}).get(FIELD) or []
    kept = ReservedRanges(c for c in (parse_cidr(t) for t in after) if c is not None)
    out = []
    for text in before:
        cidr = parse_cidr(text)
        if cidr is not None and kept.count(cidr) < cidr.size:
            out.append(text)
    return out


def _release_gates(stack: Stack, change: ObjectChange) -> list[Gate]:
    """CIP614: a delete, or an update that drops reserved CIDRs."""
    if change.action not in (Action.UPDATE, Action.DELETE):
        return []
    gone = released(change)
    if not gone:
        return []
    verb = ("would delete reservation" if change.action is Action.DELETE
            else "would stop reserving")
    what = (f"{change.name} ({', '.join(gone)})" if change.action is Action.DELETE
            else f"{', '.join(gone)} of reservation {change.name}")
    finding = CIP614.finding(
        f"this plan {verb} {what}: Calico may then give those addresses to pods while whatever "
        "they were reserved for (a gateway, a VIP, a host outside Kubernetes) still uses them, "
        "and both stop working. Check that nothing uses them any more; then "
        f"--allow-disruption {change.address} lifts this gate (for pulumi up: "
        f"CALICO_IPAM_ALLOW_DISRUPTION={change.address})", change.address,
        change.location, stack=stack.name)
    return [Gate(finding, frozenset({change.address}))]


def _covers_allocations(stack: Stack, live: LiveState, change: ObjectChange) -> list[Finding]:
    """CIP617: newly reserved CIDRs overlapping blocks that hold allocations."""
    before = set((change.before or {}).get(FIELD) or ())
    new = [c for c in (parse_cidr(t) for t in (change.after or {}).get(FIELD) or ()
                       if t not in before) if c is not None]
    if not new:
        return []
    ranges = ReservedRanges(new)
    hit = [b for b in live.blocks if b.allocated and (p := b.parsed or parse_cidr(b.cidr))
           and ranges.count(p)]
    if not hit:
        return []
    allocated = sum(b.allocated for b in hit)
    return [CIP617.finding(
        f"reservation {change.name}: {', '.join(c.text for c in new)} overlaps "
        f"{plural(len(hit), 'IPAM block')} holding {plural(allocated, 'allocated address', 'allocated addresses')} "
        f"({', '.join(b.cidr for b in hit[:5])}{' …' if len(hit) > 5 else ''}); Calico "
        "reserves only new allocations, so a pod already holding a reserved address keeps it "
        "until it is restarted", change.address, change.location, stack=stack.name)]


def _unmanaged(stack: Stack, current: LiveReservation) -> Finding:
    """CIP616: a live reservation nobody declares here."""
    owner = (f"stack {current.owner_stack}" if current.owner == OWNER_CALICO_IPAM
             else "nobody known (no calico-ipam ownership label)")
    cidrs = ", ".join(current.spec.reserved_cidrs) or "no CIDRs"
    return CIP616.finding(
        f"live IPReservation {current.name} ({cidrs}) is managed by {owner}; stack "
        f"{stack.name} lists it and never changes it, and Calico never assigns its addresses"
        + (f" (Calico ignores its entries {show(list(current.invalid))})" if current.invalid
           else ""), f"reservation/{current.name}", stack.locate("calico-ipam:reservations"),
        stack=stack.name)
