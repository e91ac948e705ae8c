"""``calico-ipam drift``: what changed outside calico-ipam, for scheduled CI.

Exit 0 no drift, 2 drift, 1 error (reading the cluster failed, the stack is
invalid). Needs only get/list access (deploy/rbac-readonly.yaml).

A pool is compared with its ``calico-ipam.io/applied-spec`` annotation, the
spec calico-ipam last applied. A pool without it (applied by an older
calico-ipam, or adopted after ``import``), a declared pool missing from the
cluster and the namespace bindings are compared with the stack file: run on
main, the stack file is what was applied.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from ...plan.build import build_plan
from ...plan.drift import drift
from ...views.plan import render
from ..options import add_stack_arguments, load_inputs

NAME = "drift"
HELP = "report what changed outside calico-ipam (exit 2 on drift), for scheduled CI"
DESCRIPTION = ("Compare one stack with the live cluster and report pools and namespace "
               "annotations changed, deleted or added outside calico-ipam. A pool is compared "
               "with its calico-ipam.io/applied-spec annotation (what calico-ipam last "
               "applied); a pool without one, a missing pool and the namespace annotations are "
               "compared with the stack file, which on main is what was applied. Exit 0 no "
               "drift, 2 drift, 1 error.")
ORDER = 35
# Exit 2 is a result here (changes with --detailed-exitcode / drift): every error is 1.
ERROR_EXIT = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser)


def drift_report(stack, live):
    """A plan holding only the drift (against what was applied, the stack file
    standing in where the cluster holds no record) and missing bound
    namespaces: pending changes, gates and check belong to ``plan``."""
    plan = build_plan(stack, live, run_check=False)
    return replace(plan, pools=(), namespaces=(), gates=(), checks=(),
                   findings=tuple(f for f in plan.findings if f.rule == "CIP605"),
                   drift=tuple(drift(stack, live, stack_is_applied=True)))


def run(args: argparse.Namespace) -> int:
    stack, live = load_inputs(args)
    report = drift_report(stack, live)
    count = len(report.drift) + len(report.findings)
    text = render(report, args.format)
    last = (f"No drift. The cluster matches stack {stack.name}." if not count else
            f"Drift: {count} object{'s' if count != 1 else ''} changed outside calico-ipam.")
    if args.format == "text":
        text = text.replace("calico-ipam plan: stack", "calico-ipam drift: stack", 1)
        lines = [l for l in text.rstrip("\n").split("\n")
                 if not l.startswith(("No changes", "Plan:", "Refused:"))]
        text = "\n".join(lines + [last]) + "\n"
    elif args.format == "markdown":  # the plan's heading and summary would say "no changes"
        head, _, rest = text.partition("\n")
        head = (head.replace("calico-ipam plan:", "calico-ipam drift:", 1)
                .rsplit(" (", 1)[0] + (" (drift)" if count else " (no drift)"))
        rest = "\n".join(f"**{last}**" if l.startswith("**") and l.endswith(".**") else l
                         for l in rest.split("\n"))
        text = head + "\n" + rest
    elif args.format == "github":  # the last annotation is the plan's summary
        lines = text.rstrip("\n").split("\n")
        if lines and lines[-1].startswith("::notice title=calico-ipam plan "):
            command = lines[-1].split("::", 2)[1]  # properties escape ':', so this splits right
            lines[-1] = ("::" + command.replace("calico-ipam plan ", "calico-ipam drift ", 1)
                         + "::" + last.replace("%", "%25"))
        text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    # A bound namespace that disappeared is drift too, not a failed run.
    return 2 if count else 0
