"""``calico-ipam plan``: what ``pulumi up`` would change in the live cluster.

Terraform's grammar and exit codes: with ``--detailed-exitcode`` 0 means no
changes, 1 an error (a safety gate or a ``check`` error refused the plan, or
reading failed), 2 changes present; without it 0 unless an error.
"""
from __future__ import annotations

import argparse
import sys

from ...plan.build import build_plan
from ...views.plan import PlanView, render
from ..color import color_enabled
from ..output import write_output
from ..stack_options import (
    add_stack_arguments,
    context_stacks,
    load_inputs,
)

NAME = "plan"
HELP = "show what pulumi up would change in the cluster (Terraform-style), with safety gates"
DESCRIPTION = ("Compare one stack with the live cluster (or a snapshot of it) and print what "
               "pulumi up would create, update, replace or delete, what changed outside "
               "calico-ipam since it last applied the stack, which pools are in use, and the "
               "migration steps for anything disruptive. The stack must also pass calico-ipam "
               "check: its errors refuse the plan, as they refuse pulumi up. Exit 0 (no "
               "error), 1 (error); with --detailed-exitcode 0 no changes, 1 error, 2 changes.")
ORDER = 30
# Exit 2 is a result here (changes with --detailed-exitcode / drift): every error is 1.
ERROR_EXIT = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser)
    parser.add_argument("--detailed-exitcode", action="store_true",
                        help="exit 0 when there are no changes, 1 on error, 2 when there are "
                             "changes")
    parser.add_argument("--allow-disruption", metavar="POOL", action="append", default=[],
                        help="lift the safety gates of this pool (repeatable); its gates are "
                             "reported as warnings")
    parser.add_argument("--output", metavar="FILE",
                        help="write the plan to FILE instead of standard output (--format html "
                             "for a page to open in a browser or keep as a CI artifact)")


def run(args: argparse.Namespace) -> int:
    stack, live = load_inputs(args)
    for pool in dict.fromkeys(args.allow_disruption):
        if pool not in stack.pool_specs and pool not in live.pools:
            # it lifts nothing; most likely a typo the operator would never notice
            print(f"calico-ipam plan: warning: --allow-disruption {pool}: pool {pool} is "
                  f"neither declared in stack {stack.name} nor in the cluster ({live.source}); "
                  "it lifts no gate", file=sys.stderr)
    # Siblings only feed routing-domain overlaps; one that does not load is named and skipped.
    plan = build_plan(stack, live, allow_disruption=frozenset(args.allow_disruption),
                      context=context_stacks(args.stacks, [stack]))
    view = PlanView(plan, color=args.format == "text" and not args.output
                    and color_enabled(args),
                    show_unchanged=args.show_unchanged, live=live, stack=stack)
    text = render(view, args.format)
    if args.output:
        write_output(args.output, text)
    else:
        sys.stdout.write(text)
    if plan.errors:
        return 1
    if args.detailed_exitcode and plan.has_changes:
        return 2
    return 0
