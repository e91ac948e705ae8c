"""Live Calico IPAM state: the normaliser and the snapshot file formats.

Raw objects (from the Kubernetes API, a ``calico-ipam snapshot`` file or
``kubectl get … -o yaml|json`` List output) become a ``LiveState``. Objects are
normalised one at a time as they are read, so a 100,000-block cluster never
sits in memory as raw JSON: only counts per block are kept.

Snapshot file (written by ``calico-ipam snapshot``, JSON, one object a line)::

    {"kind": "CalicoIpamSnapshot", "version": 1, "source": "...",
     "calicoApi": "projectcalico.org/v3",
     "items": [
     {"apiVersion": "projectcalico.org/v3", "kind": "IPPool", ...},
     ...
     ]}

Every item carries its own ``kind``, like a kubectl List, so the same reader
takes both. YAML (one or several documents) is accepted too.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence

from ..calico.ipam_config import read_ipam_config
from ..calico.ippool import FieldError, decode_applied_spec, read_bool, read_spec
from ..calico.ipreservation import read_reserved_cidrs
from ..calico.legacy import convert_v1_fields
from ..calico.operator import installation_claim, marker
from ..core import json_doc
from ..core.cidr import ContainingIndex, parse_cidr
from ..core.errors import InputError
from ..core.limits import ANNOTATION_JSON_BYTES
from ..core.live_state import (
    OWNER_CALICO_IPAM,
    OWNER_OTHER,
    OWNER_TIGERA_OPERATOR,
    IPAMConfig,
    LiveAffinity,
    LiveBlock,
    LiveIpamConfig,
    LiveNamespace,
    LiveNode,
    LivePool,
    LiveReservation,
    LiveState,
    OperatorInstallation,
    PoolUsage,
)
from ..core.model import (
    APPLIED_SPEC_ANNOTATION,
    OWNERSHIP_LABEL,
    OWNERSHIP_VALUE,
    STACK_LABEL,
    PoolSpec,
    frozen_map,
)

METADATA_ANNOTATION = "projectcalico.org/metadata"
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
# The IP pool controller of kube-controllers sets this status condition;
# Calico's pool list skips a pool whose status is False (libcalico-go
# lib/clientv3/client.go filterIPPool, used by GetEnabledPools).
ALLOCATABLE_CONDITION = "Allocatable"


Where = tuple  # YAML path of the object inside its file, for messages
# Shared by every object without labels/annotations/pods: equal to frozen_map()
# and read-only, without a fresh dict and proxy per object.
_EMPTY_MAP = MappingProxyType({})
_ALLOCATION_TYPES = frozenset({int, type(None)})
_INT = frozenset({int})
_FEW_ATTRIBUTES = 8  # up to this many, a block's allocations are counted per attribute index
# The ``type`` of a node's tunnel addresses (libcalico-go/lib/backend/model/block.go:39-43).
_TUNNEL_TYPES = frozenset({"ipipTunnelAddress", "vxlanTunnelAddress", "vxlanV6TunnelAddress",
                           "wireguardTunnelAddress", "wireguardV6TunnelAddress"})


# --------------------------------------------------------------------------- helpers

def input_error(message: str, file: str | None, where: Where) -> InputError:
    return InputError(message, file=file, path=where)


def _mapping(value: Any, what: str, file: str | None, where: Where) -> Mapping:
    if value is None:
        return {}
    if not isinstance(value, dict):  # raw objects are decoded JSON/YAML: plain dicts
        raise input_error(f"{what} must be a mapping, got {type(value).__name__}", file, where)
    return value


def _str_map(value: Any, what: str, file: str | None, where: Where) -> dict[str, str]:
    m = _mapping(value, what, file, where)
    out = {}
    for k, v in m.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise input_error(f"{what} must map strings to strings ({k!r}: {v!r})", file, where)
        out[k] = v
    return out


def _bool(value: Any, what: str, default: bool, file: str | None, where: Where) -> bool:
    try:
        return read_bool(value, default, what)
    except FieldError as exc:
        raise input_error(str(exc), file, where) from None


def object_name(obj: Mapping, file: str | None, where: Where) -> str:
    meta = _mapping(obj.get("metadata"), "metadata", file, where)
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise input_error("metadata.name is missing", file, where)
    return name


def _keep_annotation(key: str) -> bool:
    # calico-ipam.io/applied-spec is kept: drift compares the live spec with it.
    return not (key.startswith("pulumi.com/") or key == LAST_APPLIED_ANNOTATION)


def _canonical_cidr(value: Any, what: str, file: str | None, where: Where) -> tuple[str, int]:
    if not isinstance(value, str) or "/" not in value:
        raise input_error(f"{what} must be a CIDR such as 10.0.0.0/16, got {value!r}", file, where)
    parsed = parse_cidr(value)
    if parsed is None:
        raise input_error(f"{what} {value!r} is not a valid CIDR", file, where)
    return parsed.text, parsed.version


# --------------------------------------------------------------------------- normalisers

def _decoded_metadata(obj: Mapping, file: str | None, where: Where):
    """Labels, annotations and owner references as Calico's v3 API shows them.

    crd.projectcalico.org/v1 storage keeps the v3 ObjectMeta as JSON in the
    projectcalico.org/metadata annotation; on read Calico starts from the CR's
    own labels/annotations and lets the decoded ones win
    (libcalico-go backend/k8s/conversion ConvertK8sResourceToCalicoResource).
    """
    meta = _mapping(obj.get("metadata"), "metadata", file, where)
    labels = _str_map(meta.get("labels"), "metadata.labels", file, where)
    annotations = _str_map(meta.get("annotations"), "metadata.annotations", file, where)
    owners = meta.get("ownerReferences") or []
    encoded = annotations.pop(METADATA_ANNOTATION, None)
    if encoded is not None:
        try:  # the one bounded decoder: depth, integers, NaN, surrogates
            v3meta = json_doc.loads(encoded, limit=ANNOTATION_JSON_BYTES)
        except json_doc.JsonError as exc:
            message = exc.message.removeprefix("not valid JSON: ")
            raise input_error(f"annotation {METADATA_ANNOTATION} is not valid JSON ({message})",
                              file, where) from None
        v3meta = _mapping(v3meta, f"annotation {METADATA_ANNOTATION}", file, where)
        labels.update(_str_map(v3meta.get("labels"), "metadata labels", file, where))
        annotations.update(_str_map(v3meta.get("annotations"), "metadata annotations", file, where))
        owners = v3meta.get("ownerReferences") or owners
    if not isinstance(owners, list):
        raise input_error("metadata.ownerReferences must be a list", file, where)
    annotations = {k: v for k, v in annotations.items() if _keep_annotation(k)}
    return meta, labels, annotations, owners


def pool_owner(labels: Mapping[str, str], owners: Sequence[Mapping]
               ) -> tuple[str, str | None, str]:
    """(owner, stack, why) of a live pool from its own metadata.

    The operator comes first: it reverts edits to its pools, so a pool it owns
    must never be claimed even if it also carries our label. The name decides
    nothing (``calico.operator``); an unlabelled pool is "other" here, and
    ``build_live_state`` gives it to the operator when the Installation lists
    its CIDR.
    """
    operator = marker(labels, owners)
    if operator is not None:
        return OWNER_TIGERA_OPERATOR, None, operator
    managed_by = labels.get(OWNERSHIP_LABEL)
    if managed_by == OWNERSHIP_VALUE:
        return OWNER_CALICO_IPAM, labels.get(STACK_LABEL), f"label {OWNERSHIP_LABEL}: {managed_by}"
    if managed_by:
        return OWNER_OTHER, None, f"label {OWNERSHIP_LABEL}: {managed_by}"
    return OWNER_OTHER, None, ""


def claim_by_operator(pool: LivePool, installations: Sequence[OperatorInstallation] | None
                      ) -> LivePool:
    """The pool with the operator's claim applied: the operator's when an
    Installation lists its CIDR (even over our label: the operator would adopt
    it and revert our edits); ownership uncertain when no Installation list was
    read and nothing marks the pool."""
    if pool.owner == OWNER_TIGERA_OPERATOR:
        return pool
    if installations is None:
        return pool if pool.owner == OWNER_CALICO_IPAM else replace(pool, owner_certain=False)
    claim = installation_claim(pool.spec.cidr, installations)
    if claim is None:
        return pool
    return replace(pool, owner=OWNER_TIGERA_OPERATOR, owner_stack=None, owner_reason=claim)


def normalise_pool_spec(spec: Any, file: str | None = None, where: Where = ()) -> PoolSpec:
    """An IPPoolSpec with Calico's read-time defaults applied (clientv3
    convertIpPoolFromStorage, calico-ippool-rules.md §1), the APIv1 leftovers
    ``ipip``/``nat-outgoing`` converted as Calico's CRD reader does
    (``calico.legacy``)."""
    spec = _mapping(spec, "spec", file, where)
    try:
        return read_spec(convert_v1_fields(spec)[0])
    except FieldError as exc:
        raise input_error(str(exc), file, tuple(where) + ("spec",) + exc.path) from None


def applied_pool_spec(pool: LivePool) -> tuple[PoolSpec | None, str | None]:
    """What calico-ipam last applied to *pool*, from its
    ``calico-ipam.io/applied-spec`` annotation, normalised like the live spec.

    (spec, None); (None, None) when the annotation is absent (applied by an
    older calico-ipam, by hand, or adopted after ``import``); (None, why)
    when it is present but unreadable, which only an edit outside
    calico-ipam can cause.
    """
    raw = pool.annotations.get(APPLIED_SPEC_ANNOTATION)
    if raw is None:
        return None, None
    return decode_applied_spec(raw)


def normalise_pool(obj: Mapping, file: str | None = None, where: Where = ()) -> LivePool:
    """An IPPool (projectcalico.org/v3 or crd.projectcalico.org/v1) as the planner sees it."""
    obj = _mapping(obj, "IPPool", file, where)
    name = object_name(obj, file, where)
    meta, labels, annotations, owners = _decoded_metadata(obj, file, where)
    owner, stack, reason = pool_owner(labels, owners)
    spec = normalise_pool_spec(obj.get("spec"), file, where)
    stored = _mapping(obj.get("spec"), "spec", file, where).get("cidr")
    return LivePool(
        name=name,
        spec=spec,
        labels=frozen_map(labels),
        annotations=frozen_map(annotations),
        owner=owner,
        owner_stack=stack,
        deleting=bool(meta.get("deletionTimestamp")),
        owner_reason=reason,
        stored_cidr=stored if stored != spec.cidr else None,
        not_allocatable=_not_allocatable(obj.get("status"), file, tuple(where) + ("status",)),
    )


def _not_allocatable(status: Any, file: str | None, where: Where) -> tuple[str, str] | None:
    """(reason, message) of the condition Allocatable=False, or None.

    kube-controllers' IP pool controller sets it (reasons PoolDisabled,
    Terminating, CIDROverlap: kube-controllers/pkg/controllers/ippool/
    pool_controller.go:191-305) and ``filterIPPool`` skips such a pool
    (libcalico-go lib/clientv3/client.go:221-239)."""
    status = _mapping(status, "status", file, where)
    conditions = status.get("conditions") or []
    if not isinstance(conditions, list):
        raise input_error("status.conditions must be a list", file, where + ("conditions",))
    for i, cond in enumerate(conditions):
        cond = _mapping(cond, "a status condition", file, where + ("conditions", i))
        if cond.get("type") == ALLOCATABLE_CONDITION and cond.get("status") == "False":
            return str(cond.get("reason") or ""), str(cond.get("message") or "")
    return None


def normalise_installation(obj: Mapping, file: str | None = None, where: Where = ()
                           ) -> OperatorInstallation:
    """A Tigera operator Installation, reduced to the pools it declares."""
    obj = _mapping(obj, "Installation", file, where)
    name = object_name(obj, file, where)
    meta = _mapping(obj.get("metadata"), "metadata", file, where)
    spec = _mapping(obj.get("spec"), "spec", file, tuple(where) + ("spec",))
    where = tuple(where) + ("spec", "calicoNetwork")
    network = _mapping(spec.get("calicoNetwork"), "spec.calicoNetwork", file, where)
    listed = network.get("ipPools") or []
    if not isinstance(listed, list):
        raise input_error("spec.calicoNetwork.ipPools must be a list", file, where + ("ipPools",))
    pools = []
    for i, entry in enumerate(listed):
        entry = _mapping(entry, "an Installation IP pool", file, where + ("ipPools", i))
        cidr, pool_name = entry.get("cidr"), entry.get("name") or ""
        if not isinstance(cidr, str) or not isinstance(pool_name, str):
            raise input_error("an Installation IP pool needs a cidr (and a name) that are "
                              "strings", file, where + ("ipPools", i))
        pools.append((pool_name, cidr))
    return OperatorInstallation(name, tuple(pools), bool(meta.get("deletionTimestamp")))


def normalise_block(obj: Mapping, file: str | None = None, where: Where = ()) -> LiveBlock:
    """An IPAMBlock reduced to counts: allocated ordinals and pods per namespace.

    Tunnel addresses (handles ipip-/vxlan-/wireguard-tunnel-addr-<node>) have
    no namespace: they count as allocated but for no namespace.
    """
    if type(obj) is not dict:
        obj = _mapping(obj, "IPAMBlock", file, where)
    spec = obj.get("spec")
    if type(spec) is not dict:
        spec = _mapping(spec, "spec", file, where)
    where = tuple(where)  # the paths below it are built only for a message
    raw_cidr = spec.get("cidr")
    parsed = parse_cidr(raw_cidr)
    if parsed is None:  # _canonical_cidr raises the detailed message
        _canonical_cidr(raw_cidr, "cidr", file, where + ("spec", "cidr"))
    allocations = spec.get("allocations") or []
    attributes = spec.get("attributes") or []
    size = parsed.size
    refs = _refs(allocations, attributes, size)
    if refs is None:  # not the usual shape: the full check names what is wrong
        _check_allocations(allocations, attributes, size, file, where + ("spec",))
        refs = [ref for ref in allocations if ref is not None]
    affinity = spec.get("affinity")
    if affinity is not None and not isinstance(affinity, str):
        raise input_error(f"affinity must be a string, got {affinity!r}", file,
                          where + ("spec", "affinity"))
    by_namespace, borrowed, tunnels = _owners(allocations, refs, attributes, affinity or "",
                                              file, where)
    deleted = spec.get("deleted")
    return LiveBlock.counted(
        cidr=parsed.text, affinity=affinity or None, size=size, allocated=len(refs),
        # a fresh dict nothing else holds: read-only without a copy
        by_namespace=MappingProxyType(by_namespace) if by_namespace else _EMPTY_MAP,
        deleted=deleted if type(deleted) is bool
        else _bool(deleted, "deleted", False, file, where + ("spec",)),
        borrowed=borrowed, tunnels=tunnels, parsed=parsed)


def _refs(allocations, attributes, size: int) -> list[int] | None:
    """The allocated entries of a well-formed block (each an attribute index),
    or None when ``_check_allocations`` must look: not lists, too many
    entries, or an entry that is neither null nor an int. Nulls are dropped
    first, so the type check sees only the allocated few."""
    if type(allocations) is not list or type(attributes) is not list or len(allocations) > size:
        return None
    refs = [ref for ref in allocations if ref is not None]
    # True and 1.0 equal the index 1: only exact ints are indices.
    return refs if set(map(type, refs)) <= _INT else None


def _check_allocations(allocations, attributes, size: int, file: str | None,
                       where: Where) -> None:
    """The shape of a block's allocations: a list no longer than the block of
    attribute indices (or null); a corrupted block is reported where it is."""
    if not isinstance(allocations, list):
        raise input_error("allocations must be a list", file, where + ("allocations",))
    if not isinstance(attributes, list):
        raise input_error("attributes must be a list", file, where + ("attributes",))
    if len(allocations) > size:
        raise input_error(f"allocations has {len(allocations)} entries but the block holds "
                          f"{size} addresses", file, where + ("allocations",))
    # Counter() needs hashable entries, and True/1.0 would merge with the index
    # 1: anything but null or an int is a corrupted block. The set of types is
    # checked at C speed; the loop only finds the culprit.
    if not set(map(type, allocations)) <= _ALLOCATION_TYPES:
        for ordinal, ref in enumerate(allocations):
            if ref is not None and type(ref) is not int:
                raise input_error(f"allocation {ordinal} points at attribute {ref!r}, which "
                                  "does not exist", file, where + ("allocations", ordinal))


def _owners(allocations: list, refs: list[int], attributes: list, affinity: str,
            file: str | None, where: Where) -> tuple[dict[str, int], int, int]:
    """Who holds a block's allocated ordinals (*refs*: the allocated entries,
    in order), from the attributes they point at: (pods per namespace,
    borrowed addresses, tunnel addresses). *where* is the block's path.

    Borrowed as ``calicoctl ipam show --show-borrowed`` counts it: the
    allocation's ``node`` attribute differs from the block's host (every
    allocation with a node in a block without affinity); an allocation without
    a node attribute is left unclassified (calicoctl/calicoctl/commands/ipam/
    show.go:45 getBorrowedIPs). Tunnel addresses carry a ``type`` attribute
    (libcalico-go/lib/backend/model/block.go IPAMBlockAttributeType*).
    """
    by_namespace: dict[str, int] = {}
    if not refs:
        return by_namespace, 0, 0
    n_attrs = len(attributes)
    per_attr = None
    if n_attrs <= _FEW_ATTRIBUTES:
        # The usual block has a handful of attributes: list.count per index is
        # several times cheaper than a Counter. If the counts miss some
        # allocations, a reference points outside: the general path names it.
        per_attr, counted = {}, 0
        for i in range(n_attrs):
            if n := refs.count(i):
                per_attr[i] = n
                counted += n
        if counted != len(refs):
            per_attr = None
    if per_attr is None:
        per_attr = Counter(refs)  # first allocated first: the first bad one is named
    # the block's owner as show.go:74-83 takes it from the affinity ("host:node-2")
    parts = affinity.split(":") if affinity else [""]
    host = parts[1] if len(parts) == 2 else parts[0]
    borrowed = tunnels = 0
    for ref, count in per_attr.items():
        if not 0 <= ref < n_attrs:
            ordinal = allocations.index(ref)
            raise input_error(f"allocation {ordinal} points at attribute {ref!r}, which does "
                              "not exist", file, where + ("spec", "allocations", ordinal))
        attr = attributes[ref]
        secondary = attr.get("secondary") if isinstance(attr, dict) else None
        if not isinstance(secondary, dict):
            continue
        ns = secondary.get("namespace")
        if ns and isinstance(ns, str):
            by_namespace[ns] = by_namespace.get(ns, 0) + count
        node = secondary.get("node")
        if node and isinstance(node, str) and node != host:
            borrowed += count
        kind = secondary.get("type")  # a string in Calico (map[string]string)
        if isinstance(kind, str) and kind in _TUNNEL_TYPES:
            tunnels += count
    return by_namespace, borrowed, tunnels


def normalise_affinity(obj: Mapping, file: str | None = None, where: Where = ()) -> LiveAffinity | None:
    """A BlockAffinity; None when it is marked deleted (Calico is removing it)."""
    obj = _mapping(obj, "BlockAffinity", file, where)
    spec = _mapping(obj.get("spec"), "spec", file, where)
    where = tuple(where) + ("spec",)
    node = spec.get("node")
    if not isinstance(node, str) or not node:
        raise input_error("node is missing", file, where + ("node",))
    cidr, _ = _canonical_cidr(spec.get("cidr"), "cidr", file, where + ("cidr",))
    if _bool(spec.get("deleted"), "deleted", False, file, where):
        return None
    # An empty state is confirmed for old data (ipam.go getBlockFromAffinity).
    return LiveAffinity(node=node, cidr=cidr, state=spec.get("state") or "confirmed",
                        type=spec.get("type") or "host")


def normalise_namespace(obj: Mapping, file: str | None = None, where: Where = ()) -> LiveNamespace:
    obj = _mapping(obj, "Namespace", file, where)
    name = object_name(obj, file, where)
    meta = _mapping(obj.get("metadata"), "metadata", file, where)
    labels = _str_map(meta.get("labels"), "metadata.labels", file, where)
    annotations = _str_map(meta.get("annotations"), "metadata.annotations", file, where)
    return LiveNamespace(name=name, labels=frozen_map(labels),
                         annotations=frozen_map({k: v for k, v in annotations.items()
                                                 if _keep_annotation(k)}))


def normalise_node(obj: Mapping, file: str | None = None, where: Where = ()) -> LiveNode:
    obj = _mapping(obj, "Node", file, where)
    name = object_name(obj, file, where)
    meta = _mapping(obj.get("metadata"), "metadata", file, where)
    return LiveNode(name=name, labels=frozen_map(_str_map(meta.get("labels"), "metadata.labels",
                                                          file, where)))


def normalise_ipam_config(obj: Mapping, file: str | None = None, where: Where = ()) -> IPAMConfig:
    """An IPAMConfig's (or IPAMConfiguration's) spec as Calico reads it: Calico's
    defaults for absent fields (core.ipam_config), types checked."""
    obj = _mapping(obj, "IPAMConfig", file, where)
    spec = _mapping(obj.get("spec"), "spec", file, where)
    try:
        return read_ipam_config(spec)
    except FieldError as exc:
        raise input_error(str(exc), file, tuple(where) + ("spec",) + exc.path) from None


def _owner(labels: Mapping[str, str]) -> tuple[str, str | None]:
    """(owner, stack) of an object only calico-ipam or hand edits make (no operator)."""
    if labels.get(OWNERSHIP_LABEL) == OWNERSHIP_VALUE:
        return OWNER_CALICO_IPAM, labels.get(STACK_LABEL)
    return OWNER_OTHER, None


def normalise_ipam_config_object(obj: Mapping, file: str | None = None,
                                 where: Where = ()) -> LiveIpamConfig:
    """The IPAMConfig object: its spec (``normalise_ipam_config``), metadata and owner."""
    spec = normalise_ipam_config(obj, file, where)
    _, labels, annotations, _ = _decoded_metadata(obj, file, where)
    owner, stack = _owner(labels)
    api = obj.get("apiVersion")
    return LiveIpamConfig(spec, frozen_map(labels), frozen_map(annotations), owner, stack,
                          api if isinstance(api, str) else None)


def normalise_reservation(obj: Mapping, file: str | None = None,
                          where: Where = ()) -> LiveReservation:
    """An IPReservation as Calico reads it (calico.ipreservation.read_reserved_cidrs)."""
    obj = _mapping(obj, "IPReservation", file, where)
    name = object_name(obj, file, where)
    meta, labels, annotations, _ = _decoded_metadata(obj, file, where)
    spec = _mapping(obj.get("spec"), "spec", file, where)
    entries = spec.get("reservedCIDRs")
    if entries is not None and not isinstance(entries, list):
        raise input_error("reservedCIDRs must be a list", file,
                          tuple(where) + ("spec", "reservedCIDRs"))
    reserved, invalid = read_reserved_cidrs(entries)
    owner, stack = _owner(labels)
    return LiveReservation(name, reserved, invalid, frozen_map(labels),
                           frozen_map(annotations), owner, stack,
                           deleting=bool(meta.get("deletionTimestamp")))


# --------------------------------------------------------------------------- usage

def compute_usage(pools: Mapping[str, LivePool], blocks: Iterable[LiveBlock],
                  affinities: Iterable[LiveAffinity]) -> dict[str, PoolUsage]:
    """Per pool: allocated addresses, blocks, nodes with affinity, pods per namespace."""
    return _usage(pools, blocks, affinities)[0]


def _usage(pools: Mapping[str, LivePool], blocks: Iterable[LiveBlock],
           affinities: Iterable[LiveAffinity]) -> tuple[dict[str, PoolUsage], list[LiveBlock]]:
    """(``compute_usage``, the blocks inside no pool) in one pass over the blocks."""
    index = ContainingIndex((p.spec.cidr, p.name) for p in pools.values())
    allocated = dict.fromkeys(pools, 0)
    block_count = dict.fromkeys(pools, 0)
    nodes: dict[str, set] = {name: set() for name in pools}
    by_ns: dict[str, dict[str, int]] = {name: {} for name in pools}
    orphans = []
    find = index.find_cidr
    for block in blocks:
        parsed = block.parsed or parse_cidr(block.cidr)
        pool = find(parsed) if parsed is not None else None
        if pool is None:
            orphans.append(block)
            continue
        allocated[pool] += block.allocated
        block_count[pool] += 1
        node = block.node
        if node:
            nodes[pool].add(node)
        if block.by_namespace:  # most blocks on a big cluster: skip an empty update
            counts = by_ns[pool]
            for ns, n in block.by_namespace.items():
                counts[ns] = counts.get(ns, 0) + n
    for aff in affinities:
        if aff.type != "host":
            continue
        pool = index.find(aff.cidr)
        if pool is not None:
            nodes[pool].add(aff.node)
    usage = {name: PoolUsage(allocated=allocated[name], blocks=block_count[name],
                             nodes=tuple(sorted(nodes[name])),
                             by_namespace=frozen_map(by_ns[name])) for name in pools}
    return usage, orphans


def build_live_state(source: str, calico_api: str, pools: Iterable[LivePool],
                     namespaces: Iterable[LiveNamespace], nodes: Iterable[LiveNode],
                     blocks: Iterable[LiveBlock], affinities: Iterable[LiveAffinity],
                     ipam_config: IPAMConfig | None = None,
                     notes: Sequence[str] = (), *,
                     calico_api_inferred: bool = False,
                     ipam_config_object: LiveIpamConfig | None = None,
                     reservations: Iterable[LiveReservation] = (),
                     installations: Sequence[OperatorInstallation] | None = None) -> LiveState:
    """The LiveState of what a reader found. ``ipam_config_object`` is the
    cluster's IPAMConfig ``default``; without one Calico uses ``ipam_config``
    or, when that is None too, its defaults (ipam.go GetIPAMConfig).
    ``installations`` None means the source did not list Installations:
    ownership by the operator is then uncertain for unlabelled pools."""
    if ipam_config_object is not None:
        ipam_config = ipam_config_object.spec
    installations = tuple(installations) if installations is not None else None
    pool_map = {p.name: claim_by_operator(p, installations)
                for p in sorted(pools, key=lambda p: p.name)}
    blocks = tuple(blocks)
    affinities = tuple(affinities)
    usage, orphans = _usage(pool_map, blocks, affinities)
    return LiveState(
        source=source,
        calico_api=calico_api,
        calico_api_inferred=calico_api_inferred,
        pools=frozen_map(pool_map),
        namespaces=frozen_map({n.name: n for n in sorted(namespaces, key=lambda n: n.name)}),
        nodes=frozen_map({n.name: n for n in sorted(nodes, key=lambda n: n.name)}),
        blocks=blocks,
        affinities=affinities,
        ipam_config=ipam_config or IPAMConfig(),
        ipam_config_object=ipam_config_object,
        reservations=frozen_map({r.name: r for r in sorted(reservations, key=lambda r: r.name)}),
        usage=frozen_map(usage),
        orphaned_blocks=tuple(orphans),
        notes=tuple(notes),
        installations=installations,
    )


# --------------------------------------------------------------------------- collecting


# --------------------------------------------------------------------------- reading files


# --------------------------------------------------------------------------- writing
