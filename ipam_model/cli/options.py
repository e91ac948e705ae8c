"""Shared command-line options (pip's cmdoptions style): stacks, live state, output.

``plan``, ``drift``, ``import`` and ``snapshot`` take the cluster the same way:
``--snapshot FILE`` (a ``calico-ipam snapshot`` file or kubectl List output;
repeatable) or ``--kubeconfig PATH`` / ``--context CTX`` (in-cluster when
neither is given and the process runs in a pod).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from typing import Sequence

from ..core.errors import InputError, UsageError
from ..core.limits import MAX_REQUEST_TIMEOUT, Limit
from ..core.live_state import LiveState
from ..core.model import Stack
from ..declared.files import find_stack_file, load_siblings, load_stack
from ..live.kube.reader import DEFAULT_TIMEOUT, KubeReader
from ..live.snapshot_file import SnapshotFiles
from ..live.source import LiveSource
from ..views.plan import FORMATS
from .progress import progress_line


def add_stacks_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stacks", metavar="DIR", default="stacks",
                        help="directory holding Pulumi.<stack>.yaml files (default: ./stacks)")


def add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", metavar="PATH",
                        help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the "
                             "pod's service account when running in a cluster)")
    parser.add_argument("--context", metavar="CTX",
                        help="kubeconfig context (default: the current context)")
    parser.add_argument("--request-timeout", metavar="SECONDS", type=_positive_seconds,
                        default=None,
                        help="give up on one API request after this long; it is retried "
                             "with back-off a few times (default: 30)")


def _positive_seconds(text: str) -> float:
    """A finite number of seconds above 0 and at most ``MAX_REQUEST_TIMEOUT``
    (``inf`` and ``nan`` are usage errors: they would let a request wait forever)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or not 0 < value <= MAX_REQUEST_TIMEOUT.value:
        raise argparse.ArgumentTypeError(
            f"must be more than 0 and at most {MAX_REQUEST_TIMEOUT.value:g} seconds, "
            f"got {text!r}")
    return value


def bounded_count(limit: Limit, *, least: int = 0):
    """An argparse type: a count written in ASCII digits, between *least* and
    the limit (``int()`` would take ``²``-like digits of other scripts and
    numbers no memory holds)."""
    def parse(text: str) -> int:
        return parse_count(text, limit, least=least, what=None)
    parse.__name__ = "count"
    return parse


def parse_count(text: str, limit: Limit, *, least: int = 0, what: str | None) -> int:
    """*text* as a count (see ``bounded_count``); the error names *what*."""
    digits = text.strip()
    prefix = f"{what}: " if what else ""
    if not (digits.isascii() and digits.isdigit()):
        raise argparse.ArgumentTypeError(f"{prefix}not a whole number: {text!r}")
    if len(digits) > len(str(limit.value)) or not least <= int(digits) <= limit.value:
        raise argparse.ArgumentTypeError(
            f"{prefix}must be between {least} and {limit.value:,} (the most calico-ipam "
            f"models; see Limits in the README), got {text!r}")
    return int(digits)


def make_reader(args: argparse.Namespace) -> KubeReader:
    """A KubeReader for the cluster options in *args*, with a progress line on a terminal."""
    return KubeReader.from_kubeconfig(
        getattr(args, "kubeconfig", None), getattr(args, "context", None),
        timeout=getattr(args, "request_timeout", None) or DEFAULT_TIMEOUT,
        on_progress=progress_line())


def add_live_arguments(parser: argparse.ArgumentParser) -> None:
    """``--snapshot FILE`` (repeatable) plus the cluster options."""
    parser.add_argument("--snapshot", metavar="FILE", action="append",
                        help="read live state from a calico-ipam snapshot or `kubectl get ... "
                             "-o yaml|json` output instead of the cluster (repeatable)")
    add_cluster_arguments(parser)


def live_source(args: argparse.Namespace) -> LiveSource:
    """The live-state source the user pointed at: snapshot file(s) or the cluster.

    A new source is one module in ``live/`` implementing ``LiveSource`` plus
    its option in ``add_live_arguments`` and a branch here.
    """
    snapshots = getattr(args, "snapshot", None)
    if snapshots:
        if getattr(args, "kubeconfig", None) or getattr(args, "context", None):
            raise UsageError("--snapshot reads a file; it cannot be combined with "
                             "--kubeconfig or --context")
        return SnapshotFiles(tuple(snapshots))
    return make_reader(args)


def read_live(args: argparse.Namespace) -> LiveState:
    """The live state the user pointed at (ClusterError/InputError on a failed or partial read).

    What the reader skipped (objects of kinds calico-ipam does not read) is
    said on stderr: a snapshot of the wrong kinds must not pass unnoticed."""
    live = live_source(args).read()
    for note in live.notes:
        print(f"calico-ipam: note: {live.source}: {note}", file=sys.stderr)
    return live


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
