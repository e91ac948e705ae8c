"""Stack files as the CLI finds and reads them (issue 9, "Files", "Numbers",
"Text"): whatever is named like a stack file is read or refused, never skipped;
a stack declared by both .yaml and .yml is an error naming both; counts have a
documented maximum; integer-valued floats are refused; a name that is not
UTF-8 is shown escaped and breaks neither SARIF nor render."""
from __future__ import annotations

import json
import os
import re

import pytest
from paths import ROOT

from ipam_model import cli

DEV = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()


def check(capsys, stacks, *extra):
    code = cli.main(["check", "--stacks", str(stacks), *extra])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("make,words", [
    (lambda p: os.symlink(p.parent / "gone.yaml", p), "which does not exist"),
    (lambda p: p.mkdir(), "is a directory, not a file"),
    (lambda p: os.mkfifo(p), r"is a named pipe \(FIFO\), not a file"),
])
def test_what_is_named_like_a_stack_file_is_never_skipped(tmp_path, capsys, make, words):
    (tmp_path / "Pulumi.dev.yaml").write_text(DEV)
    make(tmp_path / "Pulumi.broken.yaml")
    code, out, err = check(capsys, tmp_path)
    assert code == 2
    assert re.search(r"Pulumi\.broken\.yaml: .*" + words, err), err


def test_yaml_and_yml_of_one_stack_is_an_error_naming_both(tmp_path, capsys):
    (tmp_path / "Pulumi.dev.yaml").write_text(DEV)
    (tmp_path / "Pulumi.dev.yml").write_text(DEV)
    code, out, err = check(capsys, tmp_path)
    assert code == 2
    assert "Pulumi.dev.yaml" in err and "Pulumi.dev.yml declares the same stack" in err


@pytest.mark.parametrize("old,new,words", [
    ("count: 3", "count: 3.0",
     r"nodeGroups\[0\].count: 3.0 is a number, expected an integer \(write 3\)"),
    ("count: 3", "count: 1000000000000", "nodeGroups\\[0\\].count: .*100000"),
    ("count: 3", "count: 1" + "0" * 5000, "an integer of 5,001 digits is too long"),
    ("maxPods: 110", "maxPods: .nan", "nodeGroups\\[0\\].maxPods"),
    ("maxPods: 110", "maxPods: 1000000", "maxPods: .*10000"),
    ("expectedPods: 3\n    internal-ns", "expectedPods: 1100000\n    internal-ns",
     "expectedPods: .*1000000"),
    ("expectedPods: 3\n    internal-ns", "expectedPods: 999999\n    internal-ns",
     "namespaces' expectedPods add up to more than 1,000,000 pods"),
    ("zone: a}", "zone: \"a\x07\"}", "character U\\+0007 is not allowed"),
])
def test_numbers_and_text_of_a_stack_file_are_one_located_line(tmp_path, capsys, old, new, words):
    assert old in DEV
    (tmp_path / "Pulumi.dev.yaml").write_text(DEV.replace(old, new, 1))
    code, out, err = check(capsys, tmp_path)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert re.search(r"Pulumi\.dev\.yaml:\d+:\d+: " + ".*" + words, lines[0]), lines[0]


def test_node_groups_add_up_to_at_most_the_node_limit(tmp_path, capsys):
    text = DEV.replace("        count: 3\n", "        count: 60000\n", 1).replace(
        "    nodeGroups:\n", "    nodeGroups:\n      - {name: more, count: 60000}\n", 1)
    (tmp_path / "Pulumi.dev.yaml").write_text(text)
    code, out, err = check(capsys, tmp_path)
    assert code == 2 and "the node groups add up to more than 100,000 nodes" in err


def test_a_stack_file_name_that_is_not_utf8_breaks_neither_sarif_nor_render(tmp_path, capsys):
    name = os.fsdecode(b"Pulumi.d\xffv.yaml")
    (tmp_path / name).write_text(DEV.replace("count: 3", "count: x"))
    code, out, err = check(capsys, tmp_path, "--format", "sarif")
    assert code == 2 and "Pulumi.d\\xffv.yaml" in err
    sarif = json.loads(out) if out else None
    assert sarif is None or "runs" in sarif
    report = tmp_path / "r.sarif"
    code, out, err = check(capsys, tmp_path, "--format", "sarif", "--output", str(report))
    assert code == 2 and "Pulumi.d\\\\xffv.yaml" in report.read_text()
    code = cli.main(["render", "--stacks", str(tmp_path), "--stack", os.fsdecode(b"d\xffv")])
    out, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1
