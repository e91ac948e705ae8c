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

from ..core.errors import CIP001, CIP003, CIP004, InputError
from ..core.gc import paused_gc
from ..core.locate import YamlPath, position_of
from ..core.rules import Rule

try:  # the C parser is much faster; PyYAML without libyaml still works
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _BaseLoader = yaml.SafeLoader


class _Loader(_BaseLoader):
    """The safe loader with a shortcut in front of PyYAML's Python resolver,
    which the C composer calls for every scalar (a stack file is mostly scalars).

    A quoted scalar, or a plain one whose first character starts no implicit
    resolver, resolves to ``str`` whatever the resolver tables hold (the
    resolver only consults them by first character); everything else goes to
    PyYAML unchanged. The tables are read live, so the answer is PyYAML's own
    (tests/test_stackfile.py compares both on random scalars)."""

    def __init__(self, stream):
        super().__init__(stream)
        self._plain_tags: dict[str, str] = {}  # keys repeat once per pool

    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode and not self.yaml_path_resolvers:
            if not implicit[0]:
                return self.DEFAULT_SCALAR_TAG
            table = self.yaml_implicit_resolvers
            if value and value[0] not in table and None not in table:
                return self.DEFAULT_SCALAR_TAG
            # With no path resolvers, a plain scalar's tag depends on its text only.
            tag = self._plain_tags.get(value)
            if tag is None:
                tag = self._plain_tags[value] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)


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
        return position_of(self.source, path, self.source.get((), (None, None)))

    def line(self, path: YamlPath) -> int | None:
        return self.position(path)[0]


def _mark(node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


_ScalarNode = yaml.ScalarNode
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Builder:
    """Walks the composed nodes once. Plain string scalars, nearly every node
    of a stack file, are handled inline by their parent; the checks and the
    source map entries are the same as for any other node."""

    def __init__(self, file: str):
        self.file = file
        self.source: dict[YamlPath, tuple[int, int]] = {}
        self.count = 0
        # (tag, text) -> value for the non-string scalars: they repeat (26,
        # true, 110) and their constructors depend on the text only.
        self.scalars: dict[tuple[str, str], Any] = {}

    def fail(self, message: str, node, path: YamlPath, rule: Rule = CIP001):
        line, col = _mark(node)
        raise InputError(message, file=self.file, path=path, line=line, column=col, rule=rule)

    def too_many(self, node, path: YamlPath):
        self.fail(f"the document expands to more than {MAX_NODES:,} values "
                  "(YAML aliases referring to aliases?); refusing to load it", node, path,
                  rule=CIP004)

    def build(self, node, path: YamlPath):
        self.count += 1
        if self.count > MAX_NODES:
            self.too_many(node, path)
        if path not in self.source:
            self.source[path] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            if node.tag not in _MAP_TAGS:
                self.fail(f"YAML tag {node.tag} is not allowed (only plain mappings, lists "
                          "and scalars)", node, path, rule=CIP004)
            return self.build_mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag not in _SEQ_TAGS:
                self.fail(f"YAML tag {node.tag} is not allowed (only plain mappings, lists "
                          "and scalars)", node, path, rule=CIP004)
            return self.build_sequence(node, path)
        if node.tag == _STR_TAG:
            return node.value  # what SafeConstructor returns for str, without its overhead
        if node.tag not in _SAFE_TAGS:
            self.fail(f"YAML tag {node.tag} is not allowed (only plain mappings, lists and "
                      "scalars)", node, path, rule=CIP004)
        key = (node.tag, node.value)
        try:
            return self.scalars[key]
        except KeyError:
            pass
        try:
            # The tag's constructor itself: construct_object would also remember
            # every node in the shared constructor, forever.
            value = _SCALAR_CONSTRUCTOR.yaml_constructors[node.tag](_SCALAR_CONSTRUCTOR, node)
        except yaml.YAMLError as exc:
            self.fail(f"invalid value: {getattr(exc, 'problem', exc)}", node, path)
        except (ValueError, KeyError, AttributeError, TypeError, OverflowError):
            # An explicit tag on text it cannot convert (`!!int "x"`, `!!bool maybe`):
            # PyYAML's constructors raise plain Python errors for those.
            short = node.tag.replace("tag:yaml.org,2002:", "!!")
            self.fail(f"invalid value for {short}: {node.value!r}", node, path)
        self.scalars[key] = value
        return value

    def build_sequence(self, node: yaml.SequenceNode, path: YamlPath) -> list:
        out = []
        source = self.source
        for i, item in enumerate(node.value):
            item_path = path + (i,)
            if item.tag == _STR_TAG and item.__class__ is _ScalarNode:
                self.count += 1
                if self.count > MAX_NODES:
                    self.too_many(item, item_path)
                if item_path not in source:
                    mark = item.start_mark
                    source[item_path] = (mark.line + 1, mark.column + 1)
                out.append(item.value)
            else:
                out.append(self.build(item, item_path))
        return out

    def build_mapping(self, node: yaml.MappingNode, path: YamlPath) -> dict:
        out: dict = {}
        source = self.source
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                self.fail("YAML merge keys (<<) are not supported in stack files; write the "
                          "keys out", key_node, path, rule=CIP004)
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail("a mapping key must be a plain string", key_node, path)
            if key_node.tag == _STR_TAG:
                key = key_node.value
            else:
                key = self.build(key_node, path + ("<key>",))
                source.pop(path + ("<key>",), None)
            if not isinstance(key, str):
                # Pulumi keys, pool and namespace names are strings; `1: x` or `true: x`
                # is nearly always a mistake, and JSON cannot carry it.
                key = key_node.value if isinstance(key_node.value, str) else str(key)
            value_path = path + (key,)
            if key in out:
                first_line = source.get(value_path, (None, None))[0]
                self.fail(f'duplicate key "{key}" (first defined on line {first_line}); '
                          "YAML would silently keep only the last value", key_node,
                          value_path, rule=CIP003)
            mark = key_node.start_mark
            source[value_path] = (mark.line + 1, mark.column + 1)
            if value_node.tag == _STR_TAG and value_node.__class__ is _ScalarNode:
                # build() minus its source entry, which the key's line just took
                self.count += 1
                if self.count > MAX_NODES:
                    self.too_many(value_node, value_path)
                out[key] = value_node.value
            else:
                out[key] = self.build(value_node, value_path)
        return out


def read_yaml_bytes(path: str | os.PathLike, *, display: str | None = None) -> bytes:
    """The bytes of a YAML file, refusing missing, unreadable and oversized files."""
    file = display or os.fspath(path)
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise InputError(f"file is {size:,} bytes; files larger than "
                             f"{MAX_FILE_BYTES:,} bytes are refused", file=file, rule=CIP001)
        with open(path, "rb") as fh:
            return fh.read()
    except IsADirectoryError:
        raise InputError("is a directory, not a YAML file", file=file, rule=CIP001) from None
    except FileNotFoundError:
        raise InputError("no such file", file=file, rule=CIP001) from None
    except PermissionError:
        raise InputError("permission denied", file=file, rule=CIP001) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=file, rule=CIP001) from None


def load_yaml_file(path: str | os.PathLike, *, display: str | None = None) -> YamlDocument:
    """Load one YAML document safely, or raise InputError naming the file and line."""
    file = display or os.fspath(path)
    return load_yaml_text(read_yaml_bytes(path, display=file), file=file)


def _decode(raw: bytes | str, file: str) -> str:
    if isinstance(raw, bytes):
        if b"\x00" in raw:
            raise InputError("is a binary file, not YAML", file=file, rule=CIP001)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"is not UTF-8 text (byte {exc.start})", file=file,
                             rule=CIP001) from None
    else:
        text = raw
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#")
                                for ln in text.splitlines()):
        raise InputError("file is empty", file=file, rule=CIP001)
    return text


def load_yaml_text(raw: bytes | str, *, file: str) -> YamlDocument:
    text = _decode(raw, file)
    with paused_gc():
        nodes = _compose(text, file)
        if len(nodes) > 1:
            line, col = _mark(nodes[1])
            raise InputError("holds several YAML documents; a stack file is one document",
                             file=file, line=line, column=col, rule=CIP001)
        builder = _Builder(file)
        data = builder.build(nodes[0], ())
        return YamlDocument(file=file, data=data, source=builder.source)


def load_yaml_documents(raw: bytes | str, *, file: str) -> list[YamlDocument]:
    """Every document of a multi-document stream (``---``), with the same
    refusals as a stack file; the alias-expansion bound covers the whole stream."""
    text = _decode(raw, file)
    documents = []
    with paused_gc():
        expanded = 0
        for node in _compose(text, file):
            builder = _Builder(file)
            builder.count = expanded
            data = builder.build(node, ())
            expanded = builder.count
            documents.append(YamlDocument(file=file, data=data, source=builder.source))
    return documents


def _compose(text: str, file: str) -> list:
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(f"not valid YAML: {problem}", file=file,
                         line=mark.line + 1 if mark else None,
                         column=mark.column + 1 if mark else None, rule=CIP001) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", file=file, rule=CIP001) from None
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        raise InputError("file is empty", file=file, rule=CIP001)
    return nodes
