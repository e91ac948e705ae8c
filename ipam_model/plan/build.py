"""A plan, step by step: pools, namespaces, gates, notes, drift and check.

Pure functions over frozen dataclasses; the CLI (``plan``, ``drift``) and the
Pulumi program (the safety gates before registering resources) share them.
Proposed changes are always desired (the stack) against live. A plan also
carries ``calico-ipam check``'s findings about the stack, so it is refused
exactly when ``pulumi up`` would refuse.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Sequence

from ..core.live_state import LiveState
from ..core.model import Finding, Stack, sort_findings
from ..rules.runner import check_stacks
from .allocator import allocator_after
from .compare import identity
from .drift import drift
from .gates import GateInputs, gates, lift
from .ipam_config import diff_ipam_config
from .model import Plan
from .namespaces import CIP605, diff_namespaces
from .notes import (
    CIP610,
    CIP622,
    CIP623,
    api_version_notes,
    live_overlap_notes,
    not_allocatable_notes,
    orphaned_block_notes,
    selector_notes,
    unmanaged_notes,
)
from .object_drift import object_drift
from .pools import diff_pools, pools_after
from .reservations import diff_reservations


def build_plan(stack: Stack, live: LiveState, *,
               allow_disruption: Iterable[str] = frozenset(),
               context: Sequence[Stack] = (), run_check: bool = True,
               with_drift: bool = True) -> Plan:
    """What ``pulumi up --stack <stack>`` would change in the cluster, with the
    safety gates evaluated. ``allow_disruption`` names pools whose gates
    become warnings.

    With ``run_check`` (the default) the plan also holds ``calico-ipam
    check``'s findings about *stack* (``context``: the other stacks of the
    directory, for routing-domain overlaps), and its errors refuse the plan
    as they refuse ``pulumi up``. Without ``with_drift`` the plan's ``drift`` is
    left empty (the safety gates before ``pulumi up`` need no drift).
    """
    # check's forecast assumes what the allocator reads once the plan is applied.
    checks = (check_stacks([replace(stack, allocator=allocator_after(stack, live))],
                           context=context) if run_check else [])
    return _plan(stack, live, frozenset(allow_disruption), checks, with_drift)


def _plan(stack: Stack, live: LiveState, allow: frozenset[str], checks: Sequence[Finding],
          with_drift: bool) -> Plan:
    pools = diff_pools(stack, live)
    spaces = diff_namespaces(stack, live, pools.changes)
    after = pools_after(stack, live, pools.changes)
    config, reservations = diff_ipam_config(stack, live), diff_reservations(stack, live)
    found = gates(GateInputs(stack, live, pools.changes, spaces, after), allow) + tuple(
        lift(g, allow) for g in config.gates + reservations.gates)
    notes = [*pools.findings, *spaces.findings, *unmanaged_notes(stack, live, pools.unmanaged),
             *api_version_notes(stack, live), *live_overlap_notes(stack, live),
             *orphaned_block_notes(stack, live), *not_allocatable_notes(stack, live),
             *selector_notes(stack, live, after), *config.findings, *reservations.findings]
    # check reports a pool that fails Calico's rules too: keep one copy.
    seen = {identity(f) for f in checks}
    return Plan(
        stack=stack.name, stack_file=stack.file, source=live.source,
        pools=tuple(pools.changes[n] for n in sorted(pools.changes)),
        namespaces=spaces.changes, unmanaged=pools.unmanaged, gates=found,
        findings=tuple(sort_findings(f for f in notes if identity(f) not in seen)),
        drift=(tuple(drift(stack, live)) + tuple(object_drift(stack, live, False))
               if with_drift else ()),
        checks=tuple(sort_findings(checks)), objects=config.changes + reservations.changes)


def drift_plan(stack: Stack, live: LiveState) -> Plan:
    """A plan holding only what changed outside calico-ipam: the drift (against
    what was applied, the stack file standing in where the cluster holds no
    record), bound namespaces that disappeared (CIP605), blocks left
    outside every pool (CIP610) and live pools Calico no longer allocates
    from (CIP622) or whose selector breaks pool selection (CIP623). Pending changes, gates and check belong to
    ``plan``."""
    plan = _plan(stack, live, frozenset(), (), with_drift=False)
    kept = {CIP605.id, CIP610.id, CIP622.id, CIP623.id}
    return replace(plan, pools=(), namespaces=(), gates=(), checks=(), objects=(),
                   findings=tuple(f for f in plan.findings if f.rule in kept),
                   drift=tuple(drift(stack, live, stack_is_applied=True))
                   + tuple(object_drift(stack, live, True)))
