"""Golden outputs of the plan report (text and JSON) for every change type and gate.

Regenerate after an intended change: UPDATE_GOLDEN=1 pytest tests/views/test_plan.py
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from ipam_model.plan.planner import build_plan
from ipam_model.views.plan import PlanView, render, summary_line, to_json_data
from test_plan import WEB, V4, live, live_pool, stack, used

DATA = Path(__file__).resolve().parents[1] / "data" / "plan"


def scenarios():
    yield "create", stack({"web": WEB}), live()
    # The stack was edited after WEB was applied: a proposed change, not drift.
    yield "update", stack({"web": dict(WEB, natOutgoing=True)}), live(
        [live_pool("web", WEB, applied=WEB)], usage={"web": used(4)})
    yield "replace", stack({"web": dict(WEB, blockSize=28)}), live(
        [live_pool("web", WEB, applied=WEB)])
    yield "delete", stack({"web": WEB}, retainOnDelete=False), live(
        [live_pool("web", WEB), live_pool("old", {"cidr": "10.20.0.0/24"})])
    yield "forget", stack({"web": WEB}), live(
        [live_pool("web", WEB), live_pool("old", {"cidr": "10.20.0.0/24"})])
    yield "noop", stack({"web": WEB}, {"web": {"ipv4Pools": ["web"]}}), live(
        [live_pool("web", WEB), live_pool("default-ipv4-ippool", {"cidr": "192.168.0.0/16"},
                                          "tigera-operator")],
        {"web": {V4: '["web"]'}}, {"web": used(3)})
    yield "namespace", stack({"web": WEB}, {"web": {"ipv4Pools": ["web"]}}), live(
        [live_pool("web", WEB)], {"web": {}}, {"web": used(2)})
    yield "gate-cip601", stack({"web": dict(WEB, blockSize=28)}, {"web": {"ipv4Pools": ["web"]}},
                               nodeCidrs=["10.0.0.0/24"]), live(
        [live_pool("web", WEB)], {"web": {V4: '["web"]'}}, {"web": used(12)})
    yield "gate-cip602", stack({"web": WEB}, retainOnDelete=False), live(
        [live_pool("web", WEB), live_pool("old", {"cidr": "10.20.0.0/24"})],
        usage={"old": used(7, "db")})
    yield "gate-cip603", stack({"web": dict(WEB, disabled=True)}, {"web": {"ipv4Pools": ["web"]}}), \
        live([live_pool("web", WEB)], {"web": {V4: '["web"]'}})
    yield "gate-cip604", stack({"web": WEB}, {"web": {"ipv4Pools": ["legacy"]}}), live(
        [live_pool("web", WEB), live_pool("legacy", {"cidr": "10.50.0.0/24", "disabled": True},
                                          "other")], {"web": {V4: '["web"]'}})
    yield "gate-cip605", stack({"web": WEB}, {"web": {"ipv4Pools": ["web"]}}), live(
        [live_pool("web", WEB)])
    # natOutgoing true was applied, then turned off by hand: drift, and the plan
    # turns it back on. The namespace differs from its binding, which without a
    # record is a proposed change.
    yield "drift", stack({"web": dict(WEB, natOutgoing=True)}, {"web": {"ipv4Pools": ["web"]}}), \
        live([live_pool("web", WEB, applied=dict(WEB, natOutgoing=True))],
             {"web": {V4: '["web", "x"]'}})
    yield "drift-invalid-record", stack({"web": WEB}), live(
        [live_pool("web", WEB, applied='{"cidr": "10.10.0.0/24", "blockSize": 2')])
    # check's verdicts: an error refuses the plan, a warning is listed.
    yield "check-error", stack({"web": WEB, "big": {"cidr": "10.20.0.0/24", "blockSize": 33}},
                               {"web": {"ipv4Pools": ["web"]}}), live(
        [live_pool("web", WEB, applied=WEB)], {"web": {V4: '["web"]'}})
    yield "check-warning", stack({"web": {"cidr": "192.169.0.0/24"}}), live(
        [live_pool("web", {"cidr": "192.169.0.0/24"}, applied={"cidr": "192.169.0.0/24"})])
    yield "live-overlap", stack({"web": WEB}), live(
        [live_pool("stray", {"cidr": "10.10.0.128/25"}, "other")])


CASES = {name: (s, lv) for name, s, lv in scenarios()}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("fmt,ext", [("text", "txt"), ("json", "json")])
def test_golden(name, fmt, ext):
    s, lv = CASES[name]
    out = render(PlanView(build_plan(s, lv)), fmt)
    golden = DATA / f"{name}.{ext}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(out)
    assert out == golden.read_text()


def test_terraform_grammar_markers():
    text = render(PlanView(build_plan(*CASES["update"])), "text")
    assert "# ippool/web will be updated in-place" in text
    assert "~ natOutgoing = false -> true" in text
    assert "# (9 unchanged attributes hidden)" in text
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in text
    replace = render(PlanView(build_plan(*CASES["replace"])), "text")
    assert "-/+ ippool \"web\"" in replace and "# forces replacement" in replace
    assert summary_line(build_plan(*CASES["noop"])) == "No changes. The cluster matches stack dev."


def test_json_actions_follow_terraform():
    actions = {}
    for name in ("create", "update", "replace", "delete", "noop"):
        data = to_json_data(build_plan(*CASES[name]))
        actions[name] = [c["change"]["actions"] for c in data["resource_changes"]
                         if c["address"] in ("ippool/web", "ippool/old")]
    assert actions["create"] == [["create"]]
    assert actions["update"] == [["update"]]
    assert actions["replace"] == [["delete", "create"]]
    assert ["delete"] in actions["delete"]
    assert actions["noop"] == [["no-op"]]
    data = to_json_data(build_plan(*CASES["gate-cip601"]))
    (error,) = data["errors"]
    assert error["rule"] == "CIP601" and len(error["migration"]["steps"]) >= 8
    change = [c for c in data["resource_changes"] if c["address"] == "ippool/web"][0]
    assert change["change"]["replace_paths"] == [["blockSize"]]
    assert change["in_use"]["allocated"] == 12


def test_markdown_and_github_carry_errors_and_migration():
    plan = build_plan(*CASES["gate-cip601"])
    md = render(PlanView(plan), "markdown")
    assert "### Errors" in md and "CIP601" in md and "calicoctl ipam show --show-blocks" in md
    gh = render(PlanView(plan), "github")
    first = gh.splitlines()[0]
    assert first.startswith("::error file=stacks/Pulumi.dev.yaml,") and "CIP601" in first
    assert "%0A" in first  # the migration rides along, newline-escaped
