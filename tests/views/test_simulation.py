"""views.simulation: the simulate command's tables and JSON document."""
from __future__ import annotations

import json

from ipam_model.calico.ipam.results import (
    AllocationFailure,
    BlockUsage,
    PodAllocation,
    TunnelAllocation,
)
from ipam_model.declared.build import stack_from_config
from ipam_model.views.simulation import FORMATS, Simulation, table, to_json, to_text


def result(pods=(), failures=(), usage=None) -> Simulation:
    stack = stack_from_config("dev", {"pools": {"b": {"cidr": "10.2.0.0/28", "blockSize": 29},
                                                "a": {"cidr": "10.1.0.0/29", "blockSize": 29}}})
    blocks = (BlockUsage("10.1.0.0/29", "a", "host:n1", 2, 6),)
    tunnels = (TunnelAllocation("n1", "vxlan", "10.1.0.0", "a", "10.1.0.0/29"),)
    return Simulation(tuple(pods), blocks, tunnels, tuple(failures),
                      tuple(stack.pools[n] for n in sorted(stack.pools)),
                      {"a": (2, 6)} if usage is None else usage)


def test_formats_are_text_and_json():
    assert dict(FORMATS) == {"text": to_text, "json": to_json}


def test_table_pads_columns_and_draws_calicoctls_box():
    assert table([["A", "BB"], ["ccc", "d"]]) == "A     BB\nccc   d"
    assert table([["A"], ["bb"]], border=True) == "+----+\n| A  |\n+----+\n| bb |\n+----+"


def test_text_lists_tunnels_pods_and_pool_usage_with_a_pool_without_blocks():
    pods = [PodAllocation("web", "web-0", "n1", "10.1.0.1", "a", "10.1.0.0/29", borrowed=True)]
    lines = to_text(result(pods)).splitlines()
    assert lines[:2] == ["NODE   TUNNEL   IP         POOL   BLOCK",
                         "n1     vxlan    10.1.0.0   a      10.1.0.0/29"]
    assert lines[4].split() == ["web-0", "web", "10.1.0.1", "n1", "a", "10.1.0.0/29",
                                "(borrowed)"]
    rows = [line.split("|")[1:-1] for line in lines if line.startswith("| ")]
    cells = [[c.strip() for c in row] for row in rows]
    assert cells[1:] == [["IP Pool", "10.1.0.0/29", "8", "2 (25%)", "6 (75%)", ""],
                         ["Block", "10.1.0.0/29", "8", "2 (25%)", "6 (75%)", "host:n1"],
                         # a pool the simulator never touched: all of it free
                         ["IP Pool", "10.2.0.0/28", "16", "0 (0%)", "16 (100%)", ""]]


def test_text_without_pods_says_so_and_lists_failures():
    failures = [AllocationFailure("web", "web-0", "n1", "no space"),
                AllocationFailure(None, None, "n2", "no pool", kind="ipip")]
    text = to_text(result(failures=failures))
    assert "\nNo pods allocated.\n" in text
    assert text.endswith("\n2 allocations would fail:\n  pod web/web-0 on node n1: no space\n"
                         "  ipip tunnel address on node n2: no pool\n")


def test_json_document_keeps_its_keys_and_indent():
    pods = [PodAllocation("web", "web-0", "n1", "10.1.0.1", "a", "10.1.0.0/29")]
    out = to_json(result(pods))
    assert out.endswith("}\n") and out.startswith('{\n  "pods": [\n')
    data = json.loads(out)
    assert list(data) == ["pods", "blocks", "tunnels", "failures"]
    assert data["pods"] == [{"namespace": "web", "pod": "web-0", "node": "n1", "ip": "10.1.0.1",
                             "pool": "a", "block": "10.1.0.0/29"}]
    assert data["tunnels"][0]["type"] == "vxlan"
