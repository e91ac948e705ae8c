"""Merging an import into a stack document, keeping what the user wrote.

The document is ruamel.yaml's round-trip form: comments, key order and the
other config keys survive, and a field whose value already means the same
as the live one is left exactly as written. Declarations of an existing
file that the cluster lacks are kept (they may be pending work) and
described in ``notes``; a binding of a live namespace that has no pool
annotation is removed, since that is what exists.

An import from a cluster adopts objects that exist: ``pulumi up`` can take
them over only when it reads the cluster first (``liveChecks: true``, which
sets Pulumi's ``import`` option on each of them), so the import turns it on
unless the file says otherwise.
"""
from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap

from ..calico.ipam_config import minimal as minimal_ipam_config
from ..calico.ipam_config import read_ipam_config
from ..calico.ippool import FieldError, apply_defaults, same_value
from ..core.errors import CIP004, InputError
from ..core.ipam_config import IPAM_CONFIG_FIELDS
from ..core.ippool import FIELDS
from ..core.model import CONFIG_NAMESPACE
from ..declared.schema import describe
from .build import Imported, ImportedPool, minimal_pool

POOLS_KEY = f"{CONFIG_NAMESPACE}:pools"
CLUSTER_KEY = f"{CONFIG_NAMESPACE}:cluster"
IPAM_CONFIG_KEY = f"{CONFIG_NAMESPACE}:ipamConfig"
RESERVATIONS_KEY = f"{CONFIG_NAMESPACE}:reservations"
NAMESPACES_KEY = f"{CONFIG_NAMESPACE}:namespaces"
FAMILY_KEYS = ("ipv4Pools", "ipv6Pools")


def merge_into(doc: Any, imported: Imported, file: str, notes: list[str] | None = None) -> Any:
    """The stack document with the import applied (``doc`` None: a new file).

    Raises InputError, and changes nothing, when the existing document cannot
    take the import without changing what the user wrote elsewhere (see
    ``refuse_unmergeable``)."""
    notes = [] if notes is None else notes
    doc = CommentedMap() if doc is None else doc
    config = _config(doc, file)
    refuse_unmergeable(config, imported, file)
    if CLUSTER_KEY not in config:
        config[CLUSTER_KEY] = _cluster(imported)
    else:
        _adoption_setting(config, imported, notes)
    _merge_ipam_config(config, imported, notes)
    _merge_pools(config, imported, notes)
    _merge_reservations(config, imported, notes)
    _prune_bindings(config, imported, notes)
    _merge_bindings(config, imported)
    return doc


def _config(doc: Any, file: str) -> CommentedMap:
    if not isinstance(doc, CommentedMap):
        raise InputError("a stack file is a mapping with a config: key", file=file, line=1)
    config = doc.get("config")
    if config is None:
        config = doc["config"] = CommentedMap()
    if not isinstance(config, CommentedMap):
        raise InputError("config is not a mapping", file=file, path=("config",))
    return config


def refuse_unmergeable(config: CommentedMap, imported: Imported, file: str) -> None:
    """Refuse what an import could only overwrite or alter elsewhere:

    - a section it edits (``calico-ipam:pools``, ``:namespaces``,
      ``:ipamConfig``, ``:reservations``, ``:cluster`` when it adds
      ``liveChecks``), or an entry of one, that exists but is not a mapping: replacing
      it would drop what the user wrote there without a word;
    - a YAML anchor or alias in those sections: editing a value written once
      and used in several places would change all of them (two namespaces
      sharing one ``ipv4Pools`` list both change when one is imported).
    """
    edited = (  # (section, the entries the import edits, whether it edits the section)
        (POOLS_KEY, [p.name for p in imported.pools], True),
        (NAMESPACES_KEY, list(imported.bindings), True),
        (IPAM_CONFIG_KEY, [], imported.ipam_config is not None),
        (RESERVATIONS_KEY, [r.name for r in imported.reservations], bool(imported.reservations)),
        (CLUSTER_KEY, [], _adopts(imported)),  # liveChecks may be added to it
    )
    for key, entries, edits in edited:
        section = config.get(key)
        if section is None or not edits:
            continue
        _refuse_non_mapping(section, ("config", key), file, config, key)
        for name in entries:
            entry = section.get(name)
            if entry is not None:
                _refuse_non_mapping(entry, ("config", key, name), file, section, name)
        shared = _first_anchor(section, ("config", key))
        if shared is not None:
            path, node = shared
            raise InputError(f"uses the YAML anchor &{node.anchor.value} here; import edits "
                             "this section, and an edit would change every place the anchor "
                             "is used: write the values out (no & or *) and import again",
                             file=file, path=path, line=_line(node), rule=CIP004)


def _refuse_non_mapping(value: Any, path: tuple, file: str, parent: Any, key: Any) -> None:
    if isinstance(value, CommentedMap):
        return
    line = None
    try:
        line = parent.lc.key(key)[0] + 1
    except (AttributeError, KeyError, TypeError):
        pass
    raise InputError(f"is {_cut(describe(value))}, not a mapping; import would replace it, and what is written there would be "
                     "lost: make it a mapping (or remove it) and import again",
                     file=file, path=path, line=line)


def _first_anchor(value: Any, path: tuple) -> tuple[tuple, Any] | None:
    """The first node at or below *value* that carries a YAML anchor (an alias
    is the same object as its anchor's node), without recursion."""
    stack = [(path, value)]
    seen: set[int] = set()
    while stack:
        here, node = stack.pop()
        anchor = getattr(node, "anchor", None)
        if anchor is not None and getattr(anchor, "value", None):
            return here, node
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            stack.extend((here + (k,), v) for k, v in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend((here + (i,), v) for i, v in reversed(list(enumerate(node))))
    return None


def _cut(text: str, most: int = 40) -> str:
    return text if len(text) <= most else text[:most - 1] + "…"


def _line(node: Any) -> int | None:
    try:
        return node.lc.line + 1
    except AttributeError:
        return None


def _cluster(imported: Imported) -> CommentedMap:
    cluster = CommentedMap()
    cluster["calicoApi"] = imported.calico_api
    if _adopts(imported):
        cluster["liveChecks"] = True
    return cluster


def _adopts(imported: Imported) -> bool:
    """Whether the import took over objects that exist in a cluster."""
    return imported.live_pools is not None and bool(
        imported.pools or imported.reservations or imported.ipam_config is not None)


def _adoption_setting(config, imported: Imported, notes: list[str]) -> None:
    """liveChecks: true in an existing cluster section that does not set it."""
    cluster = config.get(CLUSTER_KEY)
    if not _adopts(imported) or not isinstance(cluster, CommentedMap):
        return
    if "liveChecks" not in cluster:
        cluster["liveChecks"] = True
        notes.append("set liveChecks: true: pulumi up reads the cluster first and adopts the "
                     "imported objects that exist (Pulumi's import option) instead of failing "
                     "with AlreadyExists")
    elif cluster["liveChecks"] is not True:
        notes.append("liveChecks is false: the first pulumi up will fail with AlreadyExists on "
                     "every imported object that exists; set liveChecks: true to adopt them")


def _insert_after(config: CommentedMap, key: str, value: Any, after: tuple[str, ...]) -> None:
    """config[key] = value, a new key placed after the last of *after* present."""
    if key in config:
        config[key] = value
        return
    keys = list(config)
    position = max((keys.index(k) + 1 for k in after if k in config), default=len(keys))
    config.insert(position, key, value)


def _merge_ipam_config(config, imported: Imported, notes: list[str]) -> None:
    """calico-ipam:ipamConfig from the cluster's IPAMConfig: fields that already
    mean the live value stay as written, the others follow the live object."""
    existing = config.get(IPAM_CONFIG_KEY)
    if imported.ipam_config is None:
        if existing is not None and imported.live_pools is not None:
            notes.append(f"kept {IPAM_CONFIG_KEY}: {imported.source} has no IPAMConfig object "
                         "(Calico uses its defaults); plan will show it created")
        return
    new = minimal_ipam_config(imported.ipam_config)
    if not isinstance(existing, CommentedMap):
        # Written as Calico renders it (the fields its CRD requires, even at their
        # defaults), not as an empty mapping that says nothing to the reader.
        _insert_after(config, IPAM_CONFIG_KEY, CommentedMap(imported.ipam_config.to_calico()),
                      (CLUSTER_KEY,))
        return
    try:
        current = read_ipam_config(existing)
    except FieldError:
        current = None
    for field in IPAM_CONFIG_FIELDS:
        if current is not None and getattr(current, field.attr) == getattr(
                imported.ipam_config, field.attr):
            continue
        if field.name in new:
            existing[field.name] = new[field.name]
        elif field.name in existing:
            del existing[field.name]


def _merge_reservations(config, imported: Imported, notes: list[str]) -> None:
    """calico-ipam:reservations from the cluster's IPReservations; an entry whose
    CIDRs already mean the live ones is left as written."""
    declared = config.get(RESERVATIONS_KEY)
    if imported.reservations and not isinstance(declared, CommentedMap):
        declared = CommentedMap()
        _insert_after(config, RESERVATIONS_KEY, declared, (POOLS_KEY,))
    for reservation in imported.reservations:
        want = list(reservation.spec.reserved_cidrs)
        current = declared.get(reservation.name)
        entries = current.get("reservedCIDRs") if isinstance(current, CommentedMap) else None
        # The same networks, as canonical CIDRs (what the stack's rules accept),
        # in any order: the list is a set to Calico.
        if isinstance(entries, list) and sorted(map(str, entries)) == sorted(want):
            continue
        if isinstance(current, CommentedMap):
            current["reservedCIDRs"] = want
        else:
            declared[reservation.name] = CommentedMap({"reservedCIDRs": want})
    if imported.live_reservations is not None and isinstance(declared, CommentedMap):
        for name in declared:
            if name not in imported.live_reservations:
                notes.append(f"kept reservation {name}: declared but not in {imported.source}; "
                             "plan will show it created")


def _merge_pools(config, imported: Imported, notes: list[str]) -> None:
    pools = config.get(POOLS_KEY)
    if not isinstance(pools, CommentedMap):
        pools = config[POOLS_KEY] = CommentedMap()
    for pool in imported.pools:
        pools[pool.name] = merge_pool(pools.get(pool.name), pool)
    if imported.live_pools is not None:
        for name in pools:
            if name not in imported.live_pools:
                notes.append(f"kept pool {name}: declared but not in {imported.source}; "
                             "plan will show it created")


def merge_pool(existing: Any, pool: ImportedPool) -> Any:
    """Edit an existing pool entry in place: fields that already mean the live
    value stay exactly as written (with their comments)."""
    new = minimal_pool(pool)
    if not isinstance(existing, CommentedMap):
        return CommentedMap(new)
    try:
        current = apply_defaults({k: v for k, v in existing.items() if k != "metadata"})
    except (ValueError, TypeError, AttributeError):
        current = None
    for field in FIELDS:
        key, attr = field.name, field.attr
        if current is not None and same_value(key, getattr(current, attr),
                                              getattr(pool.spec, attr)):
            continue
        if key in new:
            existing[key] = new[key]
        elif key in existing:
            del existing[key]
    if "metadata" in new:
        existing["metadata"] = new["metadata"]
    elif "metadata" in existing:  # the live pool has no user labels or annotations
        del existing["metadata"]
    return existing


def _prune_bindings(config, imported: Imported, notes: list[str]) -> None:
    """Bindings the cluster contradicts: removed when the live namespace has no
    pool annotation, kept (and noted) when the namespace does not exist."""
    declared = config.get(NAMESPACES_KEY)
    if imported.live_namespaces is None or not isinstance(declared, CommentedMap):
        return
    for name, current in declared.items():
        if not isinstance(current, CommentedMap) or name in imported.bindings:
            continue
        bound = [k for k in FAMILY_KEYS if current.get(k)]
        if not bound:
            continue
        if name in imported.unannotated_namespaces:
            for key in bound:
                del current[key]
            notes.append(f"removed the pool binding of namespace {name}: it has no Calico "
                         f"pool annotation in {imported.source}")
        elif name not in imported.live_namespaces:
            notes.append(f"kept the binding of namespace {name}: the namespace does not exist "
                         f"in {imported.source}; plan will refuse it (CIP605) until it is "
                         "created")


def _merge_bindings(config, imported: Imported) -> None:
    if not imported.bindings:
        return
    namespaces = config.get(NAMESPACES_KEY)
    if not isinstance(namespaces, CommentedMap):
        namespaces = config[NAMESPACES_KEY] = CommentedMap()
    for name, entry in imported.bindings.items():
        current = namespaces.get(name)
        if not isinstance(current, CommentedMap):
            current = namespaces[name] = CommentedMap()
        for key in FAMILY_KEYS:
            if key in entry:
                if list(current.get(key) or ()) != entry[key]:
                    current[key] = list(entry[key])
            elif key in current:
                del current[key]
