"""Run every rule over stacks: the verdict behind ``calico-ipam check``.

The order of the passes does not matter for the result (each rule is a pure
function of the stacks); findings come back sorted worst first.
"""
from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping, Sequence

from ..calico import validate as calico
from ..core.model import ClusterSettings, Finding, Stack, frozen_map, sort_findings
from ..rules import address_space as addrspace
from ..rules import bindings, capacity, overlap
from ..rules import ipam_config as ipamconfig
from .forecast import forecast_findings


def _attribute(findings: Iterable[Finding], stack: Stack) -> list[Finding]:
    """Make sure every finding names its stack (rules that only see a pool may not)."""
    return [f if f.stack else dataclasses.replace(f, stack=stack.name) for f in findings]


def pool_rule_findings(stack: Stack) -> list[Finding]:
    """Calico's IPPool rules for every declared pool, located in the stack file."""
    out: list[Finding] = []
    for name, spec in stack.pool_specs.items():
        if name in stack.pool_findings:  # validated once while the stack was loaded
            out.extend(stack.pool_findings[name])
            continue
        metadata = stack.pool_metadata.get(name) or None

        def locate(path: tuple, _name=name) -> object:
            return stack.pool_location(_name, *path)

        out.extend(calico.validate_pool(name, spec, metadata, locate=locate, stack=stack.name))
    return out


def check_stack(stack: Stack, siblings: Sequence[Stack] = ()) -> list[Finding]:
    """All findings about one stack, including routing-domain overlaps with *siblings*."""
    findings: list[Finding] = []
    findings += pool_rule_findings(stack)
    findings += overlap.stack_overlap_findings(stack)
    for name, pool in stack.pools.items():
        findings += addrspace.address_space_findings(
            name, pool.spec.cidr, stack.pool_location(name, "cidr"), stack=stack.name)
    findings += bindings.binding_findings(stack)
    findings += ipamconfig.ipam_config_findings(stack)
    capacity_findings = capacity.capacity_findings(stack)
    findings += capacity_findings
    # The forecast skips pools those findings already cover.
    findings += forecast_findings(stack, capacity=capacity_findings)
    if siblings:
        findings += [f for f in overlap.routing_domain_findings([stack, *siblings])
                     if f.stack == stack.name]
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
    findings += [f for f in overlap.routing_domain_findings([*stacks, *others])
                 if f.stack in checked]
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
        specs[name] = frozen_map(raw)
        metadata[name] = frozen_map(meta if isinstance(meta, Mapping) else {})
        findings += calico.validate_pool(name, raw, meta if isinstance(meta, Mapping) else None)
        pool = calico.pool_from_spec(name, raw, meta if isinstance(meta, Mapping) else None)
        if pool is not None:
            valid[name] = pool
    stack = Stack(name="pools", file=None, cluster=ClusterSettings(),
                  pool_specs=frozen_map(specs), pool_metadata=frozen_map(metadata),
                  pools=frozen_map(valid), bindings=frozen_map(), config_prefix=())
    findings += overlap.stack_overlap_findings(stack)
    return sort_findings(findings)
