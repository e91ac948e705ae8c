"""``calico-ipam drift``: what changed outside calico-ipam, for scheduled CI.

Exit 0 no drift, 2 drift, 1 error (reading the cluster failed, the stack is
invalid). Needs only get/list access (deploy/rbac-readonly.yaml).
"""
from __future__ import annotations

import argparse
import sys

from ..plan import build_plan
from ..planreport import render
from .plan import add_stack_arguments, load_inputs

NAME = "drift"
HELP = "report what changed outside calico-ipam (exit 2 on drift), for scheduled CI"
DESCRIPTION = ("Compare one stack with the live cluster and report pools and namespace "
               "annotations changed, deleted or added outside calico-ipam. Exit 0 no drift, "
               "2 drift, 1 error.")
ORDER = 35


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser)


def _drift_only(plan):
    """The drift section only: pending changes and gates belong to ``plan``."""
    from dataclasses import replace
    return replace(plan, pools=(), namespaces=(), gates=(),
                   findings=tuple(f for f in plan.findings if f.rule == "CIP605"))


def run(args: argparse.Namespace) -> int:
    stack, live = load_inputs(args)
    plan = build_plan(stack, live)
    report = _drift_only(plan)
    text = render(report, args.format)
    if args.format == "text":
        text = text.replace(f"calico-ipam plan: stack", "calico-ipam drift: stack", 1)
        last = ("No drift. The cluster matches stack " + stack.name + "."
                if not plan.drift and not report.findings else
                f"Drift: {len(plan.drift) + len(report.findings)} object"
                f"{'s' if len(plan.drift) + len(report.findings) != 1 else ''} changed outside "
                "calico-ipam.")
        lines = [l for l in text.rstrip("\n").split("\n")
                 if not l.startswith(("No changes.", "Plan:", "Refused:"))]
        text = "\n".join(lines + [last]) + "\n"
    sys.stdout.write(text)
    # A bound namespace that disappeared is drift too, not a failed run.
    return 2 if plan.drift or report.findings else 0
