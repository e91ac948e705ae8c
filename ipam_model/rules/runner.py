"""Run every registered check over stacks: the verdict behind ``calico-ipam check``.

The checks are discovered: every module of this package is imported once,
and what it registered with ``@check`` runs. The order of the checks does
not matter for the result (each is a pure function of the stacks); findings
come back sorted worst first.
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from typing import Iterable, Mapping, Sequence

from .. import rules as _package
from ..calico.validate import pool_from_spec, validate_pool
from ..core.model import ClusterSettings, Finding, Stack, frozen_map, sort_findings
from ..core.rules import Scope
from .overlap import stack_overlap_findings
from .registry import CHECKS, Check, CheckContext

for _info in pkgutil.walk_packages(_package.__path__, _package.__name__ + "."):
    importlib.import_module(_info.name)  # each check module registers its checks
_PER_STACK = (Scope.POOL, Scope.STACK)


def checks(*scopes: Scope) -> tuple[Check, ...]:
    """The registered checks of *scopes* (all of them without)."""
    return tuple(c for c in CHECKS if not scopes or c.scope in scopes)


def rules_checked(*scopes: Scope) -> frozenset[str]:
    """Ids of the rules that the checks of *scopes* emit."""
    return frozenset(r.id for c in checks(*scopes) for r in c.rules)


def _attribute(findings: Iterable[Finding], stack: Stack) -> list[Finding]:
    """Make sure every finding names its stack (rules that only see a pool may not)."""
    return [f if f.stack else dataclasses.replace(f, stack=stack.name) for f in findings]


def _fleet(stacks: Sequence[Stack], reported: set[str]) -> list[Finding]:
    return [f for c in checks(Scope.FLEET) for f in c.run(stacks) if f.stack in reported]


def check_stack(stack: Stack, siblings: Sequence[Stack] = ()) -> list[Finding]:
    """All findings about one stack, including routing-domain overlaps with *siblings*."""
    ctx = CheckContext(stack)
    findings = [f for c in checks(*_PER_STACK) for f in c.run(ctx)]
    if siblings:
        findings += _fleet([stack, *siblings], {stack.name})
    return sort_findings(_attribute(findings, stack))


def check_stacks(stacks: Sequence[Stack], *, context: Sequence[Stack] = ()) -> list[Finding]:
    """All findings about *stacks*.

    ``context`` holds further stacks (typically the rest of the stacks
    directory) that are compared for routing-domain overlaps but not
    themselves reported on: checking only ``prod`` still catches a clash
    with ``staging``.
    """
    checked = {s.name for s in stacks}
    findings: list[Finding] = []
    for stack in stacks:
        findings += check_stack(stack)
    others = [s for s in context if s.name not in checked]
    findings += _fleet([*stacks, *others], checked)
    return sort_findings(findings)


def validate_pools(pools: Mapping[str, Mapping]) -> list[Finding]:
    """Several IPPools (name -> spec): Calico's rules for each, plus overlaps.

    Valid means no finding with severity ``error``. A spec may carry a
    ``metadata`` mapping with labels/annotations.
    """
    findings: list[Finding] = []
    specs, metadata, valid = {}, {}, {}
    for name, raw in pools.items():
        raw = dict(raw) if isinstance(raw, Mapping) else {}
        meta = raw.pop("metadata", None)
        meta = meta if isinstance(meta, Mapping) else None
        specs[name] = frozen_map(raw)
        metadata[name] = frozen_map(meta or {})
        findings += validate_pool(name, raw, meta)
        pool = pool_from_spec(name, raw, meta)
        if pool is not None:
            valid[name] = pool
    stack = Stack(name="pools", file=None, cluster=ClusterSettings(),
                  pool_specs=frozen_map(specs), pool_metadata=frozen_map(metadata),
                  pools=frozen_map(valid), bindings=frozen_map(), config_prefix=())
    findings += stack_overlap_findings(stack)
    return sort_findings(findings)
