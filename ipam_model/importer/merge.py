"""Merging an import into a stack document, keeping what the user wrote.

The document is ruamel.yaml's round-trip form: comments, key order and the
other config keys survive, and a field whose value already means the same
as the live one is left exactly as written. Declarations of an existing
file that the cluster lacks are kept (they may be pending work) and
described in ``notes``; a binding of a live namespace that has no pool
annotation is removed, since that is what exists.
"""
from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap

from ..calico.ippool import apply_defaults, same_value
from ..core.errors import InputError
from ..core.ippool import FIELDS
from ..core.model import CONFIG_NAMESPACE, DEFAULT_MAX_BLOCKS_PER_HOST
from .build import Imported, ImportedPool, minimal_pool

POOLS_KEY = f"{CONFIG_NAMESPACE}:pools"
CLUSTER_KEY = f"{CONFIG_NAMESPACE}:cluster"
NAMESPACES_KEY = f"{CONFIG_NAMESPACE}:namespaces"
FAMILY_KEYS = ("ipv4Pools", "ipv6Pools")


def merge_into(doc: Any, imported: Imported, file: str, notes: list[str] | None = None) -> Any:
    """The stack document with the import applied (``doc`` None: a new file)."""
    notes = [] if notes is None else notes
    doc = CommentedMap() if doc is None else doc
    config = _config(doc, file)
    if CLUSTER_KEY not in config:
        config[CLUSTER_KEY] = _cluster(imported)
    _merge_pools(config, imported, notes)
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


def _cluster(imported: Imported) -> CommentedMap:
    cluster = CommentedMap()
    cluster["calicoApi"] = imported.calico_api
    if imported.strict_affinity:
        cluster["strictAffinity"] = True
    if imported.max_blocks_per_host not in (0, DEFAULT_MAX_BLOCKS_PER_HOST):
        cluster["maxBlocksPerHost"] = imported.max_blocks_per_host
    return cluster


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
