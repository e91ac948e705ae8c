"""Golden outputs of the plan report (text and JSON) for every change type and gate.

Regenerate after an intended change: UPDATE_GOLDEN=1 pytest tests/views/test_plan.py
"""
from __future__ import annotations

import importlib
import json
import os
import pkgutil
import re
from pathlib import Path

import jsonschema
import pytest
from plan_helpers import V4, WEB, live, live_pool, stack, used
from terraform_json import TerraformJSONError, unmarshal_plan

import ipam_model.views.plan as plan_views
from ipam_model.catalogue import rule
from ipam_model.cli import main
from ipam_model.core.live_state import LiveBlock
from ipam_model.core.model import API_V3, Location, Severity, frozen_map
from ipam_model.declared.files import load_stack
from ipam_model.live.normalise import build_live_state
from ipam_model.live.snapshot_file import load_snapshot
from ipam_model.plan.build import build_plan
from ipam_model.plan.build import drift_plan as drift_report
from ipam_model.plan.model import DriftItem, Plan
from ipam_model.views.plan import (
    FORMATS,
    Mode,
    PlanView,
    drift_count,
    render,
    summary_line,
    to_json_data,
)
from ipam_model.views.plan.json import RESOURCE_TYPES

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
    # A pool deleted while in use (by hand, or its CIDR changed by a raw CRD
    # write): its blocks lie outside every pool, CIP610.
    yield "orphan-blocks", stack({"web": WEB}), build_live_state(
        "test snapshot", API_V3, [live_pool("web", WEB, applied=WEB)], (), (), (
            LiveBlock("10.10.0.0/26", "host:node1", 64, 2, frozen_map({"web": 2})),
            LiveBlock("10.99.0.0/26", "host:node2", 64, 3, frozen_map({"old": 3})),
            LiveBlock("fd00:99::/122", None, 64, 1)), ())


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
    assert summary_line(build_plan(*CASES["noop"])) == (
        "No changes. The cluster matches stack dev: 1 pool (1 in use) and 1 namespace binding "
        "unchanged.")


def _changes_of(data: dict, *names: str) -> list[dict]:
    return [c for c in data["resource_changes"] if c["calico_ipam"]["address"] in names]


def test_json_actions_follow_terraform():
    actions = {}
    for name in ("create", "update", "replace", "delete", "noop", "forget"):
        data = to_json_data(build_plan(*CASES[name]))
        actions[name] = [c["change"]["actions"] for c in _changes_of(data, "ippool/web",
                                                                     "ippool/old")]
    assert actions["create"] == [["create"]]
    assert actions["update"] == [["update"]]
    assert actions["replace"] == [["delete", "create"]]
    assert ["delete"] in actions["delete"]
    assert actions["noop"] == [["no-op"]]
    assert ["forget"] in actions["forget"]
    data = to_json_data(build_plan(*CASES["gate-cip601"]))
    (error,) = data["calico_ipam"]["errors"]
    assert error["rule"] == "CIP601" and len(error["migration"]["steps"]) >= 8
    (change,) = _changes_of(data, "ippool/web")
    assert change["change"]["replace_paths"] == [["blockSize"]]
    assert change["action_reason"] == "replace_because_cannot_update"
    assert change["calico_ipam"]["in_use"]["allocated"] == 12
    assert data["errored"] is True and data["applyable"] is False


@pytest.mark.parametrize("name", sorted(CASES))
def test_json_is_a_plan_terraform_json_accepts(name):
    """hashicorp/terraform-json's Unmarshal (tests/terraform_json.py, written from
    plan.go, state.go and action.go) is what Go tools reading Terraform plans use."""
    data = json.loads(render(PlanView(build_plan(*CASES[name])), "json"))
    unmarshal_plan(data)
    for change in data["resource_changes"] + data["resource_drift"]:
        assert change["mode"] == "managed" and change["provider_name"] == "calico-ipam"
        assert change["type"] == RESOURCE_TYPES[change["name"]]
        assert change["address"] == (f'{change["type"]}.{change["name"]}'
                                     f'[{json.dumps(change["index"])}]')
        assert set(change["change"]) >= {"actions", "before", "after", "after_unknown"}


def documented_plan_schema() -> dict:
    text = (Path(__file__).resolve().parents[2] / "docs" / "plan-json.md").read_text()
    return json.loads(re.search(r"```json-schema\n(.*?)```", text, re.S).group(1))


@pytest.mark.parametrize("name", sorted(CASES))
def test_json_matches_the_documented_schema(name):
    data = json.loads(render(PlanView(build_plan(*CASES[name])), "json"))
    jsonschema.Draft202012Validator(documented_plan_schema()).validate(data)
    drift = json.loads(render(PlanView(drift_report(*CASES[name]), Mode.DRIFT), "json"))
    jsonschema.Draft202012Validator(documented_plan_schema()).validate(drift)
    unmarshal_plan(drift)


def test_terraform_json_refuses_what_it_should():
    """The validator fails where terraform-json fails, so the test above can fail."""
    good = to_json_data(build_plan(*CASES["update"]))
    for bad_version in ("2.0", "", "0.0.9", "1.2-beta1", "one"):
        with pytest.raises(TerraformJSONError):
            unmarshal_plan({**good, "format_version": bad_version})
    wrong_type = json.loads(json.dumps(good))
    wrong_type["resource_changes"][0]["change"]["actions"] = "update"
    with pytest.raises(TerraformJSONError, match="cannot unmarshal"):
        unmarshal_plan(wrong_type)
    wrong_type = json.loads(json.dumps(good))
    wrong_type["planned_values"]["root_module"]["resources"][0]["schema_version"] = -1
    with pytest.raises(TerraformJSONError):
        unmarshal_plan(wrong_type)
    with pytest.raises(TerraformJSONError, match="Actions"):
        unmarshal_plan({**good, "resource_changes": [
            {**good["resource_changes"][0], "change": {"actions": ["replace"]}}]})
    assert unmarshal_plan({**good, "format_version": "0.1", "unknown_key": [1]})


def test_json_planned_values_hold_every_object_the_plan_leaves():
    data = to_json_data(build_plan(*CASES["delete"]))
    deleted = {c["index"] for c in data["resource_changes"] if c["change"]["actions"] == ["delete"]}
    planned = {r["index"] for r in data["planned_values"]["root_module"]["resources"]}
    assert deleted and not deleted & planned
    kept = {c["index"] for c in data["resource_changes"]
            if c["change"]["actions"] != ["delete"]}
    assert kept == planned


def test_json_drift_is_terraforms_resource_drift():
    data = to_json_data(build_plan(*CASES["drift"]))
    assert data["resource_drift"]
    for item in data["resource_drift"]:
        extra = item["calico_ipam"]
        assert item["change"]["actions"] in (["update"], ["delete"], ["create"])
        if item["change"]["actions"] == ["update"]:
            assert item["change"]["before"] == {c["path"]: c["applied"] for c in extra["changes"]}
            assert item["change"]["after"] == {c["path"]: c["live"] for c in extra["changes"]}


def test_markdown_and_github_carry_errors_and_migration():
    plan = build_plan(*CASES["gate-cip601"])
    md = render(PlanView(plan), "markdown")
    assert "### Errors" in md and "CIP601" in md and "calicoctl ipam show --show-blocks" in md
    gh = render(PlanView(plan), "github")
    first = gh.splitlines()[0]
    assert first.startswith("::error file=stacks/Pulumi.dev.yaml,") and "CIP601" in first
    assert "%0A" in first  # the migration rides along, newline-escaped


# --------------------------------------------------------------------------- the registry

NOT_FORMATS = {"view", "migration", "safety"}


def test_every_format_module_of_the_package_is_registered_in_order():
    """A module added to views/plan/ without NAME/ORDER/render fails here."""
    modules = {info.name for info in pkgutil.iter_modules(plan_views.__path__)}
    assert modules - NOT_FORMATS == set(FORMATS)
    assert list(FORMATS) == ["text", "json", "markdown", "github", "html"]
    for name, render_format in FORMATS.items():
        assert render_format is importlib.import_module(f"ipam_model.views.plan.{name}").render


def test_unknown_plan_format_is_refused():
    with pytest.raises(ValueError, match="github"):
        render(PlanView(build_plan(*CASES["noop"])), "sarif")


# --------------------------------------------------------------------------- drift mode

def drift_view(name: str) -> PlanView:
    return PlanView(drift_report(*CASES[name]), Mode.DRIFT)


def test_drift_mode_text_writes_its_own_heading_and_summary():
    view = drift_view("drift")
    lines = render(view, "text").splitlines()
    assert lines[0] == "calico-ipam drift: stack dev against test snapshot"
    assert lines[-1] == "Drift: 2 objects changed outside calico-ipam."
    # the body is the plan view's: only the mode decides the heading and verdict
    plan_lines = render(PlanView(view.plan), "text").splitlines()
    assert plan_lines[0] == "calico-ipam plan: stack dev against test snapshot"
    assert plan_lines[-1] == "No changes. The cluster matches stack dev."
    assert lines[1:-1] == plan_lines[1:-1]
    no_drift = render(drift_view("noop"), "text").splitlines()
    assert no_drift[-1] == "No drift. The cluster matches stack dev."
    assert not [line for line in no_drift if line.startswith(("No changes", "Plan:"))]


def test_drift_mode_counts_a_missing_namespace_and_never_says_refused():
    view = drift_view("gate-cip605")
    text = render(view, "text")
    assert drift_count(view.plan) == 1 and "Error: CIP605 namespace-missing" in text
    assert text.endswith("\nDrift: 1 object changed outside calico-ipam.\n")
    assert "Refused" not in text
    assert "Refused: 1 error" in render(PlanView(view.plan), "text")


def test_drift_mode_markdown_heading_and_summary():
    md = render(drift_view("drift"), "markdown").splitlines()
    assert md[0] == "## calico-ipam drift: stack `dev` (drift)"
    assert "**Drift: 2 objects changed outside calico-ipam.**" in md
    md = render(drift_view("noop"), "markdown").splitlines()
    assert md[0] == "## calico-ipam drift: stack `dev` (no drift)"
    assert "**No drift. The cluster matches stack dev.**" in md
    assert not [line for line in md if "calico-ipam plan" in line or "No changes" in line]


def test_drift_mode_github_ends_with_the_drift_notice():
    gh = render(drift_view("drift"), "github").splitlines()
    assert gh[-1] == "::notice title=calico-ipam drift dev::Drift: 2 objects changed outside " \
                     "calico-ipam."
    assert [line.split(" ", 1)[0] for line in gh[:-1]] == ["::warning", "::warning"]
    assert render(drift_view("noop"), "github") == \
        "::notice title=calico-ipam drift dev::No drift. The cluster matches stack dev.\n"


def test_blocks_outside_every_pool_are_drift_too():
    """CIP610 in drift mode: the golden shows what the nightly job prints."""
    view = drift_view("orphan-blocks")
    text = render(view, "text")
    golden = DATA / "orphan-blocks.drift.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()
    assert drift_count(view.plan) == 1
    assert [f.rule for f in view.plan.findings] == ["CIP610"]


def test_json_is_the_same_in_both_modes():
    view = drift_view("drift")
    assert render(view, "json") == render(PlanView(view.plan), "json")


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "github"])
def test_drift_command_writes_the_drift_view_unchanged(fmt, capsys, monkeypatch):
    """calico-ipam drift prints what the view renders: no text is patched afterwards."""
    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    snapshot = "tests/data/plan/snapshot.json"
    code = main(["drift", "--stack", "dev", "--snapshot", snapshot, "--format", fmt])
    report = drift_report(load_stack(root / "stacks" / "Pulumi.dev.yaml", "dev"),
                          load_snapshot([snapshot]))
    assert capsys.readouterr().out == render(PlanView(report, Mode.DRIFT), fmt)
    assert code == (2 if drift_count(report) else 0)


# --------------------------------------------------------------------------- escaping and limits

def findings(severity: Severity, count: int) -> list:
    return [rule("CIP612").finding(f"finding {i}", f"pool/p{i}",
                                   Location("stacks/Pulumi.dev.yaml", ("config",), i + 1, 1),
                                   stack="dev", severity=severity) for i in range(count)]


def bare_plan(found=(), drift=()) -> Plan:
    return Plan("dev", "stacks/Pulumi.dev.yaml", "test snapshot", (), (), (), (),
                tuple(found), tuple(drift))


@pytest.mark.parametrize("mode", list(Mode))
def test_github_stays_within_ten_per_level_counting_its_own_notices(mode):
    plan = bare_plan(findings(Severity.WARNING, 12) + findings(Severity.INFO, 10))
    lines = render(PlanView(plan, mode), "github").splitlines()
    levels = [line[2:].split(" ", 1)[0] for line in lines]
    assert levels.count("warning") == 10
    # 8 findings, the count notice and the summary: GitHub shows all 10
    assert levels.count("notice") == 10
    assert lines[-2] == ("::notice title=calico-ipam%3A findings not shown::4 more findings not "
                         "shown as annotations (0 errors, 2 warnings, 2 notes); GitHub shows "
                         "at most 10 per level and step. The job summary (--format markdown) "
                         "lists them all.")
    assert lines[-1].startswith(f"::notice title=calico-ipam {mode.value} dev::")


def test_github_nine_notices_and_the_summary_fit_without_a_count_notice():
    lines = render(PlanView(bare_plan(findings(Severity.INFO, 9))), "github").splitlines()
    assert len(lines) == 10 and "findings not shown" not in "".join(lines)
    lines = render(PlanView(bare_plan(findings(Severity.INFO, 10))), "github").splitlines()
    assert len(lines) == 10 and "2 more findings not shown" in lines[-2]


def test_markdown_escapes_plan_text_as_check_does():
    item = DriftItem("ippool/web", "changed", "a|b <c> \\d\ne", finding=None)
    error = rule("CIP605").finding("x <y>", "namespace/web", Location(), stack="dev")
    md = render(PlanView(bare_plan([error], [item])), "markdown")
    assert "- `ippool/web`: a\\|b &lt;c&gt; \\\\d<br>e" in md.splitlines()
    assert "- **CIP605 namespace-missing** (&lt;input&gt;): x &lt;y&gt;" in md.splitlines()


def test_text_colour_is_terraforms_and_only_decorates():
    for name in ("create", "update", "replace", "delete", "gate-cip601", "drift"):
        plan = build_plan(*CASES[name])
        plain = render(PlanView(plan), "text")
        coloured = render(PlanView(plan, color=True), "text")
        assert "\x1b[" not in plain
        assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain
    create = render(PlanView(build_plan(*CASES["create"]), color=True), "text")
    assert '\x1b[32m+\x1b[0m ippool "web"' in create and "\x1b[32m+\x1b[0m cidr" in create
    update = render(PlanView(build_plan(*CASES["update"]), color=True), "text")
    assert "\x1b[33m~\x1b[0m natOutgoing" in update
    refused = render(PlanView(build_plan(*CASES["gate-cip601"]), color=True), "text")
    assert "\x1b[1;31mError:\x1b[0m CIP601" in refused
    assert "\x1b[31m-\x1b[0m/\x1b[32m+\x1b[0m ippool" in refused


def test_unchanged_pools_in_use_are_counted_and_listed_on_request():
    plan = build_plan(*CASES["noop"])
    text = render(PlanView(plan), "text")
    assert "Pools in use (unchanged)" not in text
    assert text.rstrip().endswith("No changes. The cluster matches stack dev: 1 pool (1 in use) "
                                  "and 1 namespace binding unchanged.")
    listed = render(PlanView(plan, show_unchanged=True), "text")
    assert "Pools in use (unchanged):\n  ippool/web" in listed
