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

from ...plan.build import drift_plan
from ...views.plan import Mode, PlanView, drift_count, render
from ..color import color_enabled
from ..stack_options import add_stack_arguments, load_inputs

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


def run(args: argparse.Namespace) -> int:
    stack, live = load_inputs(args)
    report = drift_plan(stack, live)
    view = PlanView(report, Mode.DRIFT, color=args.format == "text" and color_enabled(args),
                    show_unchanged=args.show_unchanged, live=live, stack=stack)
    sys.stdout.write(render(view, args.format))
    # A bound namespace that disappeared is drift too, not a failed run.
    return 2 if drift_count(report) else 0
