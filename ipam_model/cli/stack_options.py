"""Options that load stacks: the stack compared with the cluster, and its siblings.

``plan`` and ``drift`` take ``--stack`` with the live source (``options``);
``check``, ``render`` and ``plan`` check a stack against the other stacks of
its directory. They are apart from ``options`` because they import the stack
loader (its schema, its YAML round trip), which ``snapshot`` never needs.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from ..core.errors import InputError
from ..core.model import Stack
from ..declared.files import find_stack_file, load_siblings, load_stack
from ..views.plan import FORMATS
from .options import add_live_arguments, add_stacks_argument, read_live


def context_stacks(stacks_dir: str | os.PathLike, checked: Sequence[Stack]) -> list[Stack]:
    """The directory's other stacks, for routing-domain overlaps only.

    A sibling that does not load is left out here: it is not what the user
    asked about, and checking it directly reports its problem. It is named on
    stderr, though: its pools may share the routing domain, and a silent skip
    would pass an overlap (CIP202) nobody checked.
    """
    def skipped(name: str, exc: InputError) -> None:
        print(f"calico-ipam: warning: skipped stack {name}, which does not load ({exc}); "
              f"routing-domain overlaps with stack {name} were not checked", file=sys.stderr)

    return load_siblings(stacks_dir, {s.name for s in checked}, on_unreadable=skipped)


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", metavar="NAME", required=True,
                        help="the stack to compare with the cluster "
                             "(<stacks>/Pulumi.<NAME>.yaml)")
    add_stacks_argument(parser)
    add_live_arguments(parser)
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text (default), json (a Terraform JSON plan, docs/plan-json.md), "
                             "markdown (job summary) or github (workflow annotations)")
    parser.add_argument("--show-unchanged", action="store_true",
                        help="list every unchanged pool in use (default: count them)")


def load_inputs(args: argparse.Namespace):
    stack = load_stack(find_stack_file(args.stacks, args.stack), args.stack)
    live = read_live(args)  # ClusterError/InputError on any failed or partial read
    return stack, live
