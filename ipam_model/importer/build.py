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

import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from ..calico.annotations import parse_pools_annotation
from ..calico.ippool import apply_defaults, minimal
from ..calico.operator import CHECK_COMMAND
from ..calico.validate import validate_pool
from ..core.errors import InputError
from ..core.ippool import PoolSpec
from ..core.live_state import (
    OWNER_CALICO_IPAM,
    OWNER_OTHER,
    OWNER_TIGERA_OPERATOR,
    LiveState,
)
from ..core.model import (
    API_CRD_V1,
    API_V3,
    APPLIED_SPEC_ANNOTATION,
    IPV4_POOLS_ANNOTATION,
    IPV6_POOLS_ANNOTATION,
    OWNERSHIP_LABEL,
    STACK_LABEL,
    Location,
)
from ..declared.yaml import YamlDocument

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
    warnings: tuple[str, ...] = ()         # imported, but check this (owner unknown, ...)
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
    pools, skipped, uncertain = [], [], []
    for name, pool in sorted(live.pools.items()):
        if pool.deleting:
            skipped.append(f"pool {name} (being deleted)")
        elif pool.owner == OWNER_CALICO_IPAM and pool.owner_stack not in (stack_name, None):
            skipped.append(f"pool {name} (owned by stack {pool.owner_stack})")
        elif pool.owner == OWNER_TIGERA_OPERATOR:
            skipped.append(f"pool {name} (managed by the Tigera operator: {pool.owner_reason})")
        elif pool.owner not in (OWNER_CALICO_IPAM, OWNER_OTHER):
            skipped.append(f"pool {name} (managed by {pool.owner})")
        elif pool.owner == OWNER_CALICO_IPAM and pool.owner_stack is None:
            skipped.append(f"pool {name} (calico-ipam label without a stack label)")
        else:
            pools.append(ImportedPool(name, pool.spec, dict(pool.labels),
                                      dict(pool.annotations)))
            if not pool.owner_certain:
                uncertain.append(f"{name} ({pool.spec.cidr})")
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
    warnings = [_owner_warning(uncertain, live.source)] if uncertain else []
    cfg = live.ipam_config
    return Imported(live.source, live.calico_api, tuple(pools), bindings, tuple(skipped),
                    warnings=tuple(warnings), max_blocks_per_host=cfg.max_blocks_per_host,
                    strict_affinity=cfg.strict_affinity,
                    live_namespaces=frozenset(live.namespaces),
                    unannotated_namespaces=frozenset(unannotated),
                    live_pools=frozenset(live.pools))


def _owner_warning(pools: list[str], source: str) -> str:
    """Unlabelled pools imported from a source that lists no Installations."""
    return (f"{'pool' if len(pools) == 1 else 'pools'} {', '.join(pools)} imported without an "
            f"ownership label, but {source} lists no Tigera operator Installations, so "
            f"calico-ipam cannot tell whether the operator manages "
            f"{'it' if len(pools) == 1 else 'them'}: if {CHECK_COMMAND} prints one of these "
            "CIDRs, the operator manages that pool; remove it from the stack")




# --------------------------------------------------------------------------- from manifests

@dataclass(frozen=True)
class ManifestObject:
    """One object of a manifest file: its document number (from 1), its YAML
    path inside the document (a List's item), the document, the object."""

    document: int
    prefix: tuple
    doc: YamlDocument
    value: Any

    def error(self, file: str, message: str, sub: tuple = ()) -> InputError:
        where = self.prefix + tuple(sub)
        return InputError(f"document {self.document}: {message}", file=file, path=where,
                          line=self.doc.line(where))


def from_manifest_objects(objects: Iterable[ManifestObject], file: str) -> Imported:
    """IPPools from manifest objects. Every pool must pass Calico's rules; the
    first problem is an InputError naming the file, the document and the YAML
    path."""
    pools: dict[str, ImportedPool] = {}
    apis = set()
    for obj in objects:
        api, pool = _manifest_pool(obj, file)
        if pool.name in pools:
            raise obj.error(file, f"IPPool {pool.name} is defined twice", ("metadata", "name"))
        apis.add(api)
        pools[pool.name] = pool
    api = API_CRD_V1 if apis == {API_CRD_V1} else API_V3
    return Imported(f"manifests {os.path.basename(file)}", api, tuple(pools.values()))


def _manifest_pool(obj: ManifestObject, file: str) -> tuple[str, ImportedPool]:
    """(apiVersion, pool) of one IPPool manifest, or the InputError for it."""
    value = obj.value
    if not isinstance(value, dict):
        raise obj.error(file, f"an IPPool manifest is a mapping, not {type(value).__name__}")
    kind, api = value.get("kind"), value.get("apiVersion")
    if kind != "IPPool":
        raise obj.error(file, f"kind is {kind!r}; only IPPool manifests can be imported",
                        ("kind",))
    if api not in (API_V3, API_CRD_V1):
        raise obj.error(file, f"apiVersion is {api!r}; expected {API_V3} or {API_CRD_V1}",
                        ("apiVersion",))
    metadata = value.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        raise obj.error(file, "metadata.name is missing", ("metadata", "name"))
    name = metadata["name"]
    spec = value.get("spec")
    if not isinstance(spec, dict):
        raise obj.error(file, f"IPPool {name}: spec is missing or not a mapping", ("spec",))
    user_meta = {k: metadata[k] for k in ("labels", "annotations") if metadata.get(k)}
    errors = [f for f in validate_pool(name, spec, user_meta or None,
                                       locate=lambda p: Location(file, p, None)) if f.is_error]
    if errors:
        first = errors[0]
        sub = tuple(first.location.path)
        sub = sub if sub[:1] == ("metadata",) else ("spec",) + sub
        raise obj.error(file, f"IPPool {name}: {first.message} ({first.rule})", sub)
    return api, ImportedPool(name, apply_defaults(spec), dict(user_meta.get("labels") or {}),
                             dict(user_meta.get("annotations") or {}))
