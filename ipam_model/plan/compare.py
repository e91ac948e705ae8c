"""Comparing a declared pool with a live one, field by field, after Calico's defaults."""
from __future__ import annotations

from typing import Any, Mapping

from ..calico.ippool import forces_replacement
from ..core.live_state import OWNER_CALICO_IPAM, LivePool
from ..core.model import (
    APPLIED_SPEC_ANNOTATION,
    OWNERSHIP_LABEL,
    STACK_LABEL,
    Finding,
    Pool,
    Stack,
)
from .model import AttributeChange


def declared_metadata(pool: Pool, current: LivePool) -> tuple[dict[str, Any], dict[str, Any]]:
    """(live, declared) values of the labels and annotations the stack declares
    under the pool's ``metadata:``, keyed ``metadata.labels.<key>``. pulumi up
    sets exactly these (render adds the ownership labels and the applied-spec
    record, which are bookkeeping, never shown); undeclared keys are left alone."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for kind, declared, live_map, skip in (
            ("labels", pool.labels, current.labels, (OWNERSHIP_LABEL, STACK_LABEL)),
            ("annotations", pool.annotations, current.annotations, (APPLIED_SPEC_ANNOTATION,))):
        for key, value in declared.items():
            if key in skip:
                continue
            path = f"metadata.{kind}.{key}"
            before[path] = live_map.get(key)
            after[path] = str(value)
    return before, after


def owned(live: LivePool, stack: Stack) -> bool:
    """Whether *live* carries this stack's ownership labels."""
    return live.owner == OWNER_CALICO_IPAM and live.owner_stack == stack.name


def spec_changes(before: Mapping[str, Any], after: Mapping[str, Any]
                 ) -> tuple[AttributeChange, ...]:
    """The fields that differ, in the declared order; removed fields last."""
    if before == after:  # the common case; DeepDiff costs ~1 ms a pool
        return ()
    from deepdiff import DeepDiff  # only here: check and render never compare

    diff = DeepDiff(dict(before), dict(after), ignore_order=True)
    changed = {str(key) for key in diff.affected_root_keys}
    out = []
    for key in [k for k in after if k in changed] + sorted(k for k in before
                                                            if k in changed and k not in after):
        old, new = before.get(key), after.get(key)
        out.append(AttributeChange(key, old, new, forces_replacement(key, old, new)))
    return tuple(out)


def identity(finding: Finding) -> tuple:
    """What makes two findings the same report (check and the plan both find some)."""
    return (finding.rule, finding.subject, finding.location, finding.message)
