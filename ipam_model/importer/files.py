"""The importer's file side: reading IPPool manifests and an existing stack file,
and the text of the stack file an import leads to (written by the CLI's one
atomic writer)."""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from ..core.errors import InputError
from ..core.input_file import printable_path
from ..declared.yaml import load_yaml_documents, load_yaml_text, read_yaml_bytes
from .build import Imported, ManifestObject, from_manifest_objects
from .merge import merge_into

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")  # what kubectl apply -f DIR reads


def read_manifests(path: str) -> list[ManifestObject]:
    """Every object of what ``kubectl apply -f PATH`` takes: a file of YAML or JSON
    documents, or a directory of such files (``.yaml``, ``.yml``, ``.json``, in
    name order, not recursive: kubectl without ``-R``). A ``List`` (or any
    ``...List`` kind) and a top-level sequence (calicoctl v1 output) count as
    their items. Loaded with the stack files' safe loader: duplicate keys,
    object-constructing tags and alias bombs are refused."""
    if os.path.isdir(path):
        files = sorted(os.path.join(path, n) for n in os.listdir(path)
                       if n.endswith(MANIFEST_SUFFIXES) and os.path.isfile(os.path.join(path, n)))
        if not files:
            raise InputError("the directory holds no .yaml, .yml or .json file", file=path)
        objects = []
        for file in files:
            objects += _read_manifest_file(file)
        return objects
    return _read_manifest_file(path)


def _read_manifest_file(path: str) -> list[ManifestObject]:
    file = printable_path(path)
    documents = load_yaml_documents(read_yaml_bytes(path, display=file, pipe=True), file=file)
    objects = []
    for index, doc in enumerate(documents, 1):
        value = doc.data
        kind = value.get("kind") if isinstance(value, dict) else None
        if isinstance(kind, str) and kind.endswith("List") and "items" in value:
            items = value.get("items")
            if not isinstance(items, list):
                raise InputError(f"document {index}: a {kind} needs an items list",
                                 file=file, path=("items",), line=doc.line(("items",)))
            objects += [ManifestObject(index, ("items", i), doc, item, file)
                        for i, item in enumerate(items)]
        elif isinstance(value, list):
            objects += [ManifestObject(index, (i,), doc, item, path)
                        for i, item in enumerate(value)]
        elif value is not None:
            objects.append(ManifestObject(index, (), doc, value, path))
    return objects


def from_manifests(path: str) -> Imported:
    """IPPools and Namespaces' pool annotations from what ``kubectl apply -f``
    takes (``projectcalico.org/v3`` or ``crd.projectcalico.org/v1`` pools)."""
    return from_manifest_objects(read_manifests(os.fspath(path)), printable_path(path))


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 100
    return y


def _read_existing(path: Path, y: YAML) -> Any:
    """The existing stack file as a round-trip document (None when there is none).

    It is read with the bounded reader and loaded by the one safe loader
    first, so a hostile file (an alias that contains itself, deep nesting,
    an alias bomb, a FIFO) is refused before ruamel.yaml, which has no such
    limits, sees it."""
    if not os.path.lexists(path):
        return None
    file = printable_path(path)
    raw = read_yaml_bytes(path, display=file)
    load_yaml_text(raw, file=file)  # InputError with file, line and column
    try:
        return y.load(raw.decode("utf-8-sig"))
    except Exception as exc:  # ruamel raises many types; the user needs one line
        # A marked error's first line is only its context ("while constructing
        # a mapping"); the problem and its position are what the user needs.
        problem = getattr(exc, "problem", None)
        mark = getattr(exc, "problem_mark", None)
        text = problem or str(exc).strip() or type(exc).__name__
        error = InputError(f"cannot read the existing stack file: {text.splitlines()[0]}",
                           file=file, line=mark.line + 1 if mark else None,
                           column=mark.column + 1 if mark else None)
    raise error


def stack_file_text(path: str | os.PathLike, imported: Imported,
                    notes: list[str] | None = None) -> str:
    """The text of the stack file at *path* once the import is applied to it (a
    new file when there is none). Nothing is written here."""
    path = Path(path)
    y = _yaml()
    existing = _read_existing(path, y)
    new = existing is None
    doc = merge_into(existing, imported, printable_path(path), notes)
    buffer = io.StringIO()
    if new:
        buffer.write(f"# Imported by calico-ipam from {imported.source}.\n")
    y.dump(doc, buffer)
    return buffer.getvalue()
