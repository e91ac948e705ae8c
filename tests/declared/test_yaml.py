"""Loading stack files: malformed input gets one clear line, never a traceback.

Each file in tests/data/stacks/malformed/ states what the user must be told
in ``# expect:`` comments (``:N:`` means "points at line N").
"""
from __future__ import annotations

import contextlib
import gc
import io
import shutil
from pathlib import Path

import pytest
from paths import DATA

from ipam_model import cli
from ipam_model.core.errors import InputError
from ipam_model.declared.files import load_stack
from ipam_model.declared.yaml import MAX_FILE_BYTES, load_yaml_text

MALFORMED = DATA / "stacks" / "malformed"
FIXTURES = sorted(MALFORMED.glob("*.yaml"))
IMPLICIT = {"empty.yaml": ["file is empty"]}


def expectations(path: Path) -> list[str]:
    found = [line.split("# expect:", 1)[1].strip()
             for line in path.read_text(encoding="utf-8").splitlines()
             if line.startswith("# expect:")]
    return found or IMPLICIT[path.name]


def install(tmp_path: Path, source: Path | None = None, data: bytes | None = None) -> Path:
    target = tmp_path / "Pulumi.bad.yaml"
    if source is not None:
        shutil.copyfile(source, target)
    else:
        target.write_bytes(data)
    return target


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def assert_expected(message: str, expected: list[str]) -> None:
    assert "Pulumi.bad.yaml" in message, message
    for item in expected:
        if item.startswith(":") and item.endswith(":"):
            assert f"Pulumi.bad.yaml{item}" in message, (item, message)
        else:
            assert item in message, (item, message)


def test_there_are_at_least_thirty_malformed_fixtures():
    assert len(FIXTURES) >= 30


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_malformed_stack_file_is_one_clear_error(tmp_path, fixture):
    path = install(tmp_path, fixture)
    with pytest.raises(InputError) as info:
        load_stack(path)
    assert_expected(str(info.value), expectations(fixture))
    assert gc.isenabled()  # loading pauses the collector; a refusal must resume it


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_malformed_stack_file_through_check_exits_2_with_one_line(tmp_path, fixture):
    install(tmp_path, fixture)
    code, out, err = run_cli("check", "--stacks", str(tmp_path))
    assert code == 2
    assert "Traceback" not in err + out
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert_expected(lines[0], expectations(fixture))


@pytest.mark.parametrize("data, expected", [
    (b"config:\n  calico-ipam:pools: {}\n\x00\x01", "is a binary file, not YAML"),
    (b"config:\n  calico-ipam:pools:\n    a: {cidr: \"10.0.0.0/24\xff\"}\n", "is not UTF-8 text"),
], ids=["binary", "not-utf8"])
def test_binary_and_undecodable_files_are_refused(tmp_path, data, expected):
    path = install(tmp_path, data=data)
    with pytest.raises(InputError, match=expected):
        load_stack(path)


def test_oversized_file_is_refused_before_parsing(tmp_path):
    path = install(tmp_path, data=b"#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(InputError, match="larger than"):
        load_stack(path)


def test_missing_file_and_directory_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_stack(tmp_path / "Pulumi.nope.yaml")
    with pytest.raises(InputError, match="is a directory"):
        load_stack(tmp_path)


def test_source_map_records_lines_of_keys_and_items():
    doc = load_yaml_text("config:\n  pools:\n    - a\n    - b: 1\n", file="x.yaml")
    assert doc.source[("config",)] == (1, 1)
    assert doc.source[("config", "pools")] == (2, 3)
    assert doc.position(("config", "pools", 1, "b"))[0] == 4
    assert doc.position(("config", "pools", 7)) == (2, 3)  # unknown index: nearest parent


def test_scalars_keep_yaml_types():
    doc = load_yaml_text("a: 29\nb: '29'\nc: true\nd: null\ne: 1.5\n", file="x.yaml")
    assert doc.data == {"a": 29, "b": "29", "c": True, "d": None, "e": 1.5}


def test_anchors_without_merge_keys_are_expanded():
    doc = load_yaml_text("a: &x [1, 2]\nb: *x\n", file="x.yaml")
    assert doc.data == {"a": [1, 2], "b": [1, 2]}


# --- The fast loader against the plain one ---------------------------------
#
# stackfile.py takes shortcuts for speed (PyYAML's resolver bypassed for
# scalars that cannot be anything but strings, string scalars built inline,
# other scalars constructed once per text). The reference below is the
# straightforward loader it replaced: PyYAML's own resolver and constructor,
# one recursive call per node. Both must agree on every value, every source
# map entry and every refusal.

import string  # noqa: E402

import yaml  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from reference_loader import reference_load  # noqa: E402

from ipam_model.declared import yaml as stackfile


def outcome(load, text: str):
    """What a user sees from a loader: the value and source map, or the error."""
    try:
        return ("ok", *load(text))
    except InputError as exc:
        return ("error", str(exc), exc.rule, exc.location)
    except Exception as exc:  # noqa: BLE001 - e.g. `!!int x`: must fail the same way
        return ("crash", type(exc).__name__, str(exc))


def fast(text):
    doc = load_yaml_text(text, file="Pulumi.x.yaml")
    return doc.data, dict(doc.source)


def plain(text):
    # the reference has no file-level checks; those are the same code in both
    try:
        nodes = [n for n in yaml.compose_all(text, Loader=yaml.CSafeLoader) if n is not None]
    except yaml.YAMLError:
        return fast(text)
    if len(nodes) != 1:
        return fast(text)
    return reference_load(text, "Pulumi.x.yaml")


def assert_same_for_the_user(text):
    new, old = outcome(fast, text), outcome(plain, text)
    if old[0] == "crash":
        # The reference loader crashed with a traceback (`!!int "x"`); the loader
        # must refuse the value with one clear error instead.
        assert new[0] == "error", new
    else:
        assert new == old


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_fast_loader_matches_the_plain_one_on_malformed_fixtures(fixture):
    assert_same_for_the_user(fixture.read_text(encoding="utf-8"))


@pytest.mark.parametrize("text", [
    # the expansion bound hit on a string inside a list, a mapping value, a number
    "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e]\n",
    "a: &a {k0: v, k1: v, k2: v, k3: v, k4: v, k5: v, k6: v, k7: v, k8: v, k9: v}\n"
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d]\n",
    "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e]\n",
    # keys that are not strings, a "<key>" key, explicit tags, bad values
    "1: a\ntrue: b\nnull: c\n1.5: d\n'<key>': e\n2: {3: f}\n",
    "a: !!str 12\nb: !!int '12'\nc: !!float 1\nd: !!binary aGVsbG8=\ne: 2001-12-14\n",
    "a: !!binary '%%%'\n", "a: !!int 'x'\n", "a: !!set {x}\n", "a: !!omap [b: 1]\n",
    "a: &x 1\nb: *x\nc: *x\n", "a: [1, 1, true, true, null, ~, '', x]\na: 2\n",
    "{a: 1, a: 2}\n", "- [a, {b: c, b: d}]\n", "a:\n  <<: {b: 1}\n", "? [a]\n: 1\n",
    "a: !custom 1\n", "a: !!python/name:os.system x\n", "- 0x1F\n- 0o17\n- 1_000\n- .inf\n",
])
def test_fast_loader_matches_the_plain_one_on_edge_cases(text):
    assert_same_for_the_user(text)


_SCALAR_TEXT = st.text(alphabet=string.ascii_letters[:8] + "tTrRuUeEfFaAlLsSnNoOyY~"
                       + string.digits + "+-._:/ xXeE<=!&*", max_size=12)
_KEYS = st.one_of(_SCALAR_TEXT, st.integers(-5, 5), st.booleans())
_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=False), _SCALAR_TEXT)
_DOCUMENTS = st.recursive(
    _LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                     st.dictionaries(_KEYS, inner, max_size=5)),
    max_leaves=40)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_DOCUMENTS, flow=st.sampled_from([False, True, None]))
def test_fast_loader_matches_the_plain_one_on_random_documents(data, flow):
    text = yaml.safe_dump({"config": data}, default_flow_style=flow)
    assert_same_for_the_user(text)


@settings(max_examples=500, deadline=None)
@given(value=st.one_of(_SCALAR_TEXT, st.text(max_size=8)), plain_style=st.booleans())
def test_resolver_shortcut_gives_pyyaml_tags(value, plain_style):
    implicit = (plain_style, not plain_style)
    ours = stackfile.Loader("")
    theirs = yaml.CSafeLoader("")
    for _ in range(2):  # second call answers from the per-document memo
        assert (ours.resolve(yaml.ScalarNode, value, implicit)
                == theirs.resolve(yaml.ScalarNode, value, implicit))


def test_loading_leaves_the_garbage_collector_as_it_was():
    assert gc.isenabled()
    load_yaml_text("a: 1\n", file="x.yaml")
    assert gc.isenabled()
    with pytest.raises(InputError):
        load_yaml_text("a: 1\na: 2\n", file="x.yaml")
    assert gc.isenabled()
    gc.disable()
    try:
        load_yaml_text("a: 1\n", file="x.yaml")
        assert not gc.isenabled()
    finally:
        gc.enable()
