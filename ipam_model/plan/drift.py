"""Drift: what changed outside calico-ipam (Terraform's "Objects have changed outside").

Drift is live against what calico-ipam last applied, as Terraform compares
live with its state rather than with the configuration: every rendered pool
records its spec in the ``calico-ipam.io/applied-spec`` annotation, so a
pending edit of the stack file is a proposed change, never drift.
"""
from __future__ import annotations

from typing import Iterator

from ..calico.annotations import POOL_ANNOTATIONS, parse_pools_annotation
from ..calico.ippool import comparable, decode_applied_spec
from ..core.live_state import LiveNamespace, LivePool, LiveState
from ..core.model import APPLIED_SPEC_ANNOTATION, Binding, Location, Pool, Stack
from ..core.rules import Help, Rule, Scope, W
from ..core.words import show
from ..rules.overlap import live_overlap_findings
from .compare import owned, spec_changes
from .model import BASELINE_APPLIED, BASELINE_STACK, AttributeChange, DriftItem
from .namespaces import CIP609

CIP611 = Rule("CIP611", "drift", W,
              "The live cluster differs from what calico-ipam last applied (changed outside "
              "calico-ipam).",
              scope=Scope.LIVE,
              help=Help("Someone changed the object outside calico-ipam; the next pulumi up "
                        "puts the stack's version back.",
                        "Adopt the change into the stack file, or apply the stack to revert it."))



def drift(stack: Stack, live: LiveState, *, stack_is_applied: bool = False) -> list[DriftItem]:
    """What changed outside calico-ipam, in the stack's own terms.

    The baseline is what calico-ipam last applied, never the stack file as
    edited: a pool this stack owns whose live spec differs from its
    ``calico-ipam.io/applied-spec`` annotation (defaults and server fields are
    not differences), or whose annotation is unreadable; a bound namespace
    whose pool annotation is not valid JSON (calico-ipam never writes that).

    Without a record the answer depends on what is known. ``plan``
    (``stack_is_applied`` False) reports nothing for a pool without the
    annotation (applied by an older calico-ipam, or adopted after
    ``import``): the stack file may hold the user's pending edit. ``drift``
    in scheduled CI on main passes True: the stack file there *is* what was
    applied, so such a pool is compared with the stack, a declared pool
    missing from the cluster was deleted outside calico-ipam, a bound
    namespace whose annotation differs from the binding was changed, and an
    undeclared live pool overlapping a declared one was added (``plan``
    reports that overlap as the error CIP205 instead).
    """
    items: list[DriftItem] = []
    for name in sorted(stack.pools):
        items += pool_drift(stack, stack.pools[name], live.pools.get(name), stack_is_applied)
    for name in sorted(stack.bindings):
        namespace = live.namespaces.get(name)
        if namespace is not None:  # a missing one: the plan reports CIP605
            items += namespace_drift(stack, stack.bindings[name], namespace, stack_is_applied)
    if stack_is_applied:
        items += overlap_drift(stack, live)
    return items


def _item(stack: Stack, address: str, kind: str, message: str, changes=(), *,
          rule: Rule = CIP611, location: Location = Location(),
          baseline: str = BASELINE_APPLIED) -> DriftItem:
    subject = address.replace("ippool/", "pool/", 1)
    finding = rule.finding(message, subject, location, stack=stack.name)
    return DriftItem(address, kind, message, tuple(changes), finding, baseline)


def _fields(changes) -> str:
    return ", ".join(f"{c.path} {show(c.before, None)} -> {show(c.after, None)}"
                     for c in changes)


def pool_drift(stack: Stack, pool: Pool, current: LivePool | None,
               stack_is_applied: bool) -> Iterator[DriftItem]:
    """A declared pool: changed against its applied-spec record (or, on main,
    against the stack), its record unreadable, or deleted outside calico-ipam."""
    name, location = pool.name, stack.pool_location(pool.name)
    if current is None:
        if stack_is_applied:
            yield _item(stack, f"ippool/{name}", "deleted", (
                f"pool {name} ({pool.spec.cidr}) is declared in stack {stack.name}, which is "
                "what was applied, but is missing from the cluster: deleted outside "
                "calico-ipam"), location=location, baseline=BASELINE_STACK)
        return  # for plan: simply a create
    if not owned(current, stack):
        return  # adoption or a conflict: the plan's business, not drift
    raw = current.annotations.get(APPLIED_SPEC_ANNOTATION)
    applied, problem = decode_applied_spec(raw) if raw is not None else (None, None)
    if problem is not None:
        yield _item(stack, f"ippool/{name}", "invalid", (
            f"pool {name}: annotation {APPLIED_SPEC_ANNOTATION} {problem}; it was edited "
            "outside calico-ipam, so what calico-ipam last applied is unknown (pulumi up "
            "rewrites it)"), location=location)
    elif applied is not None:
        changes = spec_changes(comparable(applied), comparable(current.spec))
        if changes:
            yield _item(stack, f"ippool/{name}", "changed", (
                f"pool {name} has changed outside calico-ipam since it was last applied: "
                f"{_fields(changes)} (applied -> live)"), changes, location=location)
    elif stack_is_applied:
        changes = spec_changes(comparable(pool.spec), comparable(current.spec))
        if changes:
            yield _item(stack, f"ippool/{name}", "changed", (
                f"pool {name} differs from stack {stack.name}: {_fields(changes)} (stack -> "
                f"live); it carries no {APPLIED_SPEC_ANNOTATION} annotation (applied by an "
                "older calico-ipam or adopted by import), so the stack file is taken as what "
                "was applied"), changes, location=location, baseline=BASELINE_STACK)


def namespace_drift(stack: Stack, binding: Binding, namespace: LiveNamespace,
                    stack_is_applied: bool) -> Iterator[DriftItem]:
    """A bound namespace: an annotation Calico cannot parse (always), or, on
    main, one removed or changed outside calico-ipam."""
    name = binding.namespace
    declared = binding.annotations()
    for family, key in POOL_ANNOTATIONS.items():
        want = declared.get(key)
        if want is None:
            continue
        raw = namespace.annotations.get(key)
        # located only when reported: 10,000 bound namespaces are mostly in order
        where = ("ipv4Pools" if family == 4 else "ipv6Pools",)
        if raw is None:
            if stack_is_applied:
                yield _item(stack, f"namespace/{name}", "deleted", (
                    f"namespace {name}: annotation {key} is missing (stack {stack.name} binds "
                    f"{show(want, None)}): removed outside calico-ipam"),
                    [AttributeChange(key, want, None)],
                    location=stack.binding_location(name, *where), baseline=BASELINE_STACK)
            continue
        entries, problem = parse_pools_annotation(raw)
        if entries is None:
            yield _item(stack, f"namespace/{name}", "invalid", (
                f"namespace {name}: annotation {key} = {raw!r} {problem}; new pods there fail "
                f"to start (declared {show(want, None)})"), [AttributeChange(key, want, raw)],
                rule=CIP609, location=stack.binding_location(name, *where))
        elif entries != want and stack_is_applied:
            yield _item(stack, f"namespace/{name}", "changed", (
                f"namespace {name}: annotation {key} has changed outside calico-ipam: "
                f"{show(want, None)} -> {show(entries, None)} (stack -> live)"),
                [AttributeChange(key, want, entries)],
                location=stack.binding_location(name, *where), baseline=BASELINE_STACK)


def overlap_drift(stack: Stack, live: LiveState) -> list[DriftItem]:
    """Undeclared live pools overlapping declared ones: added outside calico-ipam."""
    from_notes = live_overlap_findings(stack, live.pools)
    return [DriftItem(f.subject.replace("pool/", "ippool/", 1), "overlap", f.message, (), f,
                      BASELINE_STACK) for f in from_notes]
