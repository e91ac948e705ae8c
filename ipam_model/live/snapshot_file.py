"""Snapshot files: reading them (JSON or YAML, kubectl Lists too) and writing them atomically."""
from __future__ import annotations

import functools
import json
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Mapping, Sequence

from ..core.errors import CIP001, InputError
from ..core.gc import paused_gc
from ..core.input_file import open_input, printable_path, text_stream
from ..core.json_doc import DEFAULT_DECODER, UNDECIDED, JsonError
from ..core.limits import (
    JSON_OBJECT_BYTES,
    SNAPSHOT_JSON_BYTES,
    SNAPSHOT_VALUES,
    SNAPSHOT_YAML_BYTES,
)
from ..core.live_state import LiveState
from ..core.model import API_CRD_V1, API_V3
from ..core.yaml_doc import YamlLimits, load_yaml_documents
from .collector import READ_KINDS, READ_RESOURCES, LiveCollector
from .normalise import Where

SNAPSHOT_KIND = "CalicoIpamSnapshot"
SNAPSHOT_VERSION = 1
# Writing order of a snapshot; also the kinds the cluster reader lists.
KIND_ORDER = ("IPPool", "Installation", "IPAMConfig", "IPReservation", "Namespace", "Node",
              "BlockAffinity", "IPAMBlock")


class _JsonStream:
    """Reads one JSON file value by value without loading it whole.

    Arrays under ``items`` are decoded element by element and handed to a
    callback; everything else is small and decoded in one piece. The file is
    read in chunks, so memory stays at one element plus what the callback keeps.
    Every value goes through the one bounded decoder (``core.json_doc``):
    depth, integer length, NaN and lone surrogates are refused with the line
    and column, counted from the start of the file.
    """

    CHUNK = 1 << 20
    # Guessing stops once more than this many guesses, and a quarter of the
    # items, missed: a miss costs a search of the buffer besides reading the item.
    WRONG_GUESSES = 64

    def __init__(self, fh: IO[str], file: str, first: str = "", raw: Any = None,
                 guess: bool = True):
        self._fh = fh
        self._raw = raw  # the BoundedInput below fh: it knows whether long digit runs came
        self._file = file
        self._buf = first
        self._pos = 0
        self._eof = False
        self._decoder = DEFAULT_DECODER
        self._line = 1      # the line and 0-based column of self._buf[0]
        self._column = 0
        self._guess = guess  # False: every item is read by value(), as before the guesses
        self._wrong_guesses = 0

    def _more(self, size: int | None = None) -> bool:
        if self._eof:
            return False
        chunk = self._fh.read(size or self.CHUNK)
        if not chunk:
            self._eof = True
            return False
        self._drop(self._pos)
        self._buf = self._buf[self._pos:] + chunk
        self._pos = 0
        return True

    def _drop(self, count: int) -> None:
        """Account for the first *count* characters leaving the buffer."""
        newlines = self._buf.count("\n", 0, count)
        if newlines:
            self._line += newlines
            self._column = count - self._buf.rfind("\n", 0, count) - 1
        else:
            self._column += count

    def _where(self, pos: int) -> tuple[int, int]:
        newlines = self._buf.count("\n", 0, pos)
        if newlines:
            return self._line + newlines, pos - self._buf.rfind("\n", 0, pos)
        return self._line, self._column + pos + 1

    def _error(self, message: str, pos: int | None = None) -> InputError:
        line, column = self._where(self._pos if pos is None else pos)
        return InputError(f"not valid JSON: {message}", file=self._file, line=line,
                          column=column, rule=CIP001)

    def peek(self) -> str:
        while True:
            buf, pos = self._buf, self._pos
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            self._pos = pos
            if pos < len(buf):
                return buf[pos]
            if not self._more():
                return ""

    def expect(self, ch: str) -> None:
        got = self.peek()
        if got != ch:
            raise self._error(f"expected {ch!r}, found {got or 'end of file'!r}"
                              f"{' (the file is truncated)' if not got else ''}")
        self._pos += 1

    def value(self) -> Any:
        self.peek()
        # A value larger than the buffer is retried with the buffer doubled each
        # time, so even a huge one costs a few passes, not one per chunk.
        while True:
            try:
                raw = self._raw
                value, end = self._decoder.decode_at(
                    self._buf, self._pos, long_digits=raw is None or raw.long_digits,
                    escapes=raw is None or raw.escapes)
            except json.JSONDecodeError as exc:
                if self._more(max(self.CHUNK, len(self._buf) - self._pos)):
                    continue
                raise self._error(f"{exc.msg} (the file may be truncated)", exc.pos) from None
            except JsonError as exc:  # outside the limits: more text cannot change that
                raise self._error(exc.message, exc.pos) from None
            # A number at the very end of the buffer may continue in the next chunk.
            if end == len(self._buf) and not self._eof and self._more():
                continue
            if end - self._pos > JSON_OBJECT_BYTES.value:
                raise self._error(f"one value is larger than {JSON_OBJECT_BYTES.text}, the "
                                  "limit for one object", self._pos)
            self._pos = end
            return value

    def _guessed_value(self, separator: str) -> Any:
        """The next value when it ends where *separator* (the text between
        the two items before) says, decoded at C speed, the position then
        moved past the separator to the next item; else ``UNDECIDED``, and
        ``value`` reads it. A wrong guess (the separator inside a string, or
        a nested one) is never a wrong value: ``decode_span`` answers only for
        a span that is exactly one value."""
        buf, pos = self._buf, self._pos
        end = buf.find(separator, pos, pos + JSON_OBJECT_BYTES.value) + 1
        if end <= 0:  # not in this buffer (or too far): read by value()
            self._wrong_guesses += 1
            return UNDECIDED
        raw = self._raw
        value = self._decoder.decode_span(buf, pos, end, raw is None or raw.long_digits,
                                          raw is None or raw.escapes)
        if value is UNDECIDED:
            self._wrong_guesses += 1
        else:  # the separator holds the comma and ends with the next item's first character
            self._pos = end + len(separator) - 2
        return value

    def stream_array(self, each: Callable[[int, Any], None]) -> int:
        self.expect("[")
        index = 0
        if self.peek() == "]":
            self._pos += 1
            return 0
        # Items are usually written alike ("}\n,{" in a snapshot, "},\n    {"
        # from kubectl): the text from one item's last character to the next
        # one's first says where the following items end. A file where that
        # keeps failing is read value by value, as before.
        separator = ""
        guessing = self._guess
        while True:
            if separator and guessing:
                value = self._guessed_value(separator)
                if value is not UNDECIDED:
                    each(index, value)
                    index += 1
                    continue
                guessing = (self._wrong_guesses <= self.WRONG_GUESSES
                            or self._wrong_guesses * 4 <= index)
            buf = self._buf
            value = self.value()
            end = self._pos
            each(index, value)
            index += 1
            ch = self.peek()
            if ch == ",":
                self._pos += 1
                if self.peek() and self._buf is buf:  # both ends in one buffer
                    between = buf[end - 1:self._pos + 1]
                    if between[1:-1].strip(" \t\r\n") == ",":
                        separator = between
                continue
            self.expect("]")
            return index

    def stream_top(self, each: Callable[[int, Any], None]) -> dict:
        """One top-level object: its ``items`` go to *each*, the rest is returned."""
        if self.peek() != "{":
            at = self._pos
            value = self.value()
            raise InputError(f"expected a JSON object at the top, got {type(value).__name__}",
                             file=self._file, line=self._where(at)[0], rule=CIP001)
        self._pos += 1
        header: dict = {}
        if self.peek() == "}":
            self._pos += 1
            return header
        while True:
            at = self._pos
            key = self.value()
            if not isinstance(key, str):
                raise self._error("object keys must be strings", at)
            self.expect(":")
            if key == "items" and self.peek() == "[":
                header["items"] = self.stream_array(each)
            else:
                header[key] = self.value()
            if self.peek() == ",":
                self._pos += 1
                continue
            self.expect("}")
            return header

    def at_end(self) -> bool:
        return self.peek() == ""


def _check_header(header: Mapping, file: str, where: Where,
                  collector: LiveCollector) -> tuple[str | None, str | None]:
    """(source, calicoApi) of a snapshot header; List headers give (None, None).
    The kinds in its ``counts`` were listed (an empty list means none exist)."""
    kind = header.get("kind")
    if kind == SNAPSHOT_KIND:
        if isinstance(header.get("counts"), dict):
            collector.mark_listed(header["counts"])
        if header.get("version") != SNAPSHOT_VERSION:
            raise InputError(f"unsupported {SNAPSHOT_KIND} version {header.get('version')!r} "
                             f"(this calico-ipam reads version {SNAPSHOT_VERSION})",
                             file=file, path=tuple(where) + ("version",))
        api = header.get("calicoApi")
        if api not in (None, API_V3, API_CRD_V1):
            raise InputError(f"calicoApi must be {API_V3} or {API_CRD_V1}, got {api!r}",
                             file=file, path=tuple(where) + ("calicoApi",))
        source = header.get("source")
        return (source if isinstance(source, str) else None), api
    return None, None


def _read_json(stream: _JsonStream, file: str,
               collector: LiveCollector) -> tuple[str | None, str | None]:
    source = api = None
    doc = 0
    while not stream.at_end():
        where: Where = (f"document {doc}",) if doc else ()
        header = stream.stream_top(
            lambda i, obj, w=where: collector.add(obj, file, tuple(w) + ("items", i)))
        kind = header.get("kind")
        if "items" in header:
            if kind not in (SNAPSHOT_KIND, "List") and not str(kind).endswith("List"):
                raise InputError(f"expected kind {SNAPSHOT_KIND} or List, got {kind!r}",
                                 file=file, path=tuple(where) + ("kind",))
            if not isinstance(header["items"], int):  # "items" was not an array
                raise InputError("items must be a list", file=file, path=tuple(where) + ("items",))
        else:
            collector.add(header, file, where)
        s, a = _check_header(header, file, where, collector)
        source, api = s or source, a or api
        doc += 1
    if doc == 0:
        raise InputError("the file is empty", file=file, rule=CIP001)
    return source, api


# YAML snapshots are kubectl output: large, so no source map; the stack files'
# refusals (self-aliases, alias bombs, depth, long integers, unsafe tags) apply.
SNAPSHOT_YAML = YamlLimits(what="snapshots", values=SNAPSHOT_VALUES, positions=False)


def _read_yaml(text: str, file: str, collector: LiveCollector) -> tuple[str | None, str | None]:
    source = api = None
    docs = 0
    for n, document in enumerate(load_yaml_documents(text, file=file, limits=SNAPSHOT_YAML)):
        doc = document.data
        if doc is None:
            continue
        docs += 1
        where: Where = (f"document {n}",) if n else ()
        if isinstance(doc, Mapping) and "items" in doc:
            items = doc["items"]
            kind = doc.get("kind")
            if kind != SNAPSHOT_KIND and not str(kind).endswith("List"):
                raise InputError(f"expected kind {SNAPSHOT_KIND} or List, got {kind!r}",
                                 file=file, path=tuple(where) + ("kind",))
            if not isinstance(items, list):
                raise InputError("items must be a list", file=file,
                                 path=tuple(where) + ("items",))
            for i, obj in enumerate(items):
                collector.add(obj, file, tuple(where) + ("items", i))
            s, a = _check_header(doc, file, where, collector)
            source, api = s or source, a or api
        else:
            collector.add(doc, file, where)
    if docs == 0:
        raise InputError("the file is empty", file=file, rule=CIP001)
    return source, api


def _read_one(path: str, collector: LiveCollector) -> tuple[str | None, str | None]:
    """One snapshot file (or a pipe: ``--snapshot /dev/stdin``), JSON or YAML
    by its first character; a byte-order mark is dropped."""
    file = printable_path(path)
    try:
        raw = open_input(path, limit=SNAPSHOT_JSON_BYTES, pipe=True, display=file)
    except InputError as exc:
        problem = InputError(f"cannot read the snapshot: {exc.message}", file=file, rule=CIP001)
    else:
        problem = None
    if problem is not None:
        raise problem  # outside the except: one error, not two chained
    with raw:
        fh = text_stream(raw)
        try:
            first = fh.read(_JsonStream.CHUNK)
            start = first.lstrip(" \t\r\n")[:1]
            if not start:
                raise InputError("the file is empty", file=file, rule=CIP001)
            if start in ("{", "["):
                return _read_json(_JsonStream(fh, file, first, raw), file, collector)
            most = SNAPSHOT_YAML_BYTES.value
            text = first + fh.read(most + 1 - len(first))
            if len(text) > most or raw.count > most:
                raise InputError(f"is larger than {SNAPSHOT_YAML_BYTES.text}, the limit for a "
                                 "YAML snapshot; use calico-ipam snapshot or kubectl -o json",
                                 file=file, rule=CIP001)
            return _read_yaml(text, file, collector)
        except UnicodeDecodeError as exc:
            raise InputError(f"is not UTF-8 text (byte {raw.count - len(exc.object) + exc.start} "
                             "or near it)", file=file, rule=CIP001) from None


def read_snapshot_files(paths: Sequence[str], collector: LiveCollector) -> tuple[str | None, str | None]:
    """Feed every object of *paths* (JSON or YAML) into *collector*."""
    source = api = None
    for path in paths:
        s, a = _read_one(path, collector)
        source, api = s or source, a or api
    return source, api


def load_snapshot(path: str | Sequence[str]) -> LiveState:
    """A LiveState from a snapshot file or kubectl List output (one or several files)."""
    paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    collector = LiveCollector()
    with paused_gc():  # many small acyclic objects (see core.gc)
        source, api = read_snapshot_files([os.fspath(p) for p in paths], collector)
    label = ", ".join(printable_path(os.path.basename(os.fspath(p))) for p in paths)
    if collector.only_ignored():
        # kubectl output of the wrong kinds (pods) is not an empty cluster:
        # planned as one, every declared pool would look new.
        raise InputError(f"holds only objects of kinds calico-ipam does not read "
                         f"({collector.ignored_kinds()}), so it is not a cluster's IPAM state; "
                         f"calico-ipam reads {', '.join(READ_KINDS)}: kubectl get "
                         f"{','.join(READ_RESOURCES)} -o json",
                         file=", ".join(printable_path(p) for p in paths), rule=CIP001)
    return collector.result(f"snapshot {label}" + (f" of {source}" if source else ""), api)


@dataclass(frozen=True)
class SnapshotFiles:
    """Snapshot files or kubectl List output as a live source (``--snapshot FILE``)."""

    paths: tuple[str, ...]

    def read(self) -> LiveState:
        return load_snapshot(self.paths)


def slim_object(kind: str, obj: Mapping, api_version: str) -> dict:
    """The raw object as a snapshot keeps it: kind and apiVersion set (list
    items lack them), managedFields dropped, and a Node's spec and status
    dropped (only its name and labels matter; they are most of its size)."""
    out = dict(obj)
    out["apiVersion"] = obj.get("apiVersion") or api_version
    out["kind"] = kind
    meta = dict(out.get("metadata") or {})
    meta.pop("managedFields", None)
    out["metadata"] = meta
    if kind == "Node":
        out.pop("spec", None)
        out.pop("status", None)
    return out


@dataclass
class RawSnapshot:
    """Raw objects as read from a cluster, ready for ``write_snapshot``."""

    source: str
    calico_api: str
    objects: list = field(default_factory=list)


def object_json(obj: Any) -> bytes:
    """*obj* as one line of a snapshot: the bytes of
    ``json.dumps(obj, separators=(",", ":"), sort_keys=True)``, which every
    snapshot was written with (so the files stay the same, byte for byte).

    msgspec's C encoder writes the same text several times faster, except
    where the two differ: floats (``1e-05`` against ``0.00001``, ``NaN``
    against ``null``), characters outside printable ASCII (json escapes
    them as ``\\uXXXX``, msgspec writes UTF-8 and a raw DEL), and what
    msgspec refuses (keys that are not strings, lone surrogates, ints past
    64 bits in msgpack, deep nesting).
    Those objects are written by json itself: a float shows up as the
    float64 marker 0xcb in the object's msgpack form, which is never
    missing for a float (msgspec encodes every float as a float64) and
    seldom there without one (then json writes it, which is only slower).
    """
    json_encode, msgpack_encode = _encoders()
    try:
        out = json_encode(obj)
        exact = out.isascii() and b"\x7f" not in out and b"\xcb" not in msgpack_encode(obj)
    except Exception:  # whatever msgspec refuses, json decides (and fails as it always did)
        exact = False
    if exact:
        return out
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode("ascii")


@functools.lru_cache(maxsize=None)
def _encoders() -> tuple[Callable[[Any], bytes], Callable[[Any], bytes]]:
    """msgspec's JSON encoder (keys sorted, as ``sort_keys``) and its msgpack
    encoder; imported on the first object, as only ``snapshot`` writes one."""
    import msgspec

    return msgspec.json.Encoder(order="sorted").encode, msgspec.msgpack.Encoder().encode


class SnapshotWriter:
    """Collects a snapshot's objects while a cluster is read; ``write_to``
    writes the document once the whole read succeeded.

    Objects are spooled per kind to temporary files, so ``start(kind)`` can
    drop a kind's objects when a list restarts, and memory stays flat. Each
    is spooled as its finished line, ``,<object JSON>\\n`` (ASCII), and the
    spools are copied out in large chunks.
    """

    COPY_CHUNK = 1 << 20

    def __init__(self) -> None:
        self._spools: dict[str, IO[bytes]] = {}
        self._counts: Counter = Counter()

    def start(self, kind: str) -> None:
        spool = self._spools.get(kind)
        if spool is not None:
            spool.seek(0)
            spool.truncate()
        self._counts[kind] = 0

    def skip(self, kind: str, why: str) -> None:
        """A kind that could not be read is left out of ``counts`` too: the
        snapshot then says nothing about it."""
        spool = self._spools.pop(kind, None)
        if spool is not None:
            spool.close()
        self._counts.pop(kind, None)

    def add(self, obj: Mapping) -> None:
        kind = obj["kind"]
        spool = self._spools.get(kind)
        if spool is None:
            # a buffer of many lines: a block's line is larger than the default 8 KiB,
            # which would make one write call per block
            spool = self._spools[kind] = tempfile.TemporaryFile("w+b", buffering=self.COPY_CHUNK)
        spool.write(b"," + object_json(obj) + b"\n")
        self._counts[kind] += 1

    def write_to(self, out: IO[str], source: str, calico_api: str) -> None:
        out.write("{" + f'"kind":"{SNAPSHOT_KIND}","version":{SNAPSHOT_VERSION},'
                  f'"source":{json.dumps(source)},"calicoApi":{json.dumps(calico_api)},'
                  f'"counts":{json.dumps(dict(sorted(self._counts.items())))},\n"items":[\n')
        first = True
        kinds = [k for k in KIND_ORDER if k in self._spools] + sorted(
            k for k in self._spools if k not in KIND_ORDER)
        for kind in kinds:
            spool = self._spools[kind]
            spool.seek(0)
            if first and spool.read(1):  # the first object of all has no comma before it
                first = False
            while chunk := spool.read(self.COPY_CHUNK):
                out.write(chunk.decode("ascii"))
        out.write("]}\n")

    def close(self) -> None:
        for spool in self._spools.values():
            spool.close()
        self._spools.clear()


def write_snapshot(live_raw: RawSnapshot, out: IO[str]) -> None:
    """Write raw objects as a ``CalicoIpamSnapshot`` document to *out*."""
    writer = SnapshotWriter()
    try:
        for obj in live_raw.objects:
            writer.add(obj)
        writer.write_to(out, live_raw.source, live_raw.calico_api)
    finally:
        writer.close()
