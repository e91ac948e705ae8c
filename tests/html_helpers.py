"""Inputs of the HTML page tests: simulate runs as the CLI makes them, a plan
with every change type, and the page parsed with an HTML5 parser.

Shared by tests/views/html/ and the browser test.
"""
from __future__ import annotations

from pathlib import Path

import html5lib
from plan_helpers import V4, live_pool, stack

from ipam_model.cli import main
from ipam_model.core.live_state import LiveBlock, LiveNamespace, LiveNode
from ipam_model.core.model import API_V3, frozen_map
from ipam_model.live.normalise import build_live_state
from ipam_model.plan.build import build_plan

ROOT = Path(__file__).resolve().parents[1]
STACKS = ROOT / "stacks"

WEB = {"cidr": "10.10.0.0/24", "blockSize": 26}
BIG = {"cidr": "10.20.0.0/24", "blockSize": 26}


def parse(page: str):
    """The page as html5lib's tree (the WHATWG parsing algorithm a browser uses);
    ``<template>`` contents are ordinary children there."""
    return html5lib.parse(page, namespaceHTMLElements=False)


def block_cells(tree) -> list[dict]:
    """Every block cell in document order, as the ``blocks`` JSON would give it."""
    return [{"cidr": e.get("data-cidr"), "node": e.get("data-node"),
             "allocated": int(e.get("data-allocated")), "size": int(e.get("data-size"))}
            for e in tree.iter() if e.get("data-cidr") is not None]


def json_blocks(blocks) -> list[dict]:
    """``simulate --format json`` blocks in the cells' terms."""
    return [{"cidr": b["cidr"], "node": (b["affinity"] or "").removeprefix("host:"),
             "allocated": b["allocated"],
             "size": b["allocated"] + b["free"] + b.get("reserved", 0)} for b in blocks]


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def plan_every_change():
    """A stack and a live state whose plan creates, updates in place, replaces
    (gated: the pool is in use) and deletes a pool, with an unmanaged pool,
    borrowed and tunnel addresses and a block inside no pool."""
    declared = stack({"web": dict(WEB, natOutgoing=True),
                      "big": dict(BIG, blockSize=28),
                      "new": {"cidr": "10.30.0.0/24", "blockSize": 26}},
                     {"web": {"ipv4Pools": ["web"]}, "db": {"ipv4Pools": ["big"]}},
                     retainOnDelete=False,
                     nodeGroups=[{"name": "workers", "count": 2, "labels": {"pool": "w"}}])
    pools = [live_pool("web", WEB, applied=WEB), live_pool("big", BIG, applied=BIG),
             live_pool("old", {"cidr": "10.40.0.0/24"}, applied={"cidr": "10.40.0.0/24"}),
             live_pool("default-ipv4-ippool", {"cidr": "192.168.0.0/16"}, "tigera-operator")]
    blocks = [
        LiveBlock("10.10.0.0/26", "host:workers-0", 64, 5, frozen_map({"web": 4}), tunnels=1),
        LiveBlock("10.10.0.64/26", "host:workers-1", 64, 3, frozen_map({"web": 3}), borrowed=1),
        LiveBlock("10.20.0.0/26", "host:workers-0", 64, 12, frozen_map({"db": 12})),
        LiveBlock("192.168.0.0/26", "host:edge-7", 64, 2, frozen_map({"kube-system": 2})),
        LiveBlock("10.99.0.0/26", "host:workers-1", 64, 1, frozen_map({"legacy": 1})),
    ]
    namespaces = [LiveNamespace("web", annotations=frozen_map({V4: '["web"]'})),
                  LiveNamespace("db", annotations=frozen_map({V4: '["big"]'}))]
    nodes = [LiveNode("workers-0", frozen_map({"pool": "w"})), LiveNode("edge-7")]
    live = build_live_state("test snapshot", API_V3, pools, namespaces, nodes, blocks, ())
    return declared, live, build_plan(declared, live)
