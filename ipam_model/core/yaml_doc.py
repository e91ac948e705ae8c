"""The one YAML loader: safe, bounded, and remembering where every value came from.

Every YAML calico-ipam reads (stack files, IPPool manifests, YAML snapshots,
kubeconfigs) is built here, from PyYAML's C parser's *events*, by one loop
with an explicit stack: nothing recurses, so no input can exhaust Python's
recursion or the C composer's stack (which crashes the process some 20,000
levels deep). The loop

- records the (line, column) of every key and item (the source map);
- rejects duplicate keys, which YAML loaders otherwise resolve silently in
  favour of the last one;
- refuses any tag that would construct an object, and merge keys;
- bounds nesting (``MAX_DEPTH``), values after alias expansion (a
  "billion laughs" document is refused instead of exhausting memory) and the
  length of integers;
- refuses an alias inside its own anchor (``a: &a [*a]``), which PyYAML
  would turn into a list containing itself.

An alias is expanded by replaying the events of its anchor, so its values are
fresh objects with the anchor's lines, exactly as if the anchored text had
been written out again.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import yaml

from .errors import CIP001, CIP003, CIP004, InputError
from .gc import paused_gc
from .limits import INTEGER_DIGITS, MAX_DEPTH, STACK_VALUES, Limit
from .locate import YamlPath, position_of
from .rules import Rule

try:  # the C parser is much faster; PyYAML without libyaml still works
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _BaseLoader = yaml.SafeLoader


class Loader(_BaseLoader):
    """The safe loader with a shortcut in front of PyYAML's Python resolver,
    which is asked for the tag of every plain scalar (a stack file is mostly
    scalars).

    A quoted scalar, or a plain one whose first character starts no implicit
    resolver, resolves to ``str`` whatever the resolver tables hold (the
    resolver only consults them by first character); everything else goes to
    PyYAML unchanged. The tables are read live, so the answer is PyYAML's own
    (tests/declared/test_yaml.py compares both on random scalars)."""

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


SAFE_TAGS = frozenset({
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:binary",
})
STR_TAG = "tag:yaml.org,2002:str"
INT_TAG = "tag:yaml.org,2002:int"
MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"
MERGE_TAG = "tag:yaml.org,2002:merge"
_SCALAR_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_NOT_ALLOWED = "YAML tag {} is not allowed (only plain mappings, lists and scalars)"


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


@dataclass(frozen=True)
class YamlLimits:
    """The bounds of one kind of YAML input."""

    what: str = "stack files"  # the input, as messages name it
    values: Limit = STACK_VALUES
    depth: int = MAX_DEPTH.value
    positions: bool = True  # record the source map (a large snapshot does without)


STACK_LIMITS = YamlLimits()

_ScalarEvent = yaml.ScalarEvent
_AliasEvent = yaml.AliasEvent
_MappingStart = yaml.MappingStartEvent
_SequenceStart = yaml.SequenceStartEvent
_CollectionEnd = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
_DocumentStart = yaml.DocumentStartEvent
_DocumentEnd = yaml.DocumentEndEvent
_StreamEnd = yaml.StreamEndEvent
_ANCHORABLE = (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)


def _pos(mark) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)


class _Everything:
    """Contains every first character: no resolver shortcut is safe."""

    def __contains__(self, item) -> bool:
        return True


_EVERYTHING = _Everything()


class _NoSource(dict):
    """A source map that records nothing (every path already "known")."""

    def __contains__(self, key) -> bool:
        return True

    def __setitem__(self, key, value) -> None:
        pass


class _Frame:
    """One open mapping or sequence: its value, path and where the next child goes."""

    __slots__ = ("value", "path", "is_map", "key", "index")

    def __init__(self, value, path: YamlPath, is_map: bool):
        self.value = value
        self.path = path
        self.is_map = is_map
        self.key = None        # the path of the value that comes next (mappings)
        self.index = 0         # the next item's index (sequences)


class _Anchor:
    """The events of one anchored node, recorded to replay at each alias."""

    __slots__ = ("events", "open", "mark", "depth")

    def __init__(self, mark, depth: int):
        self.events: list = []
        self.open = True
        self.mark = mark
        self.depth = depth


class _Builder:
    """Builds one document's value from its events; see the module docstring."""

    def __init__(self, file: str, loader: Loader, limits: YamlLimits, count: int = 0):
        self.file = file
        self.loader = loader
        self.limits = limits
        self.max_values = limits.values.value
        self.source: dict = {} if limits.positions else _NoSource()
        self.count = count
        # (tag, text) -> value for the non-string scalars: they repeat (26,
        # true, 110) and their constructors depend on the text only.
        self.scalars: dict[tuple[str, str], Any] = {}
        self.anchors: dict[str, _Anchor] = {}
        self.recording: list[_Anchor] = []
        table = loader.yaml_implicit_resolvers
        # Loader.resolve's shortcut, taken here before the call (see Loader)
        self.implicit_table = table if None not in table else _EVERYTHING
        self.root: Any = None

    # -- errors ---------------------------------------------------------------
    def fail(self, message: str, mark, path: YamlPath, rule: Rule = CIP001):
        line, col = _pos(mark) if mark is not None else (None, None)
        raise InputError(message, file=self.file, path=path, line=line, column=col, rule=rule)

    def counted(self, mark, path: YamlPath) -> None:
        self.count += 1
        if self.count > self.max_values:
            self.fail(f"the document expands to more than {self.max_values:,} values "
                      "(YAML aliases referring to aliases?); refusing to load it", mark, path,
                      rule=CIP004)

    # -- scalars --------------------------------------------------------------
    def tag_of(self, event) -> str:
        """A scalar's tag: explicit, or resolved the way PyYAML's composer does."""
        tag = event.tag
        if tag is None or tag == "!":
            implicit = event.implicit
            if not implicit[0]:
                return STR_TAG  # quoted: always a string
            value = event.value
            if value and value[0] not in self.implicit_table:
                return STR_TAG  # no implicit resolver starts with this character
            return self.loader.resolve(yaml.ScalarNode, value, implicit)
        return tag

    def scalar(self, event, tag: str, path: YamlPath) -> Any:
        """The value of a scalar that is not a plain string."""
        if tag not in SAFE_TAGS:
            self.fail(_NOT_ALLOWED.format(tag), event.start_mark, path, rule=CIP004)
        key = (tag, event.value)
        try:
            return self.scalars[key]
        except KeyError:
            pass
        if tag == INT_TAG:
            self.check_integer(event, path)
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            # The tag's constructor itself: construct_object would also remember
            # every node in the shared constructor, forever.
            value = _SCALAR_CONSTRUCTOR.yaml_constructors[tag](_SCALAR_CONSTRUCTOR, node)
        except yaml.YAMLError as exc:
            self.fail(f"invalid value: {getattr(exc, 'problem', exc)}", event.start_mark, path)
        except (ValueError, KeyError, AttributeError, TypeError, OverflowError):
            # An explicit tag on text it cannot convert (`!!int "x"`, `!!bool maybe`):
            # PyYAML's constructors raise plain Python errors for those.
            short = tag.replace("tag:yaml.org,2002:", "!!")
            self.fail(f"invalid value for {short}: {_cut(repr(event.value))}", event.start_mark, path)
        self.scalars[key] = value
        return value

    def check_integer(self, event, path: YamlPath) -> None:
        digits = event.value.replace("_", "").lstrip("+-")
        if digits[:2].lower() in ("0x", "0o", "0b"):
            digits = digits[2:]
        most = INTEGER_DIGITS.value
        if len(digits) > most:
            self.fail(f"an integer of {len(digits):,} digits is too long (at most {most}: "
                      "Kubernetes and Calico integers are 64-bit)", event.start_mark, path)

    # -- the loop -------------------------------------------------------------
    def key(self, event, top: _Frame) -> None:
        """A scalar in key position: the key of the value that follows."""
        tag = self.tag_of(event)
        mark = event.start_mark
        if tag != STR_TAG:
            if tag == MERGE_TAG:
                self.fail(f"YAML merge keys (<<) are not supported in {self.limits.what}; "
                          "write the keys out", mark, top.path, rule=CIP004)
            # Pulumi keys, pool and namespace names are strings; `1: x` or `true: x`
            # is nearly always a mistake, and JSON cannot carry it: the key is its text.
            self.counted(mark, top.path + ("<key>",))
            self.scalar(event, tag, top.path + ("<key>",))
        key = event.value
        value_path = top.path + (key,)
        if key in top.value:
            first_line = self.source.get(value_path, (None, None))[0]
            self.fail(f'duplicate key "{_cut(key)}" (first defined on line {first_line}); '
                      "YAML would silently keep only the last value", mark, value_path,
                      rule=CIP003)
        self.source[value_path] = (mark.line + 1, mark.column + 1)
        top.key = value_path

    def value(self, event, top: _Frame | None) -> Any:
        """A scalar in value position (a mapping value, an item, the root)."""
        if top is None:
            path: YamlPath = ()
        elif top.is_map:
            path = top.key
            top.key = None
        else:
            path = top.path + (top.index,)
            top.index += 1
        mark = event.start_mark
        self.count += 1
        if self.count > self.max_values:
            self.counted(mark, path)
        if path not in self.source:
            self.source[path] = (mark.line + 1, mark.column + 1)
        tag = self.tag_of(event)
        value = event.value if tag == STR_TAG else self.scalar(event, tag, path)
        if top is None:
            self.root = value
        elif top.is_map:
            top.value[path[-1]] = value
        else:
            top.value.append(value)

    def open(self, event, frames: list, top: _Frame | None) -> _Frame:
        """A mapping or sequence start: its frame, attached to its parent."""
        is_map = event.__class__ is _MappingStart
        mark = event.start_mark
        if top is not None and top.is_map and top.key is None:
            self.fail("a mapping key must be a plain string", mark, top.path)
        path = () if top is None else top.key if top.is_map else top.path + (top.index,)
        self.counted(mark, path)
        if path not in self.source:
            self.source[path] = (mark.line + 1, mark.column + 1)
        tag = event.tag
        if tag is not None and tag != "!" and tag != (MAP_TAG if is_map else SEQ_TAG):
            self.fail(_NOT_ALLOWED.format(tag), mark, path, rule=CIP004)
        if len(frames) >= self.limits.depth:
            # the path is cut: a hundred "[0]" would not fit on the one line
            self.fail(f"nested deeper than {self.limits.depth} levels", mark, path[:8])
        frame = _Frame({} if is_map else [], path, is_map)
        if top is None:
            self.root = frame.value
        elif top.is_map:
            top.value[path[-1]] = frame.value
            top.key = None
        else:
            top.value.append(frame.value)
            top.index += 1
        frames.append(frame)
        return frame

    def build(self, next_event) -> Any:
        """The value of one document, from the event after its start to its end."""
        frames: list[_Frame] = []
        replays: list[Iterator] = []  # anchors being replayed, innermost last
        top = None
        self.root = None
        while True:
            if replays:
                event = next(replays[-1], None)
                if event is None:
                    replays.pop()
                    continue
            else:
                event = next_event()
                if self.recording:
                    self.record(event, frames)
                if event.__class__ in _ANCHORABLE and event.anchor is not None:
                    self.anchor(event, frames)
            cls = event.__class__
            if cls is _ScalarEvent:
                if top is not None and top.is_map and top.key is None:
                    self.key(event, top)
                else:
                    self.value(event, top)
            elif cls is _MappingStart or cls is _SequenceStart:
                top = self.open(event, frames, top)
            elif cls is _AliasEvent:
                replays.append(iter(self.alias(event, frames).events))
            elif cls is _DocumentEnd:
                return self.root
            else:  # the end of a mapping or sequence
                frames.pop()
                top = frames[-1] if frames else None

    # -- anchors and aliases ----------------------------------------------------
    def anchor(self, event, frames: list) -> None:
        name = event.anchor
        if name in self.anchors:
            first = self.anchors[name].mark
            self.fail(f"not valid YAML: anchor &{_cut(name)} is defined twice (first on line "
                      f"{first.line + 1})", event.start_mark, _top_path(frames))
        anchor = _Anchor(event.start_mark, len(frames))
        anchor.events.append(event)
        self.anchors[name] = anchor
        if event.__class__ is _ScalarEvent:
            anchor.open = False
        else:
            self.recording.append(anchor)

    def record(self, event, frames: list) -> None:
        """Append *event* to every anchored collection being recorded; close
        the ones it ends."""
        for anchor in self.recording:
            anchor.events.append(event)
        if event.__class__ in _CollectionEnd:
            # frames still holds the collection this event closes
            depth = len(frames) - 1
            while self.recording and self.recording[-1].depth == depth:
                self.recording.pop().open = False

    def alias(self, event, frames: list) -> _Anchor:
        name = event.anchor
        anchor = self.anchors.get(name)
        if anchor is None:
            self.fail(f"not valid YAML: found undefined alias *{_cut(name)}", event.start_mark,
                      _top_path(frames))
        if anchor.open:
            self.fail(f"the alias *{_cut(name)} refers to its own anchor &{_cut(name)} (line "
                      f"{anchor.mark.line + 1}); a YAML value cannot contain itself",
                      event.start_mark, _top_path(frames), rule=CIP004)
        return anchor


def _top_path(frames: list) -> YamlPath:
    return frames[-1].path if frames else ()


def _cut(text: str, most: int = 60) -> str:
    """A quoted piece of the document, short enough for a one-line message."""
    text = repr(text) if not isinstance(text, str) else text
    return text if len(text) <= most else text[:most - 1] + "…"


def decode_text(raw: bytes | str, file: str) -> str:
    """The text of a YAML input: UTF-8 (a byte-order mark dropped), not binary,
    not empty."""
    if isinstance(raw, (bytes, bytearray)):
        if b"\x00" in raw:
            raise InputError("is a binary file, not YAML", file=file, rule=CIP001)
        try:
            text = bytes(raw).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"is not UTF-8 text (byte {exc.start})", file=file,
                             rule=CIP001) from None
    else:
        text = raw
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#")
                                for ln in text.splitlines()):
        raise InputError("file is empty", file=file, rule=CIP001)
    return text


def _syntax_error(exc: yaml.YAMLError, text: str, file: str) -> InputError:
    """One line with the line and column of a parser error."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        line, column = _pos(mark) if mark else (None, None)
    elif isinstance(exc, yaml.reader.ReaderError):
        # libyaml reports a byte offset into the UTF-8 text
        prefix = text.encode("utf-8", "surrogatepass")[:exc.position]
        at = len(prefix.decode("utf-8", "ignore"))
        line, column = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
        character = exc.character if isinstance(exc.character, int) else ord(exc.character)
        problem = f"character U+{character:04X} is not allowed ({exc.reason})"
    else:
        problem, line, column = str(exc), None, None
    problem = " ".join(str(problem).split())  # one line, whatever the parser wrote
    return InputError(f"not valid YAML: {problem}", file=file, line=line, column=column,
                      rule=CIP001)


def _load(text: str, file: str, limits: YamlLimits, single: bool) -> list[YamlDocument]:
    """Every document of *text* (*single*: exactly one); the value bound
    covers the whole stream."""
    documents = []
    loader = Loader(text)
    get = loader.get_event
    expanded = 0
    with paused_gc():
        try:
            event = get()
            while event.__class__ is not _StreamEnd:
                if event.__class__ is _DocumentStart:
                    if single and documents:
                        line, col = _pos(get().start_mark)  # the second document's first node
                        raise InputError("holds several YAML documents; a stack file is one "
                                         "document", file=file, line=line, column=col,
                                         rule=CIP001)
                    builder = _Builder(file, loader, limits, count=expanded)
                    data = builder.build(get)
                    expanded = builder.count
                    documents.append(YamlDocument(file=file, data=data, source=builder.source
                                                  if limits.positions else {}))
                event = get()
        except yaml.YAMLError as exc:
            raise _syntax_error(exc, text, file) from None
        finally:
            loader.dispose()
    if not documents:
        raise InputError("file is empty", file=file, rule=CIP001)
    return documents


def load_yaml_text(raw: bytes | str, *, file: str,
                   limits: YamlLimits = STACK_LIMITS) -> YamlDocument:
    """One YAML document, or InputError naming the file, line and column."""
    return _load(decode_text(raw, file), file, limits, single=True)[0]


def load_yaml_documents(raw: bytes | str, *, file: str,
                        limits: YamlLimits = STACK_LIMITS) -> list[YamlDocument]:
    """Every document of a multi-document stream (``---``), with the same
    refusals as a stack file; the alias-expansion bound covers the whole stream."""
    return _load(decode_text(raw, file), file, limits, single=False)
