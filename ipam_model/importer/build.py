"""A stack file from what exists: a live cluster, a snapshot, or IPPool manifests.

Adopting a cluster: ``import`` writes the ``calico-ipam:pools`` (and, from a
cluster or snapshot, ``calico-ipam:namespaces``, the cluster's IPAMConfig as
``calico-ipam:ipamConfig`` and its IPReservations as ``calico-ipam:reservations``)
of a stack so that a following ``plan`` shows no changes. Values equal to Calico's defaults are
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
from ..calico.ippool import FieldError, apply_defaults, minimal
from ..calico.legacy import convert_v1_fields, is_v2_pool, v2_pool_as_v3
from ..calico.operator import CHECK_COMMAND
from ..calico.validate import validate_pool
from ..core.errors import InputError
from ..core.ipam_config import IPAMConfig
from ..core.ippool import PoolSpec
from ..core.ipreservation import ReservationSpec
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
class ImportedReservation:
    name: str
    spec: ReservationSpec


@dataclass(frozen=True)
class Imported:
    """What an import found, before it is written."""

    source: str
    calico_api: str
    pools: tuple[ImportedPool, ...]
    bindings: Mapping[str, Mapping[str, list[str]]] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()          # "pool x (owned by stack prod)" and the like
    # The cluster's IPAMConfig object, when it has one this stack may adopt.
    ipam_config: IPAMConfig | None = None
    reservations: tuple[ImportedReservation, ...] = ()
    live_reservations: frozenset[str] | None = None
    warnings: tuple[str, ...] = ()         # imported, but check this (owner unknown, ...)
    # Manifests: pools that fail Calico's rules, "file:line: path: why" (the rest
    # are imported, as kubectl apply creates them).
    rejected: tuple[str, ...] = ()
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
    bindings, unannotated = _bindings(live, pools, skipped)
    ipam_config = _adoptable_ipam_config(live, stack_name, skipped)
    reservations = _adoptable_reservations(live, stack_name, skipped)
    return Imported(live.source, live.calico_api, tuple(pools), bindings, tuple(skipped),
                    ipam_config, reservations,
                    live_reservations=frozenset(live.reservations),
                    warnings=tuple([_owner_warning(uncertain, live.source)] if uncertain else []),
                    live_namespaces=frozenset(live.namespaces),
                    unannotated_namespaces=frozenset(unannotated),
                    live_pools=frozenset(live.pools))


def _not_adoptable(owner: str, owner_stack: str | None, stack_name: str) -> str | None:
    """Why an object with this owner is not this stack's to adopt, or None."""
    if owner == OWNER_CALICO_IPAM and owner_stack not in (stack_name, None):
        return f"owned by stack {owner_stack}"
    if owner not in (OWNER_CALICO_IPAM, OWNER_OTHER):
        return f"managed by {owner}"
    if owner == OWNER_CALICO_IPAM and owner_stack is None:
        return "calico-ipam label without a stack label"
    return None


def _adoptable_ipam_config(live: LiveState, stack_name: str,
                           skipped: list[str]) -> IPAMConfig | None:
    """The cluster's IPAMConfig object, unless another stack owns it. None when the
    cluster has none: Calico then uses its defaults and nothing is there to adopt."""
    current = live.ipam_config_object
    if current is None:
        return None
    why = _not_adoptable(current.owner, current.owner_stack, stack_name)
    if why is not None:
        skipped.append(f"ipamconfig/default ({why})")
        return None
    return current.spec


def _adoptable_reservations(live: LiveState, stack_name: str,
                            skipped: list[str]) -> tuple[ImportedReservation, ...]:
    out = []
    for name, reservation in sorted(live.reservations.items()):
        why = ("being deleted" if reservation.deleting else
               _not_adoptable(reservation.owner, reservation.owner_stack, stack_name))
        if why is not None:
            skipped.append(f"reservation {name} ({why})")
            continue
        if reservation.invalid:
            skipped.append(f"reservation {name}: entries {', '.join(reservation.invalid)} "
                           "(Calico cannot parse them and ignores them)")
        out.append(ImportedReservation(name, reservation.spec))
    return tuple(out)


def _bindings(live: LiveState, pools: list[ImportedPool], skipped: list[str]
              ) -> tuple[dict[str, dict[str, list[str]]], set[str]]:
    """Namespace bindings whose annotations name only imported pools, and the
    namespaces without any pool annotation."""
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
    return bindings, unannotated


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
    path inside the document (a List's item), the document, the object, and
    the file it came from (a directory holds several)."""

    document: int
    prefix: tuple
    doc: YamlDocument
    value: Any
    file: str | None = None

    def error(self, file: str, message: str, sub: tuple = ()) -> InputError:
        where = self.prefix + tuple(sub)
        return InputError(f"document {self.document}: {message}", file=self.file or file,
                          path=where, line=self.doc.line(where))


def from_manifest_objects(objects: Iterable[ManifestObject], file: str) -> Imported:
    """What ``kubectl apply -f`` would create that calico-ipam declares: IPPools
    and the pool annotations of Namespaces.

    Every other kind is listed in ``skipped`` (a Calico v2 ``ipPool`` with
    what it is in v3); a pool that fails Calico's rules is listed in
    ``rejected`` with its file, line and YAML path, and the rest are still
    imported, as ``kubectl apply`` creates the others. A document that is not
    an object at all, an object without a kind and a pool defined twice stop
    the import (InputError); so does a file in which nothing can be imported.
    """
    found = _Found(file)
    for obj in objects:
        found.add(obj)
    return found.imported()


class _Found:
    """The objects of a manifest file, sorted into what is imported and why not."""

    def __init__(self, file: str):
        self.file = file
        self.pools: dict[str, ImportedPool] = {}
        self.apis: set[str] = set()
        self.namespaces: list[tuple[ManifestObject, str, dict]] = []
        self.other: dict[str, list[str]] = {}
        self.skipped: list[str] = []
        self.rejected: list[InputError] = []
        self.warnings: list[str] = []

    def add(self, obj: ManifestObject) -> None:
        value = obj.value
        if not isinstance(value, dict):
            raise obj.error(self.file, "a manifest holds Kubernetes objects (mappings), not "
                                       f"{type(value).__name__}")
        kind, api = value.get("kind"), value.get("apiVersion")
        if not isinstance(kind, str) or not kind:
            raise obj.error(self.file, "kind is missing", ("kind",))
        if kind == "IPPool":
            self._pool(obj)
        elif is_v2_pool(value):
            self.skipped.append(_v2_message(obj, self.file))
        elif kind == "Namespace" and api == "v1":
            name = _name(value)
            if name is None:
                self.rejected.append(obj.error(self.file, "Namespace: metadata.name is missing",
                                               ("metadata", "name")))
            else:
                self.namespaces.append((obj, name, _annotations(value)))
        else:
            self.other.setdefault(kind, []).append(
                f"{_name(value) or '(no name)'} (document {obj.document})")

    def _pool(self, obj: ManifestObject) -> None:
        try:
            api, pool, notes = _manifest_pool(obj, self.file)
        except InputError as exc:
            self.rejected.append(exc)
            return
        if pool.name in self.pools:
            raise obj.error(self.file, f"IPPool {pool.name} is defined twice",
                            ("metadata", "name"))
        self.apis.add(api)
        self.pools[pool.name] = pool
        self.warnings += [f"IPPool {pool.name} (document {obj.document}): {n}, as Calico's "
                          "crd.projectcalico.org/v1 reader does (Calico v3.32 removed these "
                          "fields)" for n in notes]

    def imported(self) -> Imported:
        skipped = self.skipped + [
            f"{len(names)} {kind} object{'s' if len(names) != 1 else ''}: "
            + ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            + " (calico-ipam imports IPPools and Namespaces' pool annotations)"
            for kind, names in sorted(self.other.items())]
        bindings = self._bindings(skipped)
        if not self.pools:
            if len(self.rejected) == 1 and not skipped:
                raise self.rejected[0]  # the one pool of the file: its own error
            raise InputError(_nothing_message([str(e) for e in self.rejected], skipped),
                             file=self.file)
        api = API_CRD_V1 if self.apis == {API_CRD_V1} else API_V3
        return Imported(f"manifests {os.path.basename(self.file)}", api,
                        tuple(self.pools.values()), bindings, tuple(skipped),
                        warnings=tuple(self.warnings),
                        rejected=tuple(str(e) for e in self.rejected))

    def _bindings(self, skipped: list[str]) -> dict[str, dict[str, list[str]]]:
        """Namespace pool annotations that name only imported pools."""
        names = set(self.pools) | {p.spec.cidr for p in self.pools.values()}
        bindings: dict[str, dict[str, list[str]]] = {}
        for obj, ns, annotations in self.namespaces:
            entry, why = _binding(annotations, names)
            if why is not None:
                skipped.append(f"the binding of namespace {ns} (document {obj.document}): {why}")
            elif entry:
                bindings[ns] = entry
        return bindings


def _name(value: Mapping) -> str | None:
    meta = value.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    if isinstance(meta, dict) and isinstance(meta.get("namespace"), str) and name:
        return f"{meta['namespace']}/{name}"
    return name if isinstance(name, str) and name else None


def _annotations(value: Mapping) -> dict:
    meta = value.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    return annotations if isinstance(annotations, dict) else {}


def _binding(annotations: Mapping, names: set[str]
             ) -> tuple[dict[str, list[str]], str | None]:
    """(ipv4Pools/ipv6Pools of one Namespace, or why they are not imported)."""
    entry = {}
    for key, field_name in ((IPV4_POOLS_ANNOTATION, "ipv4Pools"),
                            (IPV6_POOLS_ANNOTATION, "ipv6Pools")):
        raw = annotations.get(key)
        if raw is None:
            continue
        value, problem = parse_pools_annotation(raw)
        if problem is not None:
            return {}, f"{key} {problem}"
        if not value or not all(v in names for v in value):
            return {}, f"{key} = {raw!r} does not name only pools of this file"
        entry[field_name] = value
    return entry, None


def _nothing_message(rejected: list[str], skipped: list[str]) -> str:
    parts = ["nothing to import: no IPPool in it could be imported"]
    if rejected:
        parts.append("rejected: " + "; ".join(rejected))
    if skipped:
        parts.append("skipped: " + "; ".join(skipped))
    return ". ".join(parts)


def _v2_message(obj: ManifestObject, file: str) -> str:
    """A Calico v2 ipPool: what it is, and what calico-upgrade made of it."""
    v3 = v2_pool_as_v3(obj.value)
    text = (f"document {obj.document} is a Calico v2 ipPool (apiVersion v1, kind ipPool, the "
            "calicoctl v1 API), which Calico v3 does not read")
    if v3 is None:
        return text + "; its metadata.cidr is not a valid CIDR"
    return text + (f"; calico-upgrade would have written it as {{{v3}}}: convert the file and "
                   "import it again")


def _manifest_pool(obj: ManifestObject, file: str) -> tuple[str, ImportedPool, list[str]]:
    """(apiVersion, pool, legacy fields converted) of one IPPool manifest, or the
    InputError that rejects it."""
    value = obj.value
    api = value.get("apiVersion")
    if api not in (API_V3, API_CRD_V1):
        raise obj.error(file, f"IPPool: apiVersion is {api!r}; expected {API_V3} or "
                              f"{API_CRD_V1}", ("apiVersion",))
    metadata = value.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        raise obj.error(file, "IPPool: metadata.name is missing", ("metadata", "name"))
    name = metadata["name"]
    spec = value.get("spec")
    if not isinstance(spec, dict):
        raise obj.error(file, f"IPPool {name}: spec is missing or not a mapping", ("spec",))
    notes: list[str] = []
    if api == API_CRD_V1:  # stored as written: Calico's CRD reader converts the v1 fields
        try:
            spec, notes = convert_v1_fields(spec)
        except FieldError as exc:
            raise obj.error(file, f"IPPool {name}: {exc}", ("spec",) + exc.path) from None
    user_meta = {k: metadata[k] for k in ("labels", "annotations") if metadata.get(k)}
    errors = [f for f in validate_pool(name, spec, user_meta or None,
                                       locate=lambda p: Location(file, p, None)) if f.is_error]
    if errors:
        first = errors[0]
        sub = tuple(first.location.path)
        sub = sub if sub[:1] == ("metadata",) else ("spec",) + sub
        raise obj.error(file, f"IPPool {name}: {first.message} ({first.rule})", sub)
    return api, ImportedPool(name, apply_defaults(spec), dict(user_meta.get("labels") or {}),
                             dict(user_meta.get("annotations") or {})), notes
