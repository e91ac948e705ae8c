"""Shared command-line options (pip's cmdoptions style): stacks, live state, counts.

``plan``, ``drift``, ``import`` and ``snapshot`` take the cluster the same way:
``--snapshot FILE`` (a ``calico-ipam snapshot`` file or kubectl List output;
repeatable) or ``--kubeconfig PATH`` / ``--context CTX`` (in-cluster when
neither is given and the process runs in a pod).

Nothing here loads a stack: the options that do (``--stack`` with the live
source, the sibling stacks) are in ``stack_options``, so ``snapshot`` does
not import the stack loader, its schema and the rules.
"""
from __future__ import annotations

import argparse
import math
import sys

from ..core.errors import UsageError
from ..core.limits import MAX_REQUEST_TIMEOUT, Limit
from ..core.live_state import LiveState
from ..live.kube.reader import DEFAULT_TIMEOUT, KubeReader
from ..live.snapshot_file import SnapshotFiles
from ..live.source import LiveSource
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
