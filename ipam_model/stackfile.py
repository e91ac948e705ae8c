"""Safe YAML loading that remembers where every value came from.

PyYAML's C parser composes the document into nodes; this module turns the
nodes into plain Python values itself so that it can (a) record the line of
every key and item, (b) reject duplicate keys, which YAML loaders otherwise
resolve silently in favour of the last one, (c) refuse any tag that would
construct an object, and (d) bound alias expansion, so a "billion laughs"
document is refused instead of exhausting memory.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping

import yaml

from .errors import InputError
from .model import YamlPath

try:  # the C parser is much faster; PyYAML without libyaml still works
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

MAX_FILE_BYTES = 8 * 1024 * 1024      # a stack file is a few KiB; 8 MiB is generous
MAX_NODES = 250_000                    # values after alias expansion; a 10,000-pool stack needs ~100k

_SCALAR_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_SAFE_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:binary",
}
_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAGS = {"tag:yaml.org,2002:map"}
_SEQ_TAGS = {"tag:yaml.org,2002:seq"}


@dataclass(frozen=True)
class YamlDocument:
    """A loaded YAML document: its value and the (line, column) of each path."""

    file: str
    data: Any
    source: Mapping[YamlPath, tuple[int, int]]

    def position(self, path: YamlPath) -> tuple[int | None, int | None]:
        probe = tuple(path)
        while probe:
            if probe in self.source:
                return self.source[probe]
            probe = probe[:-1]
        return (None, None)


def _mark(node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.source: dict[YamlPath, tuple[int, int]] = {}
        self.count = 0

    def fail(self, message: str, node, path: YamlPath, rule: str = "CIP001"):
        line, col = _mark(node)
        raise InputError(message, file=self.file, path=path, line=line, column=col, rule=rule)

    def build(self, node, path: YamlPath):
        self.count += 1
        if self.count > MAX_NODES:
            self.fail(f"the document expands to more than {MAX_NODES:,} values "
                      "(YAML aliases referring to aliases?); refusing to load it", node, path,
                      rule="CIP004")
        self.source.setdefault(path, _mark(node))
        if isinstance(node, yaml.MappingNode):
            if node.tag not in _MAP_TAGS:
                self.fail(f"YAML tag {node.tag} is not allowed (only plain mappings, lists "
                          "and scalars)", node, path, rule="CIP004")
            return self.build_mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag not in _SEQ_TAGS:
                self.fail(f"YAML tag {node.tag} is not allowed (only plain mappings, lists "
                          "and scalars)", node, path, rule="CIP004")
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        if node.tag == _STR_TAG:
            return node.value  # what SafeConstructor returns for str, without its overhead
        if node.tag not in _SAFE_TAGS:
            self.fail(f"YAML tag {node.tag} is not allowed (only plain mappings, lists and "
                      "scalars)", node, path, rule="CIP004")
        try:
            return _SCALAR_CONSTRUCTOR.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.fail(f"invalid value: {getattr(exc, 'problem', exc)}", node, path)

    def build_mapping(self, node: yaml.MappingNode, path: YamlPath) -> dict:
        out: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.fail("YAML merge keys (<<) are not supported in stack files; write the "
                          "keys out", key_node, path, rule="CIP004")
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail("a mapping key must be a plain string", key_node, path)
            if key_node.tag == _STR_TAG:
                key = key_node.value
            else:
                key = self.build(key_node, path + ("<key>",))
                self.source.pop(path + ("<key>",), None)
            if not isinstance(key, str):
                # Pulumi keys, pool and namespace names are strings; `1: x` or `true: x`
                # is nearly always a mistake, and JSON cannot carry it.
                key = key_node.value if isinstance(key_node.value, str) else str(key)
            if key in out:
                first_line = self.source.get(path + (key,), (None, None))[0]
                self.fail(f'duplicate key "{key}" (first defined on line {first_line}); '
                          "YAML would silently keep only the last value", key_node,
                          path + (key,), rule="CIP003")
            self.source[path + (key,)] = _mark(key_node)
            out[key] = self.build(value_node, path + (key,))
        return out


def load_yaml_file(path: str | os.PathLike, *, display: str | None = None) -> YamlDocument:
    """Load one YAML document safely, or raise InputError naming the file and line."""
    file = display or os.fspath(path)
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise InputError(f"file is {size:,} bytes; stack files larger than "
                             f"{MAX_FILE_BYTES:,} bytes are refused", file=file, rule="CIP001")
        with open(path, "rb") as fh:
            raw = fh.read()
    except IsADirectoryError:
        raise InputError("is a directory, not a stack file", file=file, rule="CIP001") from None
    except FileNotFoundError:
        raise InputError("no such file", file=file, rule="CIP001") from None
    except PermissionError:
        raise InputError("permission denied", file=file, rule="CIP001") from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=file, rule="CIP001") from None
    return load_yaml_text(raw, file=file)


def load_yaml_text(raw: bytes | str, *, file: str) -> YamlDocument:
    if isinstance(raw, bytes):
        if b"\x00" in raw:
            raise InputError("is a binary file, not YAML", file=file, rule="CIP001")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"is not UTF-8 text (byte {exc.start})", file=file,
                             rule="CIP001") from None
    else:
        text = raw
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#")
                                for ln in text.splitlines()):
        raise InputError("file is empty", file=file, rule="CIP001")
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(f"not valid YAML: {problem}", file=file,
                         line=mark.line + 1 if mark else None,
                         column=mark.column + 1 if mark else None, rule="CIP001") from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", file=file, rule="CIP001") from None
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        raise InputError("file is empty", file=file, rule="CIP001")
    if len(nodes) > 1:
        line, col = _mark(nodes[1])
        raise InputError("holds several YAML documents; a stack file is one document",
                         file=file, line=line, column=col, rule="CIP001")
    builder = _Builder(file)
    data = builder.build(nodes[0], ())
    return YamlDocument(file=file, data=data, source=builder.source)
