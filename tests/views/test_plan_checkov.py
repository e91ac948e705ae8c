"""checkov's terraform_plan framework reads ``plan --format json`` as a Terraform plan.

checkov is a large tool with its own dependency tree, so it is not a test
dependency: point ``CHECKOV_PYTHON`` at the Python of a virtualenv that has
checkov (``python -m venv v && v/bin/pip install checkov==3.3.30``) to run
this test; without it the test is skipped and says so. checkov reads
``planned_values.root_module.resources`` and needs ``terraform_version``
(checkov/terraform/context_parsers/tf_plan/__init__.py, plan_parser.py
parse_tf_plan); before calico-ipam's plan was a Terraform plan it found 0
resources.
"""
from __future__ import annotations

import json
import os
import subprocess

import pytest
from paths import DATA, ROOT

from ipam_model.cli import main

CHECKOV_PYTHON = os.environ.get("CHECKOV_PYTHON")
RUN_CHECKOV = """
import json, sys
from checkov.runner_filter import RunnerFilter
from checkov.terraform.plan_runner import Runner
report = Runner().run(root_folder=None, files=[sys.argv[1]],
                      runner_filter=RunnerFilter(framework=["terraform_plan"]))
print(json.dumps(sorted(r.split(":", 1)[1] for r in report.resources)))
"""


@pytest.mark.skipif(not CHECKOV_PYTHON, reason="set CHECKOV_PYTHON to a Python with checkov "
                                               "installed to run checkov on the plan")
def test_checkov_finds_every_planned_resource(tmp_path, capsys):
    main(["plan", "--stacks", str(ROOT / "stacks"), "--stack", "dev", "--snapshot",
          str(DATA / "plan" / "snapshot.json"), "--format", "json"])
    document = capsys.readouterr().out
    path = tmp_path / "plan.json"
    path.write_text(document)
    found = json.loads(subprocess.run([CHECKOV_PYTHON, "-c", RUN_CHECKOV, str(path)],
                                      capture_output=True, text=True, check=True,
                                      timeout=300).stdout)
    planned = [r["address"] for r in
               json.loads(document)["planned_values"]["root_module"]["resources"]]
    assert planned and found == sorted(planned)
