"""``plan --format html``: the live blocks with the plan's changes on top.

The cells are the snapshot's IPAMBlocks (the consumer: a script that holds
the snapshot, or ``calicoctl ipam show --show-blocks``); the marks are
Terraform's (+, ~, -/+, -); gates and migrations sit next to their pool.
"""
from __future__ import annotations

import dataclasses

import pytest
from fake_kube_api import api, no_real_backoff, write_kubeconfig  # noqa: F401  (fixtures)
from html_helpers import block_cells, parse, plan_every_change, run_cli

from ipam_model.core.cidr import ContainingIndex, parse_cidr
from ipam_model.core.ipreservation import ReservationSpec
from ipam_model.core.live_state import LiveReservation
from ipam_model.live.snapshot_file import load_snapshot
from ipam_model.plan.build import drift_plan
from ipam_model.views.html.plan import plan_model
from ipam_model.views.plan import Mode, PlanView, render

SNAPSHOT = "tests/data/live/cluster-v1.yaml"


def pool_sections(tree) -> dict[str, object]:
    return {s.get("id").removeprefix("pool-"): s for s in tree.iter("section")
            if (s.get("id") or "").startswith("pool-")}


def snapshot_cells(live) -> list[dict]:
    """The snapshot's blocks as the page must show them: per pool in the page's
    order, then the blocks inside no pool; each group in CIDR order."""
    index = ContainingIndex((p.spec.cidr, p.name) for p in live.pools.values())
    by_pool: dict[str | None, list] = {}
    for b in live.blocks:
        by_pool.setdefault(index.find(b.cidr), []).append(b)
    return by_pool


def test_every_change_is_marked_as_terraform_marks_it():
    declared, live, plan = plan_every_change()
    page = render(PlanView(plan, live=live, stack=declared), "html")
    sections = pool_sections(parse(page))
    assert list(sections) == ["big", "new", "old", "web", "default-ipv4-ippool"]

    def tag(name):
        span = next(e for e in sections[name].iter("span") if "tag" in (e.get("class") or ""))
        return span.get("class").split()[1], "".join(span.itertext())

    assert tag("new") == ("create", "+ create")
    assert tag("web") == ("update", "~ update in-place")
    assert tag("big") == ("replace", "-/+ replace")
    assert tag("old") == ("delete", "- delete")
    assert tag("default-ipv4-ippool") == ("unmanaged", "not managed by this stack")
    assert "greyed" in sections["default-ipv4-ippool"].get("class")
    assert "natOutgoing: false → true" in "".join(sections["web"].itertext())
    assert "blockSize: 26 → 28 (forces replacement)" in "".join(sections["big"].itertext())


def test_gates_and_their_migration_sit_next_to_the_pool():
    declared, live, plan = plan_every_change()
    sections = pool_sections(parse(render(PlanView(plan, live=live, stack=declared), "html")))
    notices = [e for e in sections["big"].iter("div") if "notice" in (e.get("class") or "")]
    gate = next(n for n in notices if "error" in n.get("class"))
    text = "".join(gate.itertext())
    assert text.startswith("CIP601 immutable-field-change")
    assert "Migration: change IP pool block size" in text
    assert "calicoctl patch ippool big --patch" in text  # the steps' commands, in <pre>
    assert not any("error" in n.get("class") for s in ("web", "new", "old")
                   for n in sections[s].iter("div") if "notice" in (n.get("class") or ""))
    model = plan_model(plan, live, title="calico-ipam plan", summary=(), stack=declared)
    assert [n.kind for p in model.pools if p.name == "big" for n in p.notices][:1] == ["error"]


def test_cells_are_the_live_blocks_per_pool_and_the_blocks_in_no_pool():
    declared, live, plan = plan_every_change()
    tree = parse(render(PlanView(plan, live=live, stack=declared), "html"))
    page_cells = block_cells(tree)
    by_pool = snapshot_cells(live)
    order = ["big", "new", "old", "web", "default-ipv4-ippool", None]
    expected = [{"cidr": b.cidr, "node": b.node or "", "allocated": b.allocated, "size": b.size}
                for pool in order for b in sorted(by_pool.get(pool, []),
                                                  key=lambda b: parse_cidr(b.cidr).first)]
    assert page_cells == expected
    loose = next(s for s in tree.iter("section") if s.get("aria-labelledby") == "loose-h")
    assert [e.get("data-cidr") for e in loose.iter() if e.get("data-cidr")] == ["10.99.0.0/26"]
    web = {e.get("data-cidr"): e for e in pool_sections(tree)["web"].iter() if e.get("data-cidr")}
    assert web["10.10.0.64/26"].get("data-borrowed") == "1"
    assert web["10.10.0.0/26"].get("data-tunnel") == "1 tunnel address"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_plan_command_draws_the_snapshots_blocks(stack, capsys):
    code, page = run_cli(capsys, "plan", "--stack", stack, "--snapshot", SNAPSHOT,
                         "--format", "html")
    assert code in (0, 1)
    live = load_snapshot(SNAPSHOT)
    expected = sorted((b.cidr, b.node or "", b.allocated, b.size) for b in live.blocks)
    cells = block_cells(parse(page))
    assert sorted((c["cidr"], c["node"], c["allocated"], c["size"]) for c in cells) == expected
    assert len(cells) == len(live.blocks) == 4
    # the snapshot's vxlan tunnel address (handle vxlan-tunnel-addr-node2) is marked
    tunnel = [c for c in parse(page).iter() if c.get("data-cidr") == "192.168.10.64/26"]
    assert tunnel[0].get("data-tunnel") == "1 tunnel address"


def test_plan_from_the_cluster_draws_the_same_blocks_as_its_snapshot(api, tmp_path, capsys):
    """The live usage comes from the cluster as well: the fake API serves the
    objects of the snapshot file, so the page's cells are the same blocks."""
    kubeconfig = write_kubeconfig(tmp_path, api.url)
    code, page = run_cli(capsys, "plan", "--stack", "dev", "--kubeconfig", str(kubeconfig),
                         "--context", "lab", "--format", "html")
    # the fake cluster serves only crd.projectcalico.org/v1: the plan is refused
    # (CIP612) and the page still draws the live blocks, the refusal next to them
    assert code == 1 and "CIP612 calico-api-mismatch" in page
    _, from_file = run_cli(capsys, "plan", "--stack", "dev", "--snapshot", SNAPSHOT,
                           "--format", "html")
    assert block_cells(parse(page)) == block_cells(parse(from_file))
    assert len(block_cells(parse(page))) == 4
    assert "<dt>live state</dt><dd>cluster 127.0.0.1:" in page


def test_plan_output_file_and_exit_code(tmp_path, capsys):
    target = tmp_path / "plan.html"
    code, out = run_cli(capsys, "plan", "--stack", "dev", "--snapshot", SNAPSHOT,
                        "--format", "html", "--output", str(target), "--detailed-exitcode")
    assert (code, out) == (0, "")
    page = target.read_text(encoding="utf-8")
    assert "No changes. The cluster matches stack dev: 2 pools (2 in use)" in page


def test_drift_mode_draws_the_live_pools_and_their_drift():
    declared, live, _ = plan_every_change()
    report = drift_plan(declared, live)
    page = render(PlanView(report, Mode.DRIFT, live=live, stack=declared), "html")
    assert "<h1>calico-ipam drift: stack dev</h1>" in page
    assert set(pool_sections(parse(page))) == set(live.pools)


def test_the_html_plan_needs_the_live_state():
    _, _, plan = plan_every_change()
    with pytest.raises(ValueError, match="live="):
        render(PlanView(plan), "html")


def test_the_live_reservations_are_marked_on_the_live_blocks():
    declared, live, plan = plan_every_change()
    live = dataclasses.replace(live, reservations={
        "gateways": LiveReservation("gateways", ReservationSpec(("10.20.0.0/30",)))})
    page = render(PlanView(plan, live=live, stack=declared), "html")
    cells = {c.get("data-cidr"): c for c in parse(page).iter() if c.get("data-cidr")}
    assert cells["10.20.0.0/26"].get("data-reserved").startswith("4 of 64 addresses (gateways ")
    assert not any(c.get("data-reserved") for k, c in cells.items() if k != "10.20.0.0/26")
