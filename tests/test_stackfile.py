"""Loading stack files: malformed input gets one clear line, never a traceback.

Each file in tests/data/stacks/malformed/ states what the user must be told
in ``# expect:`` comments (``:N:`` means "points at line N").
"""
from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest

from ipam_model import cli
from ipam_model.errors import InputError
from ipam_model.stack import load_stack
from ipam_model.stackfile import MAX_FILE_BYTES, load_yaml_text

MALFORMED = Path(__file__).parent / "data" / "stacks" / "malformed"
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
