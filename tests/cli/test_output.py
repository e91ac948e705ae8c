"""The one output layer (issue 9, "Outputs"): every failure is one line and a
documented exit code, never a traceback; nothing is half-written and no
temporary file is left; ``--output -`` is standard output; a symbolic link is
written through and a file keeps its mode."""
from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys

import pytest
from paths import ROOT

from ipam_model import cli
from ipam_model.cli import output
from ipam_model.cli.output import OutputError, atomic_file, write_output

CLI = [sys.executable, "-P", "-c", "import sys; from ipam_model.cli import main; sys.exit(main())"]


def run(*argv, stdout):
    """The real CLI in a process of its own, standard output on *stdout*."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    return subprocess.run([*CLI, *argv], cwd=ROOT, env=env, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=60)


def test_stdout_to_a_full_device_is_one_line():
    with open("/dev/full", "w") as full:
        result = run("check", stdout=full)
    assert result.returncode == 2
    assert result.stderr == ("calico-ipam check: error: cannot write to standard output: no "
                             "space left on the device\n")


def test_stdout_to_a_closed_pipe_is_one_line():
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = run("check", "--format", "sarif", stdout=write_end)
    finally:
        os.close(write_end)
    assert result.returncode == 2
    assert result.stderr == ("calico-ipam check: error: cannot write to standard output: the "
                             "reading end of the pipe was closed\n")


def test_output_dash_is_standard_output(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "--stacks", str(ROOT / "stacks"), "--format", "json",
                     "--output", "-"]) == 0
    assert capsys.readouterr().out.startswith("{")
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("where,words", [
    (lambda tmp: tmp / "file" / "report.sarif", "a part of the path is a file, not a directory"),
    (lambda tmp: tmp / "missing-dir" / "report.sarif", "No such file or directory"),
    (lambda tmp: tmp, "it is a directory"),
])
def test_an_unwritable_output_is_one_line_and_exit_2(tmp_path, capsys, where, words):
    (tmp_path / "file").write_text("x")
    target = where(tmp_path)
    code = cli.main(["check", "--stacks", str(ROOT / "stacks"), "--output", str(target)])
    err = capsys.readouterr().err
    assert code == 2 and err == f"calico-ipam check: error: cannot write {target}: {words}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_a_failed_write_leaves_the_target_and_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "report.json"
    target.write_text("old")

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(output.os, "replace", full)
    with pytest.raises(OutputError, match="no space left on the device"):
        write_output(target, "new")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["report.json"]


def test_text_that_cannot_be_encoded_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match="cannot be written as UTF-8"):
        write_output(tmp_path / "r.txt", "a lone surrogate \udcff")
    assert os.listdir(tmp_path) == []


def test_a_symbolic_link_is_written_through_and_the_mode_kept(tmp_path):
    real = tmp_path / "real.yaml"
    real.write_text("old")
    os.chmod(real, 0o640)
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    with atomic_file(link) as fh:
        fh.write("new")
    assert link.is_symlink() and real.read_text() == "new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


def test_a_new_file_gets_the_umask_mode_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        write_output(tmp_path / "r.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r.txt").stat().st_mode) == 0o644


def test_a_device_target_is_written_in_place_not_replaced(capsys):
    """``--output /dev/null`` must not replace the device node with a file."""
    before = os.stat("/dev/null")
    assert cli.main(["check", "--stacks", str(ROOT / "stacks"), "--output", "/dev/null"]) == 0
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert not [n for n in os.listdir("/dev") if n.startswith(".null.")]
