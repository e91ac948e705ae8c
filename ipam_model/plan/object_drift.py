"""Drift of the IPAMConfig and the IPReservations, as ``plan.drift`` does it for pools.

The baseline is what calico-ipam last applied: render records each object's
spec in its ``calico-ipam.io/applied-spec`` annotation. An object this stack
owns whose live spec differs from that record changed outside calico-ipam;
a record that does not decode was edited outside calico-ipam. Without a
record only ``drift`` on main (``stack_is_applied``) compares with the stack
file, and reports a declared object missing from the cluster as deleted.
"""
from __future__ import annotations

from typing import Iterator

from ..calico.ipam_config import changed_fields, decode_applied
from ..calico.ippool import decode_applied_record
from ..calico.ipreservation import read_reserved_cidrs
from ..core.ipam_config import IPAMConfig
from ..core.live_state import LiveState
from ..core.model import APPLIED_SPEC_ANNOTATION, Location, Stack
from ..core.words import show
from .compare import owned
from .drift import CIP611
from .model import BASELINE_APPLIED, BASELINE_STACK, AttributeChange, DriftItem
from .reservations import FIELD, declared_spec, live_spec


def _item(stack: Stack, address: str, kind: str, message: str, changes=(), *,
          location: Location, baseline: str = BASELINE_APPLIED) -> DriftItem:
    finding = CIP611.finding(message, address, location, stack=stack.name)
    return DriftItem(address, kind, message, tuple(changes), finding, baseline)


def _fields(changes) -> str:
    return ", ".join(f"{c.path} {show(c.before, None)} -> {show(c.after, None)}"
                     for c in changes)


def ipam_config_drift(stack: Stack, live: LiveState, stack_is_applied: bool
                      ) -> Iterator[DriftItem]:
    declared, current = stack.ipam_config, live.ipam_config_object
    if declared is None:
        return
    address, location = "ipamconfig/default", stack.ipam_config_location()
    if current is None:
        if stack_is_applied:
            effect = ("the declared values are Calico's defaults, so allocation is unchanged"
                      if declared == IPAMConfig() else
                      f"Calico runs on its defaults now: {IPAMConfig().summary()}")
            yield _item(stack, address, "deleted", (
                f"ipamconfig/default is declared in stack {stack.name}, which is what was "
                "applied, but the cluster has no IPAMConfig: deleted outside calico-ipam "
                f"({effect})"), location=location, baseline=BASELINE_STACK)
        return
    if not owned(current, stack):
        return  # adoption or a conflict: the plan's business
    raw = current.annotations.get(APPLIED_SPEC_ANNOTATION)
    applied, problem = decode_applied(raw) if raw is not None else (None, None)
    if problem is not None:
        yield _item(stack, address, "invalid", (
            f"ipamconfig/default: annotation {APPLIED_SPEC_ANNOTATION} {problem}; it was edited "
            "outside calico-ipam (pulumi up rewrites it)"), location=location)
        return
    baseline, base = (BASELINE_APPLIED, applied) if applied is not None else (
        BASELINE_STACK, declared if stack_is_applied else None)
    if base is None:
        return
    changes = [AttributeChange(n, a, b) for n, a, b in changed_fields(base, current.spec)]
    if changes:
        yield _item(stack, address, "changed", (
            f"ipamconfig/default has changed outside calico-ipam: {_fields(changes)} "
            f"({'applied' if baseline == BASELINE_APPLIED else 'stack'} -> live)"), changes,
            location=location, baseline=baseline)


def _recorded(raw: str) -> tuple[dict | None, str | None]:
    value, problem = decode_applied_record(raw)  # the one bounded decoder of these records
    if value is None:
        return None, problem
    if not isinstance(value.get(FIELD), list):
        return None, f"is not an IPReservation spec with a {FIELD} list"
    spec, invalid = read_reserved_cidrs(value[FIELD])
    return {FIELD: sorted(spec.reserved_cidrs) + sorted(invalid)}, None


def reservation_drift(stack: Stack, live: LiveState, stack_is_applied: bool
                      ) -> Iterator[DriftItem]:
    for name in sorted(stack.reservations):
        address, location = f"ipreservation/{name}", stack.reservation_location(name)
        current = live.reservations.get(name)
        if current is None:
            if stack_is_applied:
                yield _item(stack, address, "deleted", (
                    f"reservation {name} is declared in stack {stack.name}, which is what was "
                    "applied, but is missing from the cluster: deleted outside calico-ipam, so "
                    "Calico may hand out its addresses"), location=location,
                    baseline=BASELINE_STACK)
            continue
        if not owned(current, stack):
            continue
        raw = current.annotations.get(APPLIED_SPEC_ANNOTATION)
        applied, problem = _recorded(raw) if raw is not None else (None, None)
        if problem is not None:
            yield _item(stack, address, "invalid", (
                f"reservation {name}: annotation {APPLIED_SPEC_ANNOTATION} {problem}; it was "
                "edited outside calico-ipam (pulumi up rewrites it)"), location=location)
            continue
        baseline, base = (BASELINE_APPLIED, applied) if applied is not None else (
            BASELINE_STACK, declared_spec(stack.reservations[name]) if stack_is_applied
            else None)
        now = live_spec(current)
        if base is not None and base != now:
            change = AttributeChange(FIELD, base[FIELD], now[FIELD])
            yield _item(stack, address, "changed", (
                f"reservation {name} has changed outside calico-ipam: {_fields([change])} "
                f"({'applied' if baseline == BASELINE_APPLIED else 'stack'} -> live)"),
                [change], location=location, baseline=baseline)


def object_drift(stack: Stack, live: LiveState, stack_is_applied: bool) -> list[DriftItem]:
    return [*ipam_config_drift(stack, live, stack_is_applied),
            *reservation_drift(stack, live, stack_is_applied)]
