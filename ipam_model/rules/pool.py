"""Calico's IPPool rules (CIP1xx) for every declared pool of a stack, located in the stack file.

The rules themselves are Calico's and live with their validation in
``calico.validate``; the loader already ran them once per pool
(``Stack.pool_findings``), so this check only collects what it found.
"""
from __future__ import annotations

from ..calico import validate
from ..calico.validate import validate_pool
from ..core.model import Finding
from ..core.rules import Scope, declared_rules
from .registry import CheckContext, check


@check(*declared_rules(validate), scope=Scope.POOL)
def pool_rules(ctx: CheckContext) -> list[Finding]:
    stack = ctx.stack
    out: list[Finding] = []
    for name, spec in stack.pool_specs.items():
        if name in stack.pool_findings:  # validated once while the stack was loaded
            out.extend(stack.pool_findings[name])
            continue
        out.extend(validate_pool(name, spec, stack.pool_metadata.get(name) or None,
                                 locate=lambda path, _n=name: stack.pool_location(_n, *path),
                                 stack=stack.name))
    return out
