"""``calico-ipam import``: write a stack file from what exists.

From a cluster, a snapshot, or IPPool manifests (such as the Calico example's
pools.yaml); a following ``plan`` shows no changes. An existing stack file
keeps its comments and its other config keys.
"""
from __future__ import annotations

import argparse
import os
import re
import sys

from ...core.errors import UsageError
from ...core.words import plural
from ...importer.build import from_live
from ...importer.files import from_manifests, stack_file_text
from .. import options
from ..options import add_stacks_argument
from ..output import write_output

NAME = "import"
HELP = "write a stack file from a cluster, a snapshot or IPPool manifests"
DESCRIPTION = ("Adopt what exists: write calico-ipam:pools (and namespace bindings from their "
               "pool annotations, the IPAMConfig and the IPReservations from a cluster or "
               "snapshot) into stacks/Pulumi.<stack>.yaml, leaving out Calico's "
               "defaults and keeping the comments of an existing file.")
ORDER = 40


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", metavar="NAME", required=True, help="the stack to write")
    add_stacks_argument(parser)
    parser.add_argument("--manifests", metavar="PATH",
                        help="what kubectl apply -f takes (a YAML/JSON file or a directory "
                             "of them): its IPPools (projectcalico.org/v3 or "
                             "crd.projectcalico.org/v1) and Namespaces' pool annotations; "
                             "other kinds are listed as skipped")
    parser.add_argument("--output", metavar="FILE",
                        help="the stack file to write (default: <stacks>/Pulumi.<stack>.yaml)")
    options.add_live_arguments(parser)  # or these instead of --manifests


# A stack name as the file name Pulumi.<stack>.yaml takes it: Pulumi's own
# characters, and nothing that leaves the stacks directory ("../x", "a/b").
_STACK_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def _check_stack_name(name: str) -> None:
    if not _STACK_NAME.fullmatch(name) or name in (".", ".."):
        raise UsageError(f"--stack {name!r}: a stack name is a plain file name part (letters, "
                         "digits, '-', '_', '.'); import writes <stacks>/Pulumi.<stack>.yaml "
                         "and nothing outside the stacks directory")


def run(args: argparse.Namespace) -> int:
    _check_stack_name(args.stack)
    live_given = any(getattr(args, a, None) for a in ("snapshot", "kubeconfig"))
    if bool(args.manifests) == bool(live_given):
        raise UsageError("give exactly one source: --manifests FILE, --snapshot FILE or "
                         "--kubeconfig PATH")
    if args.manifests:
        imported = from_manifests(args.manifests)
        read_notes: tuple[str, ...] = ()
    else:
        live = options.read_live(args)
        imported = from_live(live, args.stack)
        read_notes = live.notes  # kinds the reader does not read, lists it could not read
    output = args.output or os.path.join(args.stacks, f"Pulumi.{args.stack}.yaml")
    notes: list[str] = []
    write_output(output, stack_file_text(output, imported, notes), make_parents=True)
    print(f"Wrote {output}: {len(imported.pools)} pool{'s' if len(imported.pools) != 1 else ''}"
          + (", the IPAMConfig" if imported.ipam_config is not None else "")
          + (f", {plural(len(imported.reservations), 'reservation')}"
             if imported.reservations else "")
          + f", {len(imported.bindings)} namespace binding"
          f"{'s' if len(imported.bindings) != 1 else ''} from {imported.source}.")
    for note in imported.rejected:
        print(f"  rejected {note}", file=sys.stderr)
    for note in (*read_notes, *imported.skipped):
        print(f"  skipped {note}", file=sys.stderr)
    for note in imported.warnings:
        print(f"  warning: {note}", file=sys.stderr)
    for note in notes:
        print(f"  {note}", file=sys.stderr)
    if getattr(args, "manifests", None):
        # Manifests say nothing about the cluster: compare with them, not with it.
        print(f"Next: calico-ipam render --stack {args.stack} prints the same pools, "
              f"with Calico's defaults written out.")
    elif any(n.startswith("kept") for n in notes):
        print(f"Next: calico-ipam plan --stack {args.stack} shows the kept declarations above "
              f"as changes.")
    else:
        print(f"Next: calico-ipam plan --stack {args.stack} should show no changes.")
    # Like kubectl apply: the other objects are in; the rejected ones make it fail.
    return 1 if imported.rejected else 0
