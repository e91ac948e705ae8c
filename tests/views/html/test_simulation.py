"""``simulate --format html``: the page's block cells are the run's blocks.

The consumer of ``data-cidr``/``data-node``/``data-allocated``/``data-size``
is a script or test holding ``simulate --format json`` of the same run; the
page is parsed with html5lib, the WHATWG parsing algorithm browsers use.
"""
from __future__ import annotations

import json
from collections import Counter

import pytest
from html_helpers import block_cells, json_blocks, parse, run_cli

from ipam_model.calico.ipam.from_stack import simulator_for_stack
from ipam_model.declared.build import stack_from_config
from ipam_model.declared.files import load_stack
from ipam_model.views.html import IpamShown, Reservation, simulation_model, simulation_page
from ipam_model.views.html.markup import tally
from ipam_model.views.simulation import Simulation

RUNS = {
    "dev": ["--stack", "dev"],
    "staging": ["--stack", "staging"],
    "prod": ["--stack", "prod"],
    "prod-3-nodes": ["--stack", "prod", "--nodes", "3"],
    "dev-strict": ["--stack", "dev", "--nodes", "12", "--strict-affinity"],
    # ten nodes share eight blocks: most of them borrow
    "dev-borrowing": ["--stack", "dev", "--nodes", "10", "--pods", "external-ns=30"],
}


def both(capsys, argv):
    code, out = run_cli(capsys, "simulate", *argv, "--format", "json")
    code_html, page = run_cli(capsys, "simulate", *argv, "--format", "html")
    assert code == code_html
    return json.loads(out), page


@pytest.mark.parametrize("run", sorted(RUNS))
def test_block_cells_are_the_json_blocks_of_the_same_run(run, capsys):
    data, page = both(capsys, RUNS[run])
    assert data["blocks"], "a run without blocks would prove nothing"
    assert block_cells(parse(page)) == json_blocks(data["blocks"])


def test_borrowed_tunnel_and_pod_marks_follow_the_run(capsys):
    data, page = both(capsys, RUNS["dev-borrowing"])
    affinity = {b["cidr"]: (b["affinity"] or "").removeprefix("host:") for b in data["blocks"]}
    # Borrowed: the address went to another node than the block's (calicoctl
    # ipam show --show-borrowed, calicoctl/commands/ipam/show.go:45-100).
    borrowed = Counter(p["block"] for p in data["pods"] if p["node"] != affinity[p["block"]])
    borrowed.update(t["block"] for t in data["tunnels"] if t["node"] != affinity[t["block"]])
    pods: dict[str, Counter] = {}
    for p in data["pods"]:
        pods.setdefault(p["block"], Counter())[p["namespace"]] += 1
    tunnels = {t["block"] for t in data["tunnels"]}
    cells = {e.get("data-cidr"): e for e in parse(page).iter() if e.get("data-cidr")}
    assert borrowed, "the scenario must borrow"
    for cidr, cell in cells.items():
        assert int(cell.get("data-borrowed") or 0) == borrowed[cidr], cidr
        assert ("bw" in cell.get("class").split()) == bool(borrowed[cidr])
        assert (cell.get("data-pods") or "") == tally(pods.get(cidr, {}))
        assert ("tu" in cell.get("class").split()) == (cidr in tunnels)


def test_every_block_position_of_a_small_pool_is_one_cell(capsys):
    _, page = both(capsys, RUNS["dev"])
    tree = parse(page)
    for section in tree.iter("section"):
        if section.get("id") == "pool-internal-pool":
            cells = [e for e in section.iter() if e.get("role") == "gridcell"]
            claimed = [e for e in cells if e.get("data-cidr")]
            assert len(cells) == 32 and len(claimed) == 3  # 192.169.0.0/24 in /29 blocks
            assert [e.get("data-cidr") or e.get("data-slot") for e in cells][:2] == [
                "192.169.0.0/29", "192.169.0.8/29"]
            break
    else:
        pytest.fail("no section for pool internal-pool")


def test_a_pool_of_16384_blocks_is_drawn_as_256_zoomable_ranges(capsys):
    data, page = both(capsys, RUNS["prod"])
    tree = parse(page)
    section = next(s for s in tree.iter("section") if s.get("id") == "pool-prod-default-v6")
    top = next(e for e in section.iter() if e.get("role") == "grid")
    ranges = [e for e in top.iter() if e.get("data-range")]
    assert len(ranges) == 256 and ranges[0].get("data-range") == "fd00:20:128::/116"
    v6 = [b for b in data["blocks"] if b["pool"] == "prod-default-v6"]
    assert sum(int(r.get("data-claimed")) for r in ranges) == len(v6)
    assert sum(int(r.get("data-used")) for r in ranges) == sum(b["allocated"] for b in v6)
    templates = {t.get("id"): t for t in section.iter("template")}
    zoom = [r.get("data-zoom") for r in ranges if r.get("data-zoom")]
    assert zoom and set(zoom) == set(templates)  # exactly the ranges holding blocks zoom
    for r in ranges:
        if r.get("data-zoom"):
            inner = [e.get("data-cidr") for e in templates[r.get("data-zoom")].iter()
                     if e.get("data-cidr")]
            assert len(inner) == int(r.get("data-claimed"))


def test_the_forecast_ipam_settings_and_node_groups_are_on_the_page(capsys):
    _, page = both(capsys, RUNS["prod"])
    assert "runs out: payments: 904 more pods before one fails" in page
    assert "IPAM configuration</dt><dd>strictAffinity false, maxBlocksPerHost 0 (Calico default " \
           "20)" in page
    for group in ("general-a", "general-b", "gpu"):
        assert f"<b>{group}</b>" in page
    assert "(calico-ipam:ipamConfig of stack prod)" in page
    _, strict = both(capsys, RUNS["dev-strict"])
    assert "strictAffinity true" in strict and "(strictAffinity from --strict-affinity)" in strict


def test_the_stacks_reservations_are_marked_and_counted(capsys):
    """stacks/Pulumi.prod.yaml reserves 10.129.16.0/29 (payments-gateways): the
    block holding it is marked, its size counts the reserved addresses as
    ``simulate --format json`` does (allocated + free + reserved), and the
    pool's bar has a reserved share."""
    data, page = both(capsys, RUNS["prod"])
    held = [b for b in data["blocks"] if b["reserved"]]
    assert held and all(b["pool"].startswith("prod-payments") for b in held)
    cells = {c.get("data-cidr"): c for c in parse(page).iter() if c.get("data-cidr")}
    for b in held:
        size = b["allocated"] + b["free"] + b["reserved"]
        assert int(cells[b["cidr"]].get("data-size")) == size
        assert cells[b["cidr"]].get("data-reserved").startswith(
            f"{b['reserved']} of {size} addresses (payments-gateways ")
    assert page.count('class="r">reserved 8 (&lt;1%)') == 2  # payments v4 and v6


def test_refused_allocations_are_listed_with_calicos_message(capsys):
    argv = ["--stack", "dev", "--node", "node1", "--pods", "external-ns=70", "--strict-affinity"]
    code, page = run_cli(capsys, "simulate", *argv, "--format", "html")
    assert code == 1
    assert "allocations would fail</h2>" in page
    assert "No more free affine blocks and strict affinity enabled" in page


def test_names_from_the_command_line_stay_text(capsys):
    hostile = '<img src=x onerror="alert(1)">'
    code, page = run_cli(capsys, "simulate", "--stack", "dev", "--node", hostile,
                         "--pods", "external-ns=2", "--format", "html")
    tree = parse(page)
    assert code == 0 and not list(tree.iter("img"))
    assert {e.get("data-node") for e in tree.iter() if e.get("data-cidr")} == {hostile}


def test_output_file_is_written_whole(tmp_path, capsys):
    target = tmp_path / "dev.html"
    code, out = run_cli(capsys, "simulate", "--stack", "dev", "--format", "html",
                        "--output", str(target))
    assert code == 0 and out == ""
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["dev.html"]  # no temporary file left


# -- reserved ranges (hand-built: IPReservations come with issue 10) -----------------

def reserved_run(reservations):
    stack = load_stack("stacks/Pulumi.dev.yaml", "dev")
    sim = simulator_for_stack(stack)
    sim.add_node("node1")
    for i in range(3):
        sim.allocate("external-ns", f"web-{i}", "node1")
    result = Simulation(tuple(sim.pods()), tuple(sim.blocks()), tuple(sim.tunnels()), (),
                        tuple(stack.pools[n] for n in sorted(stack.pools)), sim.pool_usage())
    ipam = IpamShown(False, 0, "test")
    return stack, result, simulation_model(result, stack, nodes=[("node1", None)], ipam=ipam,
                                           reservations=reservations), ipam


def test_reserved_ranges_are_marked_on_cells_and_counted_in_the_bar():
    reservations = [Reservation("gateways", ("172.16.0.32/31",)),
                    Reservation("spare", ("172.16.0.48/28", "10.99.0.0/24"))]
    stack, result, model, ipam = reserved_run(reservations)
    pool = next(p for p in model.pools if p.name == "external-pool")
    assert [(n, c.text) for n, c in pool.reserved] == [("gateways", "172.16.0.32/31"),
                                                       ("spare", "172.16.0.48/28")]
    # node1's block 172.16.0.32/29 holds the tunnel and three pods. Calico never hands out a
    # reserved address (the simulator does not model reservations yet), so the two reserved
    # addresses of the block count as reserved, not as stranded: 8 = 4 used + 2 + 2.
    u = pool.utilisation
    assert (u.used, u.stranded, u.reserved, u.free) == (4, 2, 2 + 16, 64 - 8 - 16)
    page = simulation_page(result, stack, nodes=[("node1", None)], ipam=ipam,
                           reservations=reservations)
    cells = {e.get("data-cidr") or e.get("data-slot"): e for e in parse(page).iter()
             if e.get("role") == "gridcell"}
    assert "rs" in cells["172.16.0.32/29"].get("class").split()
    assert cells["172.16.0.32/29"].get("data-reserved") == "2 of 8 addresses (gateways " \
                                                          "172.16.0.32/31)"
    for slot in ("172.16.0.48/29", "172.16.0.56/29"):
        assert "rf" in cells[slot].get("class").split()
    assert "rs" not in cells["172.16.0.40/29"].get("class")
    assert "Reserved: <code>172.16.0.32/31</code> (gateways)" in page


def test_a_reservation_that_is_not_a_cidr_is_refused():
    with pytest.raises(ValueError, match="reservation bad: '10.0.0.1' is not a CIDR"):
        reserved_run([Reservation("bad", ("10.0.0.1",))])


def test_a_stack_without_pools_gives_a_page_without_pools():
    stack = stack_from_config("empty", {"pools": {}})
    result = Simulation((), (), (), (), (), {})
    page = simulation_page(result, stack, nodes=[], ipam=IpamShown(False, 0, "test"))
    assert "No node holds a block." in page and 'class="box pool' not in page


def test_pools_that_fail_check_are_named_not_drawn():
    """Calico would refuse such a pool (here CIP105: smaller than one block), so
    the run has none of its blocks; the page says which and why."""
    stack = stack_from_config("bad", {"pools": {
        "tiny": {"cidr": "10.0.0.0/28", "blockSize": 26},
        "ok": {"cidr": "10.1.0.0/24", "blockSize": 26}}})
    result = Simulation((), (), (), (), tuple(stack.pools.values()), {})
    tree = parse(simulation_page(result, stack, nodes=[], ipam=IpamShown(False, 0, "test")))
    assert [s.get("id") for s in tree.iter("section") if s.get("id")] == ["pool-ok"]
    box = next(s for s in tree.iter("section") if "section-error" in (s.get("class") or ""))
    assert "".join(box.find("h2").itertext()) == (
        "1 pool not drawn: it fails check (calico-ipam check --stack bad)")
    assert "".join(box.find("ul").itertext()).startswith(
        "pool tiny (10.0.0.0/28): CIP105 pool-smaller-than-block: pool tiny: cidr 10.0.0.0/28")
