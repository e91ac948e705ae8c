"""``calico-ipam render``: the IPPool manifests and Namespace patches of one stack.

The output is what ``pulumi up`` applies (the Pulumi program builds its
resources with the same functions). A stack with error findings is refused:
a pool Calico would reject, or one that overlaps, is never printed as
something to apply.
"""
from __future__ import annotations

import argparse
import sys

from ...core.model import API_CRD_V1, API_V3, has_errors
from ...declared.files import find_stack_file, load_stack
from ...rules.runner import check_stacks
from ...views.findings import format_findings
from ...views.manifests import render_stack, select_kind, to_yaml
from ..options import add_stacks_argument
from ..stack_options import context_stacks

NAME = "render"
HELP = "print a stack's Calico objects and Namespace annotation patches as YAML"
DESCRIPTION = ("Print the IPAMConfiguration, IPReservations, IPPools and Namespace pool "
               "annotations of one stack as multi-document YAML for kubectl apply -f - (or, with "
               "--only calico, calicoctl apply -f -). Refuses (exit 1) when the stack has error "
               "findings.")
ORDER = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", metavar="NAME", required=True, help="the stack to render")
    add_stacks_argument(parser)
    parser.add_argument("--api-version", choices=(API_V3, API_CRD_V1), default=None,
                        help="IPPool API group/version (default: the stack's "
                             "calico-ipam:cluster.calicoApi, itself projectcalico.org/v3 "
                             "unless set)")
    parser.add_argument("--only", choices=("pools", "calico", "namespaces"), default=None,
                        help="only the IPPools, only the Calico objects (IPAMConfiguration, "
                             "IPReservations, IPPools: calicoctl accepts no Namespace) or only "
                             "the Namespace patches")


def run(args: argparse.Namespace) -> int:
    stack = load_stack(find_stack_file(args.stacks, args.stack), args.stack)
    findings = check_stacks([stack], context=context_stacks(args.stacks, [stack]))
    if has_errors(findings):
        errors = [f for f in findings if f.is_error]
        sys.stderr.write(format_findings(findings, "text", stacks=[stack]))
        sys.stderr.write(f"calico-ipam render: refusing to render stack {stack.name}: "
                         f"{len(errors)} error finding{'' if len(errors) == 1 else 's'}; "
                         f"see calico-ipam check --stack {stack.name}\n")
        return 1
    sys.stdout.write(to_yaml(select_kind(render_stack(stack, args.api_version), args.only)))
    return 0
