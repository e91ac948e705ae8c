"""The errors that stop ``pulumi up`` (the Pulumi program's live checks), each
gate's message followed by its migration steps."""
from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from ...core.live_state import LiveState
from ...core.model import Finding, Stack, sort_findings
from ...plan.build import build_plan
from .migration import migration_text


def safety_findings(stack: Stack, live: LiveState,
                    allow_disruption: Iterable[str] = ()) -> list[Finding]:
    """The errors that must stop ``pulumi up`` before any resource is registered.

    Every gate not lifted by ``allow_disruption`` plus the plan's other errors
    (a bound namespace missing, a pool owned by another stack or the
    operator, a declared pool overlapping an undeclared live pool). Not
    check's findings: the Pulumi program runs check itself. A gate's message
    ends with its migration steps, one per line, so that logging
    ``finding.message`` shows the whole procedure. Empty when it is safe to
    proceed.
    """
    plan = build_plan(stack, live, allow_disruption=frozenset(allow_disruption), run_check=False,
                      with_drift=False)
    out = []
    for gate in plan.gates:
        if gate.allowed:
            continue
        finding = gate.finding
        if gate.migration is not None:
            finding = replace(finding, message=finding.message + "\n"
                              + migration_text(gate.migration))
        out.append(finding)
    out += [f for f in plan.findings if f.is_error]
    return sort_findings(out)
