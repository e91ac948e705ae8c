"""The rule catalogue and the check registry: no rule declared and never emitted,
no check that is never run, every rule of the declared side claimed by one check.

The source is read with ast (as tests/test_architecture.py does), so a rule
whose emitting code was forgotten fails here, not in a user's pipeline.
"""
from __future__ import annotations

import ast
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from ipam_model.catalogue import RULES, rule, scope_of
from ipam_model.core import project
from ipam_model.core.rules import Rule, Scope
from ipam_model.rules.runner import checks, rules_checked
from policies.rules import _RESOURCE_RULES  # the repository's policy pack

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ipam_model"


def _sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def declarations() -> dict[str, Path]:
    """rule id -> the module whose top level declares ``CIPnnn = Rule("CIPnnn", ...)``."""
    found = {}
    for path, tree in _sources():
        for node in tree.body:
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                    and getattr(node.value.func, "id", None) == "Rule"):
                (target,) = node.targets
                rule_id = node.value.args[0].value
                assert target.id == rule_id, f"{path}: {target.id} declares {rule_id}"
                assert rule_id not in found, f"{rule_id} declared in {found[rule_id]} and {path}"
                found[rule_id] = path
    return found


def emissions() -> Counter:
    """How often each rule constant is used for anything but its declaration,
    an import, a ``@check(...)`` claim or a look at its ``.id``: the places
    that emit it (``CIP201.finding(...)``, or the rule handed to a helper
    that does)."""
    used = Counter()
    for _, tree in _sources():
        claimed = {id(node.value) for node in ast.walk(tree)
                   if isinstance(node, ast.Attribute) and node.attr == "id"}
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for decorator in node.decorator_list:
                    claimed |= {id(n) for n in ast.walk(decorator)}
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                    and getattr(node.value.func, "id", None) == "Rule":
                claimed |= {id(n) for n in node.targets}
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in RULES and id(node) not in claimed \
                    and isinstance(node.ctx, ast.Load):
                used[node.id] += 1
    return used


def test_the_catalogue_is_every_declared_rule():
    assert sorted(declarations()) == list(RULES)
    assert all(isinstance(r, Rule) and r.id == key for key, r in RULES.items())


@pytest.mark.parametrize("rule_id", list(RULES))
def test_every_catalogued_rule_is_emitted_somewhere(rule_id):
    """CIP610 sat in the catalogue for a release with nothing emitting it."""
    assert emissions()[rule_id], (
        f"{rule_id} {RULES[rule_id].name} is declared but nothing emits it: use "
        f"{rule_id}.finding(...) in a registered check or a named component, or retire it")


def test_each_declared_side_rule_is_claimed_by_exactly_one_registered_check():
    claims = Counter(r.id for c in checks() for r in c.rules)
    for rule_id, declared in RULES.items():
        if declared.scope in (Scope.POOL, Scope.STACK, Scope.FLEET):
            assert claims[rule_id] == 1, f"{rule_id} is claimed by {claims[rule_id]} checks"
    assert set(claims) <= set(RULES)


def test_checks_claim_rules_of_their_own_scope():
    for c in checks():
        for claimed in c.rules:
            allowed = {c.scope} | ({Scope.INPUT} if c.scope is Scope.POOL else set())
            assert claimed.scope in allowed, f"{c.name} claims {claimed.id} ({claimed.scope})"


def test_every_check_module_is_discovered():
    """A check written in a module the runner never imports would never run."""
    registered = {c.run.__module__ for c in checks()}
    for path, tree in _sources():
        decorated = any(isinstance(d, ast.Call) and getattr(d.func, "id", None) == "check"
                        for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
                        for d in node.decorator_list)
        if decorated:
            module = "ipam_model." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
            assert module in registered


@pytest.mark.parametrize("rule_id", [r for r, d in RULES.items() if d.scope is Scope.INPUT])
def test_input_rules_are_raised_by_the_loader(rule_id):
    raised = set()
    for path, tree in _sources():
        # the stack-file loader: declared/, and the YAML loader it shares in core/
        if path.relative_to(PACKAGE).parts[0] not in ("declared", "core"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "rule" \
                    and isinstance(node.value, ast.Name):
                raised.add(node.value.id)
    assert rule_id in raised, f"{rule_id} is never raised by ipam_model.declared or .core"


def test_live_rules_belong_to_no_check_and_are_emitted_by_the_plan_side():
    declared = declarations()
    for rule_id, found in RULES.items():
        if found.scope is not Scope.LIVE:
            continue
        assert rule_id not in rules_checked(), f"{rule_id} is a live rule but a check claims it"
        assert declared[rule_id].relative_to(PACKAGE).parts[0] in ("plan", "rules")


def test_lookup_by_id_name_and_scope():
    assert rule("CIP201") is rule("pool-overlap")
    assert scope_of("CIP202") is Scope.FLEET and scope_of("CIP999") is None


def test_the_policy_pack_leaves_out_exactly_the_pool_rules():
    """The stack policy drops the resource policy's rules by scope: a stack rule
    numbered like a pool rule (CIP1xx) would still be reported."""
    pool_rules = {r for r, d in RULES.items() if d.scope is Scope.POOL}
    assert pool_rules <= _RESOURCE_RULES
    assert not {r for r, d in RULES.items() if d.scope in (Scope.STACK, Scope.FLEET)} \
        & _RESOURCE_RULES


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_every_rule_documents_why_it_matters_and_how_to_fix_it(rule_id):
    """SARIF's help.text/help.markdown (GitHub code scanning shows them with every
    result) come from Rule.help, declared with the rule; a rule that follows
    Calico cites the Calico source lines it follows."""
    declared = RULES[rule_id]
    assert declared.help is not None, f"{rule_id}: declare help=Help(why, fix, calico=...)"
    assert declared.help.why.strip() and declared.help.fix.strip()
    if declared.source != "calico-ipam":
        assert declared.help.calico, f"{rule_id} is Calico's rule: cite Calico's source lines"
    for reference in declared.help.calico:
        path, _, line = reference.rpartition(":")
        assert path.endswith(".go") and line.isdigit(), reference


def test_the_project_constants_are_what_pyproject_declares():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["urls"]["Homepage"] == project.URL
    assert pyproject["project"]["urls"]["Documentation"] == project.README_URL
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "ipam_model.core.project.VERSION"}
