"""Snapshot files as hostile input (issue 9, "Snapshot content", "Text",
"Recursion", "Files"): kubectl output of kinds calico-ipam does not read is
not an empty cluster, the ignored-kinds note is printed, a byte-order mark is
not "truncated", and a pipe (``--snapshot /dev/stdin``) is read. And the
writer: the same bytes as json.dumps wrote (issue 11, point 5)."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paths import DATA, ROOT

from ipam_model import cli
from ipam_model.core.errors import InputError
from ipam_model.core.model import API_V3
from ipam_model.live import snapshot_file
from ipam_model.live.snapshot_file import (
    KIND_ORDER,
    SnapshotWriter,
    load_snapshot,
    object_json,
)

SNAPSHOT = DATA / "plan" / "snapshot.json"
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0", "namespace": "web"}}


def plan(capsys, snapshot, *extra):
    code = cli.main(["plan", "--stack", "dev", "--stacks", str(ROOT / "stacks"),
                     "--snapshot", str(snapshot), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_file_of_pods_is_not_planned_as_an_empty_cluster(tmp_path, capsys):
    path = tmp_path / "pods.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [POD, POD]}))
    code, out, err = plan(capsys, path)
    assert code == 1 and out == ""
    assert "holds only objects of kinds calico-ipam does not read (Pod (2))" in err
    assert "No changes" not in out + err and err.count("\n") == 1


def test_the_ignored_kinds_note_is_printed(tmp_path, capsys):
    data = json.loads(SNAPSHOT.read_text())
    data["items"].append(POD)
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(data))
    code, out, err = plan(capsys, path)
    assert "note: snapshot snap.json" in err
    assert "ignored objects of kinds calico-ipam does not read: Pod (1)" in err


def test_a_byte_order_mark_is_read_like_the_file_without_it(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + SNAPSHOT.read_bytes())
    assert sorted(load_snapshot(str(path)).pools) == sorted(load_snapshot(str(SNAPSHOT)).pools)


@pytest.mark.parametrize("text,words", [
    ('{"kind": "List", "items": [{"kind": "Node", "metadata": {"name": "\\udc00"}}]}',
     r"bad.json:1:\d+: not valid JSON: a string holds a lone UTF-16 surrogate"),
    ('{"kind": "List", "items": [' + "[" * 500 + "]" * 500 + "]}",
     r"bad.json:1:\d+: not valid JSON: nested deeper than 100 levels"),
    ('{"kind": "List", "items": [{"kind": "Node", "n": 1' + "0" * 5000 + "}]}",
     r"bad.json:1:\d+: not valid JSON: an integer of 5,001 digits"),
    ('{"kind": "List", "items": [{"kind": "Node", "n": NaN}]}',
     r"bad.json:1:\d+: not valid JSON: NaN is not a JSON number"),
    ("kind: List\nitems: &a [*a]\n", r"bad.json:2:\d+: .*refers to its own anchor"),
    (b"\xff\xfe{}", r"bad.json: is not UTF-8 text"),
])
def test_hostile_snapshot_text_is_one_located_error(tmp_path, text, words):
    path = tmp_path / "bad.json"
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    with pytest.raises(InputError, match=words):
        load_snapshot(str(path))


def test_a_snapshot_from_a_pipe_is_read():
    """``kubectl get ... -o json | calico-ipam plan --snapshot /dev/stdin``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    result = subprocess.run(
        [sys.executable, "-P", "-c", "import sys; from ipam_model.cli import main; "
         "sys.exit(main())", "plan", "--stack", "dev", "--snapshot", "/dev/stdin"],
        cwd=ROOT, env=env, input=SNAPSHOT.read_bytes(), capture_output=True, timeout=60)
    assert result.returncode in (0, 1) and b"Traceback" not in result.stderr
    assert b"Plan:" in result.stdout or b"No changes" in result.stdout, result.stderr


def test_a_long_integer_across_two_reads_is_still_refused(tmp_path):
    """The reader notes long digit runs as bytes arrive (1 MiB at a time); a
    run split between two reads counts too."""
    head = '{"kind": "List", "source": "'
    number = "1" * 25
    pad = (1 << 20) - len(head) - len('", "items": [{"kind": "Node", "n": ') - 10
    text = head + "x" * pad + '", "items": [{"kind": "Node", "n": ' + number + "}]}"
    assert text.index(number) < (1 << 20) < text.index(number) + len(number)
    path = tmp_path / "split.json"
    path.write_text(text)
    with pytest.raises(InputError, match="an integer of 25 digits is too long"):
        load_snapshot(str(path))


# The streaming reader guesses where an item ends from the separator before
# it and decodes the guess with msgspec (issue 11, point 5). Whatever the
# layout, the items and every refusal must be those of the item-by-item reader.

ITEM_LAYOUTS = [{"separators": (",", ":")}, {}, {"indent": 4}, {"ensure_ascii": False}]
HOSTILE_ITEMS = ['{"kind": "Node", "n": NaN}', '{"kind": "Node", "n": 1' + "0" * 30 + "}",
                 '{"kind": "Node", "s": "\\ud800"}', '{"kind": "Node", "d": ' + "[" * 101
                 + "]" * 101 + "}", '{"kind": "Node", "n": 1e400}', '{"kind": "Node" "x": 1}',
                 '{"kind": "Node", "s": "}\\n,{"}', '{"kind": "Node", "s": "},{\\"a\\": 1"}']
ITEMS = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**64) | st.floats(allow_nan=False)
    | st.text(alphabet="ab{}[],:\"\\\n é", max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text("abk", max_size=3),
                                                                inner, max_size=3),
    max_leaves=12)


def stream_items(text: str, *, guess: bool):
    """(items, refusal) as the streaming reader hands them over."""
    stream = snapshot_file._JsonStream(io.StringIO(text), "s.json", guess=guess)
    items: list = []
    try:
        stream.stream_top(lambda i, obj: items.append(repr(obj)))
    except InputError as exc:
        return items, str(exc)
    return items, None


@settings(max_examples=150, deadline=None)
@given(st.lists(ITEMS | st.sampled_from(HOSTILE_ITEMS), min_size=1, max_size=8),
       st.sampled_from([",", ",\n", "\n,", ",\n    ", " , "]), st.sampled_from(ITEM_LAYOUTS),
       st.integers(1, 200))
def test_guessed_items_are_the_items_and_refusals_of_the_item_by_item_reader(
        items, separator, layout, chunk):
    text = '{"kind": "List", "items": [' + separator.join(
        item if isinstance(item, str) and item in HOSTILE_ITEMS else json.dumps(item, **layout)
        for item in items) + "]}"
    old = snapshot_file._JsonStream.CHUNK
    snapshot_file._JsonStream.CHUNK = chunk
    try:
        fast, slow = stream_items(text, guess=True), stream_items(text, guess=False)
    finally:
        snapshot_file._JsonStream.CHUNK = old
    assert fast == slow
    if slow[1] is None:
        assert slow[0] == [repr(item) for item in json.loads(text)["items"]]


@pytest.mark.parametrize("hostile", HOSTILE_ITEMS)
@pytest.mark.parametrize("separator", [",\n", "\n,"])
def test_a_hostile_item_among_guessed_ones_is_refused_as_before(hostile, separator):
    good = [json.dumps({"kind": "Node", "metadata": {"name": f"n{i}"}}) for i in range(3)]
    text = '{"kind": "List", "items": [' + separator.join(good + [hostile] + good) + "]}"
    fast, slow = stream_items(text, guess=True), stream_items(text, guess=False)
    assert fast == slow
    assert len(fast[0]) == 7 or fast[1] is not None  # the two strings and 1e400 are items


def test_guessing_stops_where_the_items_are_written_unlike_each_other():
    """Separators that alternate make every guess miss (and search the buffer):
    after WRONG_GUESSES misses the items are read one by one, the same items."""
    items = [{"kind": "Node", "metadata": {"name": f"n{i}"}} for i in range(400)]
    text = '{"kind": "List", "items": [' + "".join(
        (", " if i % 2 else ",\n") * (i > 0) + json.dumps(item)
        for i, item in enumerate(items)) + "]}"
    stream = snapshot_file._JsonStream(io.StringIO(text), "s.json")
    got: list = []
    stream.stream_top(lambda i, obj: got.append(obj))
    assert got == items
    assert stream._wrong_guesses == snapshot_file._JsonStream.WRONG_GUESSES + 1


def test_a_snapshot_written_by_calico_ipam_is_read_by_guesses(tmp_path, monkeypatch):
    """The fast path is the one real snapshots take (``write_snapshot``: one
    object a line): only the header and the first item are read value by value."""
    nodes = [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"n{i}",
                                                               "labels": {"zone": "a"}}}
             for i in range(40)]
    path = tmp_path / "snap.json"
    with open(path, "w", encoding="utf-8") as out:
        snapshot_file.write_snapshot(snapshot_file.RawSnapshot("s", "projectcalico.org/v3",
                                                               nodes), out)
    calls = []
    real = snapshot_file._JsonStream.value
    monkeypatch.setattr(snapshot_file._JsonStream, "value",
                        lambda self: calls.append(1) or real(self))
    state = load_snapshot(str(path))
    assert sorted(state.nodes) == sorted(f"n{i}" for i in range(40))
    assert len(calls) <= 12 + 1  # 6 header keys, 5 header values, the first item


# -- writing (calico-ipam snapshot) ------------------------------------------
# Snapshots have always been written with json.dumps(separators=(",", ":"),
# sort_keys=True), one object a line; the writer encodes with msgspec where
# that gives the same bytes. json.dumps is the oracle.

def json_line(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode("ascii")


JSON_TEXT = st.text(st.characters(blacklist_categories=()), max_size=8)  # surrogates too
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(-2 ** 70, 2 ** 70)
    | st.floats() | JSON_TEXT | st.sampled_from(["\x7f", "\x00\x1f\b\f\n\r\t\"\\/", "é", "日本"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(JSON_TEXT, inner, max_size=4),
    max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(obj=st.dictionaries(JSON_TEXT, JSON_VALUES, max_size=6))
def test_an_object_is_written_as_json_dumps_writes_it(obj):
    assert object_json(obj) == json_line(obj)


@pytest.mark.parametrize("obj", [
    {"f": 1e-05}, {"f": 1e16}, {"f": 0.5}, {"f": float("nan")}, {"f": float("-inf")},
    {"s": "é"}, {"s": "\x7f"}, {"s": "\ud800"}, {"s": "😀"}, {"é": 1, "e": 2},
    {"i": 2 ** 64}, {"i": -2 ** 63 - 1}, {"i": 10 ** 30}, {"a": {1: "x", 2: "y"}},
    {"z": [{"b": None, "a": True}], "a": []}, {"s": "\x00\x01\x1f\b\f\n\r\t\"\\/<>&"},
    {"len203": "x" * 203}, {"n": 203}, {"n": 52171},  # 0xcb in msgpack, no float: json writes
    {'"': 1, "A": 2, "\\": 3, "]": 4, "\x01": 5, "\n": 6, " ": 7},  # sorted as written, unescaped
])
def test_what_msgspec_writes_differently_is_written_by_json(obj):
    assert object_json(obj) == json_line(obj)


def test_an_ordinary_block_does_not_go_through_json(monkeypatch):
    """The fast path is taken for what a cluster holds (ASCII, no floats)."""
    block = {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPAMBlock",
             "metadata": {"name": "10-16-0-0-26", "resourceVersion": "42"},
             "spec": {"cidr": "10.16.0.0/26", "affinity": "host:node-0", "deleted": False,
                      "allocations": [0, 1, None], "unallocated": [2],
                      "attributes": [{"handle_id": "k8s-pod-network.03e8", "secondary": {
                          "namespace": "team-1", "node": "node-0", "pod": "app-0",
                          "timestamp": "2026-01-10 09:00:01.1 +0000 UTC"}}, {}]}}
    expected = json_line(block)
    monkeypatch.setattr(snapshot_file.json, "dumps", None)  # would fail if called
    assert object_json(block) == expected


def written_by_json(objects, starts, skipped, source, api) -> str:
    """The snapshot document as the writer wrote it with json.dumps (the oracle)."""
    by_kind: dict[str, list] = {}
    counts: dict[str, int] = {}
    for obj, restart in zip(objects, starts):
        if restart:
            by_kind[obj["kind"]] = []
        by_kind.setdefault(obj["kind"], []).append(obj)
    for kind in skipped:
        by_kind.pop(kind, None)
    counts = {kind: len(objs) for kind, objs in by_kind.items()}
    order = [k for k in KIND_ORDER if k in by_kind] + sorted(k for k in by_kind
                                                             if k not in KIND_ORDER)
    lines = [json_line(o).decode() + "\n" for kind in order for o in by_kind[kind]]
    return ("{" + f'"kind":"CalicoIpamSnapshot","version":1,"source":{json.dumps(source)},'
            f'"calicoApi":{json.dumps(api)},"counts":{json.dumps(dict(sorted(counts.items())))}'
            ',\n"items":[\n' + ",".join(lines) + "]}\n")


@settings(max_examples=60, deadline=None)
@given(items=st.lists(st.tuples(st.sampled_from(["IPAMBlock", "Node", "IPPool", "Widget"]),
                                JSON_VALUES, st.booleans()), max_size=12),
       skipped=st.sets(st.sampled_from(["Node", "Widget"]), max_size=1))
def test_the_snapshot_document_is_written_as_before(items, skipped):
    """Kinds in the reader's order, a restarted list keeping only its last
    pass, a skipped kind left out of items and counts."""
    objects = [{"kind": kind, "spec": value} for kind, value, _ in items]
    starts = [restart for _, _, restart in items]
    writer = SnapshotWriter()
    try:
        for obj, restart in zip(objects, starts):
            if restart:
                writer.start(obj["kind"])
            writer.add(obj)
        for kind in skipped:
            writer.skip(kind, "forbidden")
        out = io.StringIO()
        writer.write_to(out, "cluster é:6443", API_V3)
    finally:
        writer.close()
    assert out.getvalue() == written_by_json(objects, starts, skipped, "cluster é:6443", API_V3)
    if objects and set(o["kind"] for o in objects) - skipped:
        assert json.loads(out.getvalue())["kind"] == "CalicoIpamSnapshot"
