"""The example workflows (examples/github/) call calico-ipam with commands and
options it has: every ``calico-ipam ...`` in a ``run:`` step parses with the
CLI's own parser, so a renamed option or format fails here, not in a user's CI."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from ipam_model.cli.app import build_parser

WORKFLOWS = sorted((Path(__file__).resolve().parents[1] / "examples" / "github").glob("*.yml"))


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
    build_parser().parse_args(argv)  # argparse exits 2 on an unknown option or choice
