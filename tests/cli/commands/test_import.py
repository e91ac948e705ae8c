"""``calico-ipam import`` keeps what the user had (issue 9, "Import"): it writes
into the real target of a symbolic link, keeps the file's mode, refuses stack
names that leave the stacks directory, and refuses (exit 2, file unchanged)
an existing file it cannot merge without changing what the user wrote."""
from __future__ import annotations

import os
import re
import stat

import pytest
from paths import DATA

from ipam_model import cli

MANIFESTS = DATA / "live" / "ippools-v3.yaml"


def run(capsys, *argv):
    code = cli.main(["import", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_symlinked_stack_file_gets_the_import_and_stays_a_link(tmp_path, capsys):
    real = tmp_path / "repo" / "Pulumi.lab.yaml"
    real.parent.mkdir()
    real.write_text("# mine\nconfig:\n  other: 1\n")
    os.chmod(real, 0o640)
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "Pulumi.lab.yaml").symlink_to(real)
    code, out, err = run(capsys, "--stack", "lab", "--stacks", str(stacks),
                         "--manifests", str(MANIFESTS))
    assert code == 0, err
    assert (stacks / "Pulumi.lab.yaml").is_symlink()
    text = real.read_text()
    assert text.startswith("# mine\n") and "calico-ipam:pools:" in text
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(os.listdir(real.parent)) == ["Pulumi.lab.yaml"]  # no temporary file


@pytest.mark.parametrize("name", ["../x", "a/b", "..", ".hidden/../x", "x\ny"])
def test_stack_names_that_are_not_plain_file_names_are_refused(tmp_path, capsys, name):
    stacks = tmp_path / "stacks"
    code, out, err = run(capsys, "--stack", name, "--stacks", str(stacks),
                         "--manifests", str(MANIFESTS))
    assert code == 2 and "a stack name is a plain file name part" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("text,words", [
    ("config:\n  calico-ipam:namespaces:\n    a: &p\n      ipv4Pools: [x]\n    b: *p\n",
     "config.calico-ipam:namespaces.a: uses the YAML anchor &p"),
    ("config:\n  calico-ipam:pools: [a, b]\n",
     "config.calico-ipam:pools: is a list, not a mapping"),
    ("config:\n  calico-ipam:pools:\n    default-ipv4-ippool: keep me\n",
     'config.calico-ipam:pools.default-ipv4-ippool: is "keep me", not a mapping'),
    ("config:\n  calico-ipam:pools: &a [*a]\n", "the alias \\*a refers to its own anchor"),
])
def test_an_existing_file_that_cannot_be_merged_is_left_unchanged(tmp_path, capsys, text, words):
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    path = stacks / "Pulumi.lab.yaml"
    path.write_text(text)
    code, out, err = run(capsys, "--stack", "lab", "--stacks", str(stacks),
                         "--manifests", str(MANIFESTS))
    assert code == 2, err
    assert re.search(words, err), err
    assert err.count("\n") == 1 and path.read_text() == text
    assert os.listdir(stacks) == ["Pulumi.lab.yaml"]


def test_manifests_from_a_pipe_are_read(tmp_path):
    """``kubectl get ippools -o yaml | calico-ipam import --manifests /dev/stdin``."""
    import subprocess
    import sys

    from paths import ROOT
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    result = subprocess.run(
        [sys.executable, "-P", "-c", "import sys; from ipam_model.cli import main; "
         "sys.exit(main())", "import", "--stack", "piped", "--stacks", str(tmp_path),
         "--manifests", "/dev/stdin"],
        env=env, input=MANIFESTS.read_bytes(), capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "calico-ipam:pools:" in (tmp_path / "Pulumi.piped.yaml").read_text()
