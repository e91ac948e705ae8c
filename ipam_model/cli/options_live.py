"""Shared command-line options for commands that read live state.

``plan``, ``drift``, ``import`` and ``snapshot`` take the cluster the same way:
``--snapshot FILE`` (a ``calico-ipam snapshot`` file or kubectl List output;
repeatable) or ``--kubeconfig PATH`` / ``--context CTX`` (in-cluster when
neither is given and the process runs in a pod).
"""
from __future__ import annotations

import argparse

from ..core.errors import UsageError
from ..core.live_state import LiveState


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
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text!r}")
    return value


def make_reader(args: argparse.Namespace):
    """A KubeReader for the cluster options in *args*."""
    from ..live.kube.reader import DEFAULT_TIMEOUT, KubeReader
    return KubeReader(getattr(args, "kubeconfig", None), getattr(args, "context", None),
                      timeout=getattr(args, "request_timeout", None) or DEFAULT_TIMEOUT)


def add_live_arguments(parser: argparse.ArgumentParser) -> None:
    """``--snapshot FILE`` (repeatable) plus the cluster options."""
    parser.add_argument("--snapshot", metavar="FILE", action="append",
                        help="read live state from a calico-ipam snapshot or `kubectl get ... "
                             "-o yaml|json` output instead of the cluster (repeatable)")
    add_cluster_arguments(parser)


def read_live(args: argparse.Namespace) -> LiveState:
    """The live state the user pointed at: snapshot file(s) or the cluster."""
    snapshots = getattr(args, "snapshot", None)
    kubeconfig = getattr(args, "kubeconfig", None)
    context = getattr(args, "context", None)
    if snapshots:
        if kubeconfig or context:
            raise UsageError("--snapshot reads a file; it cannot be combined with "
                             "--kubeconfig or --context")
        from ..live.snapshot_file import load_snapshot
        return load_snapshot(snapshots)
    return make_reader(args).read()
