"""The README documents the contracts; these tests keep it honest."""
from __future__ import annotations

import re
from pathlib import Path

from readme_tables import config_table, rules_table

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _between(marker: str) -> str:
    match = re.search(rf"<!-- {marker}:start -->\n(.*?)\n<!-- {marker}:end -->", README, re.S)
    assert match, f"README lost its {marker} markers"
    return match.group(1)


def test_stack_config_reference_matches_the_schema():
    assert _between("config-table") == config_table(), (
        "README's stack-config table is stale: run `python tests/readme_tables.py`")


def test_rule_table_matches_the_catalogue():
    assert _between("rules-table") == rules_table(), (
        "README's rule table is stale: run `python tests/readme_tables.py`")


def _commands() -> list[str]:
    section = README.split("## The two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)\n```", section, re.S)


def test_readme_starts_with_the_main_job_and_the_test_command():
    main_job, tests = _commands()[:2]
    assert "pip install ." in main_job and "calico-ipam check" in main_job
    assert "calico-ipam render --stack dev" in main_job
    assert "pytest" in tests


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _commands()[1] in ci.splitlines()
