"""The rule catalogue: every rule of every layer, by id.

Rules are declared next to the code that emits them, as module-level
constants named by their id (``core/errors.py`` the input rules,
``calico/validate.py`` Calico's IPPool rules, ``rules/`` the checks of the
declared side, ``plan/`` the live ones). This module finds them all, so the
CLI, the policy pack, SARIF and the README table share one catalogue that
no one keeps by hand; ids and names are unique.

Layer contract: pure; sits above ``plan`` and below ``views``.
"""
from __future__ import annotations

import importlib
import pkgutil
from types import MappingProxyType
from typing import Mapping

from . import calico, core, plan
from . import rules as rule_package
from .core.rules import Rule, Scope, declared_rules

_DECLARING_PACKAGES = (core, calico, rule_package, plan)


def _collect() -> dict[str, Rule]:
    found: dict[str, Rule] = {}
    for package in _DECLARING_PACKAGES:
        modules = [package] + [importlib.import_module(info.name) for info in
                               pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
        for module in modules:
            for declared in declared_rules(module):
                known = found.setdefault(declared.id, declared)
                if known is not declared:
                    raise RuntimeError(f"rule {declared.id} is declared twice "
                                       f"({module.__name__})")
    return dict(sorted(found.items()))


RULES: Mapping[str, Rule] = MappingProxyType(_collect())
BY_NAME: Mapping[str, Rule] = MappingProxyType({r.name: r for r in RULES.values()})
if len(BY_NAME) != len(RULES):
    raise RuntimeError("two rules share a name")


def rule(key: str) -> Rule:
    """Look a rule up by id (``CIP201``) or name (``pool-overlap``)."""
    return RULES.get(key) or BY_NAME[key]


def scope_of(rule_id: str) -> Scope | None:
    """The scope of a catalogued rule (None for an id the catalogue lacks)."""
    found = RULES.get(rule_id)
    return found.scope if found is not None else None
