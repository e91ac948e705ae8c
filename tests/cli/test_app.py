"""The calico-ipam command as a Terraform user's hands expect it: --version,
--no-color on every command, --help that lists every command, lazy imports."""
from __future__ import annotations

import atexit
import gc
import os
import pkgutil
import subprocess
import sys

import pytest
from paths import ROOT

import ipam_model.cli.commands as command_package
from ipam_model.cli import main
from ipam_model.cli.app import COMMANDS, build_parser, command_module
from ipam_model.core import project


def test_the_command_table_is_every_command_module():
    modules = {info.name for info in pkgutil.iter_modules(command_package.__path__)
               if not info.name.startswith("_")}
    assert {info.module for info in COMMANDS.values()} == modules
    for name, info in COMMANDS.items():
        module = command_module(name)
        assert module.NAME == name and module.HELP == info.summary
        assert getattr(module, "ERROR_EXIT", None) == info.error_exit
        assert module.DESCRIPTION and callable(module.run) and callable(module.add_arguments)


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"calico-ipam {project.VERSION}\n"


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_accepts_no_color_before_and_after_its_name(name, capsys):
    for argv in (["--no-color", name, "--help"], [name, "--no-color", "--help"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith(f"usage: calico-ipam {name}") and "--no-color" in out


def test_help_lists_every_command_with_its_summary(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps the lines
    for name, info in COMMANDS.items():
        assert f"{name} {' '.join(info.summary.split()[:4])}" in out
    assert "--version" in out and "--no-color" in out


def test_a_command_imports_only_its_own_module():
    """pip-style lazy commands: check loads neither the cluster reader nor the
    simulator's command (start-up counts in every CI run)."""
    code = ("import sys; from ipam_model.cli.app import build_parser; "
            "build_parser(['check']); print(sorted(m for m in sys.modules "
            "if m.startswith('ipam_model.cli.commands.')))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True,
                         env=env, check=True, cwd=ROOT).stdout
    assert out.strip() == "['ipam_model.cli.commands.check']"


def test_snapshot_imports_neither_stacks_nor_rules_nor_views():
    """snapshot reads a cluster and writes a file: the stack loader (and its
    schema validator), the rules, the plan and the views are not loaded for it."""
    heavy = ("ipam_model.declared", "ipam_model.rules", "ipam_model.plan",
             "ipam_model.importer", "ipam_model.views.plan", "jsonschema", "ruamel")
    code = ("import sys; from ipam_model.cli.app import build_parser; "
            f"build_parser(['snapshot']); print(sorted(m for m in sys.modules "
            f"if m.startswith({heavy!r})))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True,
                         env=env, check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"


def test_usage_errors_of_result_commands_exit_1(capsys):
    """plan and drift exit 2 as a result; their usage errors must not look like one."""
    with pytest.raises(SystemExit) as exc:
        main(["drift", "--bogus"])
    assert exc.value.code == 1
    with pytest.raises(SystemExit) as exc:
        main(["check", "--bogus"])
    assert exc.value.code == 2
    capsys.readouterr()


def test_main_leaves_the_collector_of_its_caller_as_it_was(monkeypatch, capsys):
    """A paused command hands everything it made to the collector again (a
    test process runs hundreds of commands); only the program itself leaves
    it to the process's end (gc.freeze when the interpreter exits)."""
    registered = []
    monkeypatch.setattr(atexit, "register", registered.append)
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    assert gc.isenabled() and gc.get_freeze_count() == 0 and registered == []
    monkeypatch.setattr(sys, "argv", ["calico-ipam", "simulate", "--help"])
    with pytest.raises(SystemExit):
        main()
    assert gc.isenabled() and gc.get_freeze_count() == 0 and registered == [gc.freeze]
    capsys.readouterr()


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_heavy_commands_run_with_the_cyclic_collector_paused(name, monkeypatch):
    # check, plan, drift, simulate and snapshot build hundreds of thousands of
    # objects (snapshot: the decoded pages); the collector resumes when the
    # command returns.
    seen = []
    monkeypatch.setattr(command_module(name), "run", lambda args: seen.append(gc.isenabled()))
    monkeypatch.setattr(sys, "argv", ["calico-ipam", name])
    words = [name, "--stack", "dev", "--manifests", "m.yaml"]  # what some commands require
    args = build_parser(words).parse_known_args(words)[0]
    assert gc.isenabled()
    args._run(args)
    assert seen == [not COMMANDS[name].pause_gc] and gc.isenabled()
    assert COMMANDS[name].pause_gc is (name in ("check", "plan", "drift", "simulate",
                                                   "snapshot"))
