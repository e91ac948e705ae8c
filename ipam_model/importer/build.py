"""A stack file from what exists: a live cluster, a snapshot, or IPPool manifests.

Adopting a cluster: ``import`` writes the ``calico-ipam:pools`` (and, from a
cluster or snapshot, ``calico-ipam:namespaces``) of a stack so that a
following ``plan`` shows no changes. Values equal to Calico's defaults are
left out, so the stack reads like a hand-written one. An existing stack file
is edited in place with ruamel.yaml's round trip: its comments, key order and
other config keys survive, and a field whose value already means the same
as the live one is left exactly as written.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..calico.annotations import parse_pools_annotation
from ..calico.ippool import minimal
from ..core.live_state import OWNER_CALICO_IPAM, OWNER_OTHER, LiveState
from ..core.model import (
    APPLIED_SPEC_ANNOTATION,
    IPV4_POOLS_ANNOTATION,
    IPV6_POOLS_ANNOTATION,
    OWNERSHIP_LABEL,
    STACK_LABEL,
    PoolSpec,
)

# Metadata that belongs to Calico, kubectl or this tool, never to the user's declaration.
_SKIP_LABELS = (OWNERSHIP_LABEL, STACK_LABEL)
_SKIP_ANNOTATION_PREFIXES = ("kubectl.kubernetes.io/", "pulumi.com/", "projectcalico.org/")
# calico-ipam's record of what it applied: rewritten on every apply, never declared.
_SKIP_ANNOTATIONS = (APPLIED_SPEC_ANNOTATION,)


@dataclass(frozen=True)
class ImportedPool:
    name: str
    spec: PoolSpec
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Imported:
    """What an import found, before it is written."""

    source: str
    calico_api: str
    pools: tuple[ImportedPool, ...]
    bindings: Mapping[str, Mapping[str, list[str]]] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()          # "pool x (owned by stack prod)" and the like
    max_blocks_per_host: int = 0
    strict_affinity: bool = False
    # From a cluster or snapshot (None for manifests, which say nothing about
    # namespaces or which pools exist): every live namespace and pool name, and
    # the namespaces without any pool annotation.
    live_namespaces: frozenset[str] | None = None
    unannotated_namespaces: frozenset[str] = frozenset()
    live_pools: frozenset[str] | None = None


def minimal_pool(pool: ImportedPool) -> dict[str, Any]:
    """The pool's stack entry: the CIDR, every field that differs from Calico's
    default for its family, and the user's own labels/annotations."""
    out = minimal(pool.spec)
    metadata = {}
    labels = {k: v for k, v in sorted(pool.labels.items()) if k not in _SKIP_LABELS}
    annotations = {k: v for k, v in sorted(pool.annotations.items())
                   if not k.startswith(_SKIP_ANNOTATION_PREFIXES) and k not in _SKIP_ANNOTATIONS}
    if labels:
        metadata["labels"] = labels
    if annotations:
        metadata["annotations"] = annotations
    if metadata:
        out["metadata"] = metadata
    return out


# --------------------------------------------------------------------------- from live state

def from_live(live: LiveState, stack_name: str) -> Imported:
    """Pools this stack owns plus unlabelled ones; namespaces whose pool
    annotations name only imported pools. Pools of other stacks, of the Tigera
    operator and pools being deleted are skipped (and listed)."""
    pools, skipped = [], []
    for name, pool in sorted(live.pools.items()):
        if pool.deleting:
            skipped.append(f"pool {name} (being deleted)")
        elif pool.owner == OWNER_CALICO_IPAM and pool.owner_stack not in (stack_name, None):
            skipped.append(f"pool {name} (owned by stack {pool.owner_stack})")
        elif pool.owner not in (OWNER_CALICO_IPAM, OWNER_OTHER):
            skipped.append(f"pool {name} (managed by {pool.owner})")
        elif pool.owner == OWNER_CALICO_IPAM and pool.owner_stack is None:
            skipped.append(f"pool {name} (calico-ipam label without a stack label)")
        else:
            pools.append(ImportedPool(name, pool.spec, dict(pool.labels),
                                      dict(pool.annotations)))
    names = {p.name for p in pools} | {p.spec.cidr for p in pools}
    bindings: dict[str, dict[str, list[str]]] = {}
    unannotated = set()
    for ns_name, ns in sorted(live.namespaces.items()):
        if IPV4_POOLS_ANNOTATION not in ns.annotations and IPV6_POOLS_ANNOTATION not in ns.annotations:
            unannotated.add(ns_name)
        entry = {}
        for key, field_name in ((IPV4_POOLS_ANNOTATION, "ipv4Pools"),
                                (IPV6_POOLS_ANNOTATION, "ipv6Pools")):
            raw = ns.annotations.get(key)
            if raw is None:
                continue
            value, _ = parse_pools_annotation(raw)
            if not value or not all(v in names for v in value):
                skipped.append(f"namespace {ns_name} ({key} = {raw!r} does not name only "
                               "imported pools)")
                entry = {}
                break
            entry[field_name] = value
        if entry:
            bindings[ns_name] = entry
    cfg = live.ipam_config
    return Imported(live.source, live.calico_api, tuple(pools), bindings, tuple(skipped),
                    cfg.max_blocks_per_host, cfg.strict_affinity,
                    live_namespaces=frozenset(live.namespaces),
                    unannotated_namespaces=frozenset(unannotated),
                    live_pools=frozenset(live.pools))


# --------------------------------------------------------------------------- from manifests


# --------------------------------------------------------------------------- writing
