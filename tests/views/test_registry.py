"""The format registry: every format module found, helpers named and skipped.

A package may name its modules that are not formats so that ``--format``'s
choices do not import them (views/plan/safety.py imports the whole planner);
the list must stay true, or a format named there would vanish from
``--format``.
"""
from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest
from paths import ROOT

from ipam_model.views import findings, plan, registry


@pytest.mark.parametrize("package", [plan, findings], ids=lambda p: p.__name__)
def test_the_registry_finds_every_format_module(package):
    every = registry.formats(package.__name__, package.__path__)
    assert dict(package.FORMATS) == dict(every)


def test_the_named_helpers_exist_and_are_not_formats():
    names = {info.name for info in pkgutil.iter_modules(plan.__path__)}
    for helper in plan.HELPERS:
        assert helper in names, f"views/plan/{helper}.py is gone: drop it from HELPERS"
        module = importlib.import_module(f"{plan.__name__}.{helper}")
        assert not (hasattr(module, "NAME") and hasattr(module, "render")), (
            f"views/plan/{helper}.py is a format: HELPERS hides it from --format")


@pytest.mark.parametrize("command", ["snapshot", "simulate"])
def test_commands_without_a_plan_do_not_load_the_planner(command):
    # --format's choices import the plan formats, not the gates of safety.py.
    probe = (f"import sys, ipam_model.cli.commands.{command}; "
             "print('ipam_model.plan.build' in sys.modules)")
    out = subprocess.run([sys.executable, "-P", "-c", probe], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)}).stdout
    assert out.strip() == "False"
