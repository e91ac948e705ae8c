"""``calico-ipam snapshot``: dump live Calico IPAM state to a file.

The file holds the raw IPPools, the Tigera operator's Installations, IPAMConfig,
Namespaces, Nodes, BlockAffinities and IPAMBlocks (managed fields and node
status dropped; ``counts`` names every kind that was listed) and can be given to
``plan``/``drift``/``import`` with ``--snapshot``. It is written only when the
whole read succeeded, and every object was checked by the normaliser first.
"""
from __future__ import annotations

import sys

from ...live.collector import LiveCollector
from ...live.snapshot_file import SnapshotWriter
from ...live.source import CollectorSink, TeeSink
from ..options import add_cluster_arguments, make_reader
from ..output import atomic_file

NAME = "snapshot"
HELP = "dump live Calico IPAM state (pools, blocks, affinities, namespaces, nodes) to a file"
DESCRIPTION = ("Read the cluster's IPPools, IPAMConfig, IPAM blocks, block affinities, "
               "namespaces and nodes (get and list only) and write them as one file for "
               "plan, drift and import --snapshot. Written only when the whole read "
               "succeeded. Exit 0, 1 when reading the cluster failed, 2 on bad input.")
ORDER = 50


def add_arguments(parser) -> None:
    add_cluster_arguments(parser)
    parser.add_argument("--output", "-o", metavar="FILE",
                        help="write the snapshot here (default: standard output)")


def run(args) -> int:
    if args.output == "-":
        args.output = None
    reader = make_reader(args)
    writer = SnapshotWriter()
    collector = LiveCollector()
    try:
        calico_api = reader.read_into(TeeSink(writer, CollectorSink(collector)))
        state = collector.result(reader.source, calico_api)
        if args.output is None:
            writer.write_to(sys.stdout, reader.source, calico_api)
            sys.stdout.flush()
        else:
            _write_file(writer, args.output, reader.source, calico_api)
    finally:
        writer.close()
    in_use = sum(1 for u in state.usage.values() if u.in_use)
    print(f"snapshot of {reader.source}: {len(state.pools)} IP pools ({in_use} in use), "
          f"{len(state.blocks)} IPAM blocks, {len(state.affinities)} block affinities, "
          f"{len(state.namespaces)} namespaces, {len(state.nodes)} nodes"
          + (f" -> {args.output}" if args.output else ""), file=sys.stderr)
    return 0


def _write_file(writer: SnapshotWriter, path: str, source: str, calico_api: str) -> None:
    with atomic_file(path) as out:  # any failure: one OutputError, no file left behind
        writer.write_to(out, source, calico_api)
