"""Reading IPPool manifests and writing stack files (ruamel.yaml round trip, atomic)."""
from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from ..calico.ippool import apply_defaults, same_value
from ..calico.validate import validate_pool
from ..core.errors import InputError
from ..core.ippool import FIELDS
from ..core.model import (
    API_CRD_V1,
    API_V3,
    CONFIG_NAMESPACE,
    DEFAULT_MAX_BLOCKS_PER_HOST,
    Location,
)
from ..declared.yaml import YamlDocument, load_yaml_documents, read_yaml_bytes
from .build import Imported, ImportedPool, minimal_pool


def _manifest_objects(path: str) -> list[tuple[int, tuple, YamlDocument, Any]]:
    """(document number, path prefix, document, object) of every object in the file;
    a List's items count as objects. Loaded with the stack files' safe loader:
    duplicate keys, object-constructing tags and alias bombs are refused."""
    documents = load_yaml_documents(read_yaml_bytes(path), file=path)
    objects = []
    for index, doc in enumerate(documents, 1):
        value = doc.data
        if isinstance(value, dict) and value.get("kind") in ("List", "IPPoolList"):
            items = value.get("items")
            if not isinstance(items, list):
                raise InputError(f"document {index}: a {value['kind']} needs an items list",
                                 file=path, path=("items",), line=doc.line(("items",)))
            objects += [(index, ("items", i), doc, item) for i, item in enumerate(items)]
        else:
            objects.append((index, (), doc, value))
    return objects


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 100
    return y


def _merge_pool(existing: Any, pool: ImportedPool) -> Any:
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


def merge_into(doc: Any, imported: Imported, file: str, notes: list[str] | None = None) -> Any:
    """The stack document with the import applied (``doc`` None: a new file).

    Declarations of an existing file that the cluster lacks are kept (they may
    be pending work) and described in ``notes``; a binding of a live namespace
    that has no pool annotation is removed, since that is what exists."""
    notes = [] if notes is None else notes
    if doc is None:
        doc = CommentedMap()
    if not isinstance(doc, CommentedMap):
        raise InputError("a stack file is a mapping with a config: key", file=file, line=1)
    config = doc.get("config")
    if config is None:
        config = doc["config"] = CommentedMap()
    if not isinstance(config, CommentedMap):
        raise InputError("config is not a mapping", file=file, path=("config",))
    cluster_key = f"{CONFIG_NAMESPACE}:cluster"
    if cluster_key not in config:
        cluster = CommentedMap()
        cluster["calicoApi"] = imported.calico_api
        if imported.strict_affinity:
            cluster["strictAffinity"] = True
        if imported.max_blocks_per_host not in (0, DEFAULT_MAX_BLOCKS_PER_HOST):
            cluster["maxBlocksPerHost"] = imported.max_blocks_per_host
        config[cluster_key] = cluster
    pools_key = f"{CONFIG_NAMESPACE}:pools"
    pools = config.get(pools_key)
    if not isinstance(pools, CommentedMap):
        pools = config[pools_key] = CommentedMap()
    for pool in imported.pools:
        pools[pool.name] = _merge_pool(pools.get(pool.name), pool)
    if imported.live_pools is not None:
        for name in pools:
            if name not in imported.live_pools:
                notes.append(f"kept pool {name}: declared but not in {imported.source}; "
                             "plan will show it created")
    ns_key = f"{CONFIG_NAMESPACE}:namespaces"
    declared = config.get(ns_key)
    if imported.live_namespaces is not None and isinstance(declared, CommentedMap):
        for name, current in declared.items():
            if not isinstance(current, CommentedMap) or name in imported.bindings:
                continue
            bound = [k for k in ("ipv4Pools", "ipv6Pools") if current.get(k)]
            if not bound:
                continue
            if name in imported.unannotated_namespaces:
                for key in bound:
                    del current[key]
                notes.append(f"removed the pool binding of namespace {name}: it has no "
                             f"Calico pool annotation in {imported.source}")
            elif name not in imported.live_namespaces:
                notes.append(f"kept the binding of namespace {name}: the namespace does not "
                             f"exist in {imported.source}; plan will refuse it (CIP605) until "
                             "it is created")
    if imported.bindings:
        namespaces = config.get(ns_key)
        if not isinstance(namespaces, CommentedMap):
            namespaces = config[ns_key] = CommentedMap()
        for name, entry in imported.bindings.items():
            current = namespaces.get(name)
            if not isinstance(current, CommentedMap):
                current = namespaces[name] = CommentedMap()
            for key in ("ipv4Pools", "ipv6Pools"):
                if key in entry:
                    if list(current.get(key) or ()) != entry[key]:
                        current[key] = list(entry[key])
                elif key in current:
                    del current[key]
    return doc


def write_stack_file(path: str | os.PathLike, imported: Imported,
                     notes: list[str] | None = None) -> str:
    """Write (or update) the stack file; returns the text written. Nothing is
    written when anything fails: the new text goes to a temporary file that
    replaces the old one."""
    path = Path(path)
    file = os.fspath(path)
    y = _yaml()
    doc = None
    if path.exists():
        try:
            doc = y.load(path.read_text(encoding="utf-8"))
        except Exception as exc:  # ruamel raises many types; the user needs one line
            # A marked error's first line is only its context ("while constructing
            # a mapping"); the problem and its position are what the user needs.
            problem = getattr(exc, "problem", None)
            mark = getattr(exc, "problem_mark", None)
            text = problem or str(exc).strip() or type(exc).__name__
            raise InputError(f"cannot read the existing stack file: {text.splitlines()[0]}",
                             file=file, line=mark.line + 1 if mark else None,
                             column=mark.column + 1 if mark else None) from None
    doc = merge_into(doc, imported, file, notes)
    buffer = io.StringIO()
    if not path.exists():
        buffer.write(f"# Imported by calico-ipam from {imported.source}.\n")
    y.dump(doc, buffer)
    text = buffer.getvalue()
    directory = path.parent if str(path.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return text


def from_manifests(path: str) -> Imported:
    """IPPools from multi-document YAML (``projectcalico.org/v3`` or
    ``crd.projectcalico.org/v1``, or a List of them). Every pool must pass
    Calico's rules; the first problem is an InputError naming the file, the
    document and the YAML path."""
    file = os.fspath(path)
    pools: dict[str, ImportedPool] = {}
    apis = set()
    for index, prefix, doc, obj in _manifest_objects(file):
        def fail(message: str, sub: tuple = ()):
            where = prefix + tuple(sub)
            return InputError(f"document {index}: {message}", file=file, path=where,
                              line=doc.line(where))
        if not isinstance(obj, dict):
            raise fail(f"an IPPool manifest is a mapping, not {type(obj).__name__}")
        kind, api = obj.get("kind"), obj.get("apiVersion")
        if kind != "IPPool":
            raise fail(f"kind is {kind!r}; only IPPool manifests can be imported", ("kind",))
        if api not in (API_V3, API_CRD_V1):
            raise fail(f"apiVersion is {api!r}; expected {API_V3} or {API_CRD_V1}",
                       ("apiVersion",))
        apis.add(api)
        metadata = obj.get("metadata")
        if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
            raise fail("metadata.name is missing", ("metadata", "name"))
        name = metadata["name"]
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            raise fail(f"IPPool {name}: spec is missing or not a mapping", ("spec",))
        user_meta = {k: metadata[k] for k in ("labels", "annotations") if metadata.get(k)}
        findings = validate_pool(name, spec, user_meta or None,
                                 locate=lambda p: Location(file, p, None))
        errors = [f for f in findings if f.is_error]
        if errors:
            first = errors[0]
            sub = tuple(first.location.path)
            sub = sub if sub[:1] == ("metadata",) else ("spec",) + sub
            raise fail(f"IPPool {name}: {first.message} ({first.rule})", sub)
        if name in pools:
            raise fail(f"IPPool {name} is defined twice", ("metadata", "name"))
        pools[name] = ImportedPool(name, apply_defaults(spec),
                                   dict(user_meta.get("labels") or {}),
                                   dict(user_meta.get("annotations") or {}))
    api = API_CRD_V1 if apis == {API_CRD_V1} else API_V3
    return Imported(f"manifests {os.path.basename(file)}", api, tuple(pools.values()))
